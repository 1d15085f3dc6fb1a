# -*- coding: utf-8 -*-
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What a certificate is and what a task wants it to be, and the decision between them.

For internal collection use only: names and behaviour may change without notice.

The counterpart of _secret_state.py: the state of a certificate version, its conversion from the
SDK's objects, the plan for ``state: present`` and the dictionaries the modules return. Policies
themselves (parsing, checks, comparison) are in _cert_policy.py, the X.509 and key material in
_cert_material.py.
"""

import base64
import collections
import textwrap

from ansible_collections.keyvault.azure.plugins.module_utils._cert_material import parse_der_certificate
from ansible_collections.keyvault.azure.plugins.module_utils._cert_policy import (
    IMPORT_REISSUE_FIELDS,
    POLICY_FIELDS,
    REISSUE_FIELDS,
    SAN_FIELDS,
    SELF_ISSUER,
    UNKNOWN_ISSUER,
    changed_policy_fields,
    empty_policy,
    enum_text,
    merged_policy,
    policy_from_sdk,
    with_service_defaults,
)
from ansible_collections.keyvault.azure.plugins.module_utils._object_state import ObjectState, deleted_fields
from ansible_collections.keyvault.azure.plugins.module_utils._tags import normalize_tags
from ansible_collections.keyvault.azure.plugins.module_utils._time import datetime_to_timestamp, format_timestamp

VERSION_PROPERTIES = ('enabled', 'tags')


CertificatePlan = collections.namedtuple('CertificatePlan', ['action', 'policy_fields', 'property_fields', 'reasons'])
CertificatePlan.__doc__ = """The decision for ``state: present``.

``action`` is ``create`` (no certificate yet), ``import`` (import the given material as a new
version), ``new_version`` (make a new version with the updated policy), ``update`` (update the
policy and/or the current version's enabled/tags in place) or ``none``. ``policy_fields`` are the
policy fields that differ, ``property_fields`` the version properties that differ, ``reasons``
says in words why a new version is made.
"""


class CertificateState(ObjectState):
    """A certificate version as the vault describes it, or as a task's outcome is predicted.

    ``issued`` is false for a version whose creation has not completed (it has no X.509 certificate
    yet). ``policy`` is the certificate's policy (a dictionary of POLICY_FIELDS).
    """

    KIND = 'certificate'
    FIELDS = ('name', 'id', 'version', 'issued', 'thumbprint', 'x5t', 'enabled', 'tags', 'not_before', 'expires', 'created',
              'updated', 'recovery_level', 'recoverable_days', 'subject', 'sans', 'secret_id', 'key_id', 'policy')


def state_from_properties(properties, **fields):
    """CertificateState from the SDK's CertificateProperties (what lists return: no policy, no X.509 details)."""
    thumbprint_bytes = properties.x509_thumbprint
    state = dict(
        name=properties.name,
        id=properties.id,
        version=properties.version,
        issued=bool(thumbprint_bytes),
        thumbprint=bytes(thumbprint_bytes).hex().upper() if thumbprint_bytes else None,
        x5t=base64.urlsafe_b64encode(bytes(thumbprint_bytes)).rstrip(b'=').decode('ascii') if thumbprint_bytes else None,
        enabled=properties.enabled,
        tags=normalize_tags(properties.tags) or {},
        not_before=datetime_to_timestamp(properties.not_before),
        expires=datetime_to_timestamp(properties.expires_on),
        created=datetime_to_timestamp(properties.created_on),
        updated=datetime_to_timestamp(properties.updated_on),
        recovery_level=enum_text(properties.recovery_level),
        recoverable_days=properties.recoverable_days,
    )
    state.update(fields)
    return CertificateState(**state)


def state_from_certificate(certificate):
    """CertificateState from the SDK's KeyVaultCertificate (or DeletedCertificate): with policy and X.509 details."""
    cer = certificate.cer
    described = parse_der_certificate(cer) if cer else {}
    return state_from_properties(
        certificate.properties,
        issued=bool(cer),
        subject=described.get('subject'),
        sans=described.get('sans'),
        secret_id=certificate.secret_id,
        key_id=certificate.key_id,
        policy=policy_from_sdk(certificate.policy) if certificate.policy is not None else None,
    )


def renewal_reason(state, now, before_expiry_days=None, at_percentage=None):
    """Why the current version is due for renewal at ``now`` (seconds), or None when it is not."""
    if state.expires is None:
        return None
    if before_expiry_days is not None and state.expires - now <= before_expiry_days * 86400:
        return 'it expires on %s, within renew_before_expiry_days=%d' % (format_timestamp(state.expires), before_expiry_days)
    if at_percentage is not None and state.not_before is not None and state.expires > state.not_before:
        elapsed = 100.0 * (now - state.not_before) / (state.expires - state.not_before)
        if elapsed >= at_percentage:
            return '%d%% of its lifetime has passed (renew_at_percentage=%d)' % (min(int(elapsed), 100), at_percentage)
    return None


def changed_properties(desired_properties, current):
    """The version properties (``enabled``, ``tags``) the task states and the current version lacks."""
    changed = []
    if desired_properties.get('enabled') is not None and desired_properties['enabled'] != current.enabled:
        changed.append('enabled')
    if desired_properties.get('tags') is not None and desired_properties['tags'] != (current.tags or {}):
        changed.append('tags')
    return changed


def plan_present(desired, desired_properties, current, renewal=None, force=False, import_thumbprint=None):
    """Decide what ``state: present`` does to turn ``current`` (None: no certificate) into what the task states.

    ``desired`` is the stated policy, ``desired_properties`` the stated ``enabled``/``tags``,
    ``renewal`` the reason the current version is due for renewal (see renewal_reason), ``force``
    asks for a new version anyway, ``import_thumbprint`` is the SHA-1 thumbprint (hex) of the
    material to import, if any.
    """
    if current is None:
        return CertificatePlan('import' if import_thumbprint else 'create', [f for f in POLICY_FIELDS if desired[f] is not None],
                               [f for f in VERSION_PROPERTIES if desired_properties.get(f) is not None], ['the certificate does not exist'])
    policy_fields = changed_policy_fields(desired, current.policy or empty_policy())
    property_fields = changed_properties(desired_properties, current)
    reasons = []
    if import_thumbprint is not None:
        if not current.issued or (current.thumbprint or '').upper() != import_thumbprint.upper():
            reasons.append('the given certificate differs from the current version (thumbprint %s)' % (current.thumbprint or 'none'))
        reissue_fields = [f for f in policy_fields if f in IMPORT_REISSUE_FIELDS]
    else:
        if not current.issued:
            reasons.append('the current version was never issued')
        reissue_fields = [f for f in policy_fields if f in REISSUE_FIELDS]
        if renewal:
            reasons.append(renewal)
        if force:
            reasons.append('force is set')
    if reissue_fields:
        reasons.append('%s of the issued certificate differ%s' % (', '.join(reissue_fields), 's' if len(reissue_fields) == 1 else ''))
    if reasons:
        action = 'import' if import_thumbprint is not None else 'new_version'
    elif policy_fields or property_fields:
        action = 'update'
    else:
        action = 'none'
    return CertificatePlan(action, policy_fields, property_fields, reasons)


def properties_after(desired_properties, current):
    """``enabled`` and ``tags`` a new or updated version gets: stated ones, else the current ones."""
    enabled = desired_properties.get('enabled')
    tags = desired_properties.get('tags')
    if current is not None:
        enabled = current.enabled if enabled is None else enabled
        tags = (current.tags or {}) if tags is None else tags
    return {'enabled': True if enabled is None else enabled, 'tags': tags or {}}


def state_after(plan, desired, desired_properties, current, name, import_description=None):
    """The state the vault will hold once ``plan`` is carried out, as far as it can be known beforehand."""
    if plan.action == 'none':
        return current
    properties = properties_after(desired_properties, current)
    base_policy = current.policy if current is not None and current.policy else empty_policy()
    policy = merged_policy(desired, base_policy)
    if plan.action == 'update':
        return current.replace(policy=policy, **properties)
    if plan.action == 'import' and import_description:
        policy.update(policy_of_imported(import_description))
        if current is None and desired['issuer'] is None:
            # Without an issuer, the service takes an imported certificate for one it cannot renew itself (observed: the
            # imported certificate's policy names the Unknown issuer).
            policy['issuer'] = UNKNOWN_ISSUER
    policy = with_service_defaults(policy) if current is None else policy
    # An Unknown issuer leaves the new version pending until a signed certificate is merged (Microsoft docs, "Creating a
    # certificate with a CA not partnered with Key Vault").
    issued = plan.action == 'import' or (policy.get('issuer') or SELF_ISSUER).lower() != UNKNOWN_ISSUER.lower()
    predicted = CertificateState(name=name, issued=issued, policy=policy, **properties)
    if plan.action == 'import' and import_description:
        predicted = predicted.replace(thumbprint=import_description.get('thumbprint'), x5t=import_description.get('x5t'),
                                      subject=import_description.get('subject'), sans=import_description.get('sans'),
                                      not_before=import_description.get('not_before'), expires=import_description.get('expires'))
    if current is not None:
        predicted = predicted.replace(recovery_level=current.recovery_level, recoverable_days=current.recoverable_days)
    return predicted


def policy_of_imported(description):
    """The policy fields an import takes from the certificate described by ``description`` (see
    _cert_material.parse_certificate and key_parameters)."""
    fields = dict((field, description.get(field)) for field in ('subject', 'key_type', 'key_size', 'curve'))
    fields.update((field, list((description.get('sans') or {}).get(field, []))) for field in SAN_FIELDS)
    return fields


def policy_to_result(policy):
    """A policy as the modules return it: the option names, the fields the vault knows about."""
    if not policy:
        return {}
    described = dict((field, policy.get(field)) for field in POLICY_FIELDS)
    if described['lifetime_actions'] is not None:
        described['lifetime_actions'] = [dict(action) for action in described['lifetime_actions']]
    return described


def to_result(state, deleted=None):
    """The dictionary the modules return for a certificate version; never includes key material.

    ``deleted`` is the SDK's DeletedCertificate when the certificate is deleted.
    """
    if state is None:
        return {}
    description = {
        'name': state.name,
        'id': state.id,
        'version': state.version,
        'thumbprint': state.thumbprint,
        'x5t': state.x5t,
        'subject': state.subject,
        'sans': state.sans or {},
        'not_before': format_timestamp(state.not_before),
        'expires': format_timestamp(state.expires),
        'enabled': state.enabled,
        'tags': state.tags or {},
        'created': format_timestamp(state.created),
        'updated': format_timestamp(state.updated),
        'recovery_level': state.recovery_level,
        'recoverable_days': state.recoverable_days,
        'secret_id': state.secret_id,
        'key_id': state.key_id,
        'pending': state.issued is False,
        'policy': policy_to_result(state.policy),
    }
    if deleted is not None:
        description.update(deleted_fields(deleted))
    return description


def diff_view(state, lifecycle='present', new_version=False):
    """What diff output shows of a certificate: its policy and version properties."""
    if state is None:
        return {'state': lifecycle}
    return {
        'state': 'present',
        'version': '(new version)' if new_version else state.version,
        'thumbprint': state.thumbprint,
        'not_before': format_timestamp(state.not_before),
        'expires': format_timestamp(state.expires),
        'enabled': state.enabled,
        'tags': state.tags or {},
        'policy': policy_to_result(state.policy),
    }


def csr_pem(csr):
    """PEM text of a certificate signing request given as DER bytes (or base64 text)."""
    if csr is None:
        return None
    if isinstance(csr, str):
        csr = base64.b64decode(csr)
    body = '\n'.join(textwrap.wrap(base64.b64encode(bytes(csr)).decode('ascii'), 64))
    return '-----BEGIN CERTIFICATE REQUEST-----\n%s\n-----END CERTIFICATE REQUEST-----\n' % body


def operation_to_result(operation, started_here=True):
    """The dictionary the module returns for a creation operation (the service's pending request)."""
    if operation is None:
        return None
    error = getattr(operation, 'error', None)
    return {
        'status': operation.status,
        'status_details': operation.status_details,
        'issuer': enum_text(operation.issuer_name),
        'csr': csr_pem(operation.csr),
        'request_id': operation.request_id,
        'cancellation_requested': operation.cancellation_requested,
        'error': None if error is None else {'code': error.code, 'message': error.message},
        'started_by_this_task': started_here,
    }
