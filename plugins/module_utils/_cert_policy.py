# -*- coding: utf-8 -*-
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Certificate policies as a task states them and as the vault keeps them, their checks and their comparison.

For internal collection use only: names and behaviour may change without notice.

Everything here is pure: no requests, no Ansible module, no cryptography. A policy is a dictionary
with the field names of POLICY_FIELDS (the names of the certificate module's options); ``None``
means "not stated". SDK objects are only read through their attributes, so tests can hand in
simple stand-ins.
"""

import collections
import ipaddress
import re

from ansible_collections.keyvault.azure.plugins.module_utils._identifiers import KeyVaultInputError

CONTENT_TYPES = {'PEM': 'application/x-pem-file', 'PKCS12': 'application/x-pkcs12'}
RSA_KEY_TYPES = ('RSA', 'RSA-HSM')
EC_KEY_TYPES = ('EC', 'EC-HSM')
KEY_TYPES = RSA_KEY_TYPES + EC_KEY_TYPES
RSA_KEY_SIZES = (2048, 3072, 4096)
CURVE_SIZES = collections.OrderedDict([('P-256', 256), ('P-384', 384), ('P-521', 521), ('P-256K', 256)])
KEY_USAGES = ('digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign',
              'cRLSign', 'encipherOnly', 'decipherOnly')
# Names for the extended key usages a playbook most often needs; any other is given as its OID.
EKU_NAMES = collections.OrderedDict([
    ('serverAuth', '1.3.6.1.5.5.7.3.1'),
    ('clientAuth', '1.3.6.1.5.5.7.3.2'),
    ('codeSigning', '1.3.6.1.5.5.7.3.3'),
    ('emailProtection', '1.3.6.1.5.5.7.3.4'),
    ('timeStamping', '1.3.6.1.5.5.7.3.8'),
    ('OCSPSigning', '1.3.6.1.5.5.7.3.9'),
])
LIFETIME_ACTIONS = ('AutoRenew', 'EmailContacts')
TRIGGERS = ('days_before_expiry', 'lifetime_percentage')
SELF_ISSUER = 'Self'
UNKNOWN_ISSUER = 'Unknown'
MAX_VALIDITY_MONTHS = 1200
# The service bounds days_before_expiry by 27 days for each month of validity_in_months (Trigger.days_before_expiry
# in the Key Vault REST API's certificates OpenAPI description).
DAYS_BEFORE_EXPIRY_PER_MONTH = 27

SAN_FIELDS = ('dns_names', 'ip_addresses', 'emails', 'upns', 'uris')
KEY_FIELDS = ('key_type', 'key_size', 'curve', 'exportable')
# Baked into an issued certificate (or its backing secret): when one differs, the current version
# can no longer match the task and a new version is made.
REISSUE_FIELDS = ('subject',) + SAN_FIELDS + KEY_FIELDS + ('ekus', 'key_usage', 'validity_in_months', 'content_type')
# Only steer how later versions are made: updating the policy is enough.
POLICY_ONLY_FIELDS = ('reuse_key', 'issuer', 'certificate_type', 'certificate_transparency', 'lifetime_actions')
POLICY_FIELDS = REISSUE_FIELDS + POLICY_ONLY_FIELDS
# An import takes these from the imported certificate itself, so a task cannot state them with one.
DESCRIBED_BY_IMPORT = ('subject',) + SAN_FIELDS + ('key_type', 'key_size', 'curve', 'ekus', 'key_usage', 'validity_in_months')
# What an import changes in the backing secret besides the certificate.
IMPORT_REISSUE_FIELDS = ('exportable', 'content_type')

# What the service fills in for a field a new policy leaves out (observed: the policy it returns for a creation
# that sends only a subject and the Self issuer, as CertificatePolicy.get_default() does).
SERVICE_DEFAULTS = {
    'key_type': 'RSA',
    'reuse_key': False,
    'content_type': 'PKCS12',
    'ekus': [EKU_NAMES['serverAuth'], EKU_NAMES['clientAuth']],
    'key_usage': ['digitalSignature', 'keyEncipherment'],
    'validity_in_months': 12,
    'issuer': SELF_ISSUER,
}
DEFAULT_LIFETIME_PERCENTAGE = 80


# Raw policies may use the REST API's member names (key_props, x509_props...) or the camel-case
# names of the Azure CLI and ARM templates (keyProperties, x509CertificateProperties...). Both are
# matched case-insensitively and without underscores.
_RAW_SECTIONS = {
    'keyprops': 'key', 'keyproperties': 'key',
    'secretprops': 'secret', 'secretproperties': 'secret',
    'x509props': 'x509', 'x509certificateproperties': 'x509',
    'lifetimeactions': 'lifetime_actions',
    'issuer': 'issuer', 'issuerparameters': 'issuer',
}
_RAW_FIELDS = {
    'key': {'exportable': 'exportable', 'kty': 'key_type', 'keytype': 'key_type', 'keysize': 'key_size', 'reusekey': 'reuse_key',
            'crv': 'curve', 'curve': 'curve'},
    'secret': {'contenttype': 'content_type'},
    'x509': {'subject': 'subject', 'ekus': 'ekus', 'keyusage': 'key_usage', 'validitymonths': 'validity_in_months',
             'validityinmonths': 'validity_in_months', 'sans': 'sans', 'subjectalternativenames': 'sans'},
    'sans': {'emails': 'emails', 'dnsnames': 'dns_names', 'upns': 'upns', 'uris': 'uris', 'ipaddresses': 'ip_addresses'},
    'issuer': {'name': 'issuer', 'cty': 'certificate_type', 'certificatetype': 'certificate_type',
               'certtransparency': 'certificate_transparency', 'certificatetransparency': 'certificate_transparency'},
}
# Members the service returns but nobody sets: a policy copied from the service's output may carry them.
_RAW_READ_ONLY = ('id', 'attributes')
_RAW_TYPES = {
    'exportable': bool, 'reuse_key': bool, 'certificate_transparency': bool,
    'key_size': int, 'validity_in_months': int,
    'key_type': str, 'curve': str, 'content_type': str, 'subject': str, 'issuer': str, 'certificate_type': str,
    'ekus': list, 'key_usage': list, 'dns_names': list, 'ip_addresses': list, 'emails': list, 'upns': list, 'uris': list,
}
_UNESCAPED_COMMA = re.compile(r'(?<!\\),')
# One piece of a distinguished name: an escaped character, a quoted string, a separator, or plain text.
_DN_TOKEN = re.compile(r'\\.|"[^"]*"|[,;]|[^,;"\\]+|.', re.DOTALL)


def empty_policy():
    return dict((field, None) for field in POLICY_FIELDS)


def _canonical_choice(value, choices, what):
    for choice in choices:
        if str(value).lower() == choice.lower():
            return choice
    raise KeyVaultInputError('%s must be one of %s, got %s' % (what, ', '.join(choices), value))


def canonical_content_type(value, what='content_type'):
    """``PEM`` or ``PKCS12`` for either name or the MIME type the service uses."""
    for name, mime in CONTENT_TYPES.items():
        if str(value).lower() in (name.lower(), mime):
            return name
    raise KeyVaultInputError('%s must be PEM or PKCS12 (or %s), got %s' % (what, ' or '.join(CONTENT_TYPES.values()), value))


def canonical_eku(value):
    for name, oid in EKU_NAMES.items():
        if str(value).lower() == name.lower():
            return oid
    if not re.match(r'^[0-2](\.(0|[1-9][0-9]*))+$', str(value)):
        raise KeyVaultInputError("ekus: '%s' is neither an object identifier (such as 1.3.6.1.5.5.7.3.1) nor one of %s" % (
            value, ', '.join(EKU_NAMES)))
    return str(value)


def _raw_key(key):
    return str(key).lower().replace('_', '')


def _typed(value, field, where):
    expected = _RAW_TYPES[field]
    if expected is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise KeyVaultInputError('%s must be a whole number, got %r' % (where, value))
    if expected is bool and not isinstance(value, bool):
        raise KeyVaultInputError('%s must be true or false, got %r' % (where, value))
    if expected is str and not isinstance(value, str):
        raise KeyVaultInputError('%s must be a string, got %r' % (where, value))
    if expected is list and not (isinstance(value, list) and all(isinstance(item, str) for item in value)):
        raise KeyVaultInputError('%s must be a list of strings, got %r' % (where, value))
    return value


def _raw_fields(section, mapping, where):
    if not isinstance(section, dict):
        raise KeyVaultInputError('%s must be a dictionary' % where)
    fields = {}
    for key, value in section.items():
        field = mapping.get(_raw_key(key))
        if field is None:
            raise KeyVaultInputError('%s.%s is not a policy member the module knows (known: %s)' % (
                where, key, ', '.join(sorted(set(mapping.values())))))
        if value is None:
            continue
        if field == 'sans':
            fields.update(_raw_fields(value, _RAW_FIELDS['sans'], '%s.%s' % (where, key)))
        else:
            fields[field] = _typed(value, field, '%s.%s' % (where, key))
    return fields


def _raw_lifetime_action(entry, where):
    if not isinstance(entry, dict):
        raise KeyVaultInputError('%s must be a dictionary with trigger and action' % where)
    action = {}
    for key, value in entry.items():
        name = _raw_key(key)
        if name == 'trigger':
            for trigger_key, trigger_value in (value or {}).items():
                trigger = {'lifetimepercentage': 'lifetime_percentage', 'daysbeforeexpiry': 'days_before_expiry'}.get(_raw_key(trigger_key))
                if trigger is None:
                    raise KeyVaultInputError('%s.trigger.%s is not a trigger (use lifetime_percentage or days_before_expiry)' % (where, trigger_key))
                action[trigger] = trigger_value
        elif name == 'action':
            for action_key, action_value in (value or {}).items():
                if _raw_key(action_key) != 'actiontype':
                    raise KeyVaultInputError('%s.action.%s is not known (use action_type)' % (where, action_key))
                action['action'] = action_value
        else:
            raise KeyVaultInputError('%s.%s is not known (use trigger and action)' % (where, key))
    return action


def policy_from_raw(raw):
    """A policy (POLICY_FIELDS) from a policy dictionary in the REST API's or the Azure CLI's shape."""
    policy = empty_policy()
    if raw is None:
        return policy
    if not isinstance(raw, dict):
        raise KeyVaultInputError('policy must be a dictionary')
    for key, value in raw.items():
        section = _RAW_SECTIONS.get(_raw_key(key))
        if section is None:
            if _raw_key(key) in _RAW_READ_ONLY:
                continue
            raise KeyVaultInputError('policy.%s is not a policy section the module knows (known: key_props, secret_props, x509_props, '
                                     'lifetime_actions, issuer, or their Azure CLI names)' % key)
        if value is None:
            continue
        if section == 'lifetime_actions':
            if not isinstance(value, list):
                raise KeyVaultInputError('policy.%s must be a list' % key)
            policy['lifetime_actions'] = [_raw_lifetime_action(entry, 'policy.%s[%d]' % (key, index)) for index, entry in enumerate(value)]
        else:
            policy.update(_raw_fields(value, _RAW_FIELDS[section], 'policy.%s' % key))
    return policy


def _normalized_lifetime_action(action, index):
    where = 'lifetime_actions[%d]' % index
    if not isinstance(action, dict):
        raise KeyVaultInputError('%s must be a dictionary' % where)
    given = dict((key, value) for key, value in action.items() if value is not None)
    unknown = set(given) - set(TRIGGERS + ('action',))
    if unknown:
        raise KeyVaultInputError('%s: unknown keys %s (use action and one of %s)' % (where, ', '.join(sorted(unknown)), ', '.join(TRIGGERS)))
    triggers = [trigger for trigger in TRIGGERS if trigger in given]
    if len(triggers) != 1:
        raise KeyVaultInputError('%s needs exactly one of days_before_expiry and lifetime_percentage' % where)
    if 'action' not in given:
        raise KeyVaultInputError('%s needs an action (%s)' % (where, ', '.join(LIFETIME_ACTIONS)))
    trigger = triggers[0]
    value = given[trigger]
    if isinstance(value, bool) or not isinstance(value, int):
        raise KeyVaultInputError('%s.%s must be a whole number, got %r' % (where, trigger, value))
    if trigger == 'lifetime_percentage' and not 1 <= value <= 99:
        raise KeyVaultInputError('%s.lifetime_percentage must be between 1 and 99, got %d' % (where, value))
    if trigger == 'days_before_expiry' and value < 1:
        raise KeyVaultInputError('%s.days_before_expiry must be at least 1, got %d' % (where, value))
    return {'action': _canonical_choice(given['action'], LIFETIME_ACTIONS, '%s.action' % where), trigger: value}


def normalize_policy(policy):
    """The policy with canonical spellings (key types, curves, content type, EKU OIDs...), checked.

    Raises KeyVaultInputError for what the service would refuse, before anything is sent.
    """
    normalized = dict(policy)
    if normalized['key_type'] is not None:
        normalized['key_type'] = _canonical_choice(normalized['key_type'], KEY_TYPES, 'key_type')
    if normalized['curve'] is not None:
        normalized['curve'] = _canonical_choice(normalized['curve'], tuple(CURVE_SIZES), 'curve')
    if normalized['content_type'] is not None:
        normalized['content_type'] = canonical_content_type(normalized['content_type'])
    if normalized['ekus'] is not None:
        normalized['ekus'] = [canonical_eku(eku) for eku in normalized['ekus']]
    if normalized['key_usage'] is not None:
        normalized['key_usage'] = [_canonical_choice(usage, KEY_USAGES, 'key_usage') for usage in normalized['key_usage']]
    if normalized['lifetime_actions'] is not None:
        normalized['lifetime_actions'] = [_normalized_lifetime_action(action, index) for index, action in enumerate(normalized['lifetime_actions'])]
        if len(normalized['lifetime_actions']) > 1:
            raise KeyVaultInputError('lifetime_actions holds %d actions; Key Vault takes one action per certificate' % len(normalized['lifetime_actions']))
    if normalized['subject'] is not None:
        _check_subject(normalized['subject'])
    if normalized['validity_in_months'] is not None and not 1 <= normalized['validity_in_months'] <= MAX_VALIDITY_MONTHS:
        raise KeyVaultInputError('validity_in_months must be between 1 and %d, got %d' % (MAX_VALIDITY_MONTHS, normalized['validity_in_months']))
    check_lifetime_fits_validity(normalized)
    if normalized['ip_addresses'] is not None:
        normalized['ip_addresses'] = [_checked_address(address) for address in normalized['ip_addresses']]
    if normalized['issuer'] is not None and not normalized['issuer'].strip():
        raise KeyVaultInputError('issuer must not be empty')
    _check_key(normalized)
    return normalized


def _subject_components(subject):
    """The parts of a distinguished name between its separators (``,`` or ``;``, unless escaped or quoted)."""
    components = ['']
    for token in _DN_TOKEN.findall(subject):
        if token in (',', ';'):
            components.append('')
        else:
            components[-1] += token
    return components


def _check_subject(subject):
    if not subject.strip():
        raise KeyVaultInputError('subject must not be empty; leave it out and give dns_names instead for a certificate without one')
    for component in _subject_components(subject):
        attribute, separator, _value = component.partition('=')
        if not separator or not attribute.strip():
            raise KeyVaultInputError("subject '%s' is not a distinguished name: give attribute=value pairs separated by commas, such as "
                                     "CN=www.example.com, O=Contoso" % subject)


def check_lifetime_fits_validity(policy):
    """Refuse a days_before_expiry trigger beyond what the policy's validity_in_months allows, as the service would.

    Without a validity in ``policy`` there is nothing to check against.
    """
    months = policy.get('validity_in_months')
    if months is None:
        return
    limit = months * DAYS_BEFORE_EXPIRY_PER_MONTH
    for index, action in enumerate(policy.get('lifetime_actions') or ()):
        days = action.get('days_before_expiry')
        if days is not None and days > limit:
            raise KeyVaultInputError('lifetime_actions[%d].days_before_expiry must be at most %d for validity_in_months=%d (%d days a month), '
                                     'got %d' % (index, limit, months, DAYS_BEFORE_EXPIRY_PER_MONTH, days))


def _checked_address(address):
    try:
        return str(ipaddress.ip_address(str(address).strip()))
    except ValueError:
        raise KeyVaultInputError("ip_addresses: '%s' is not an IPv4 or IPv6 address" % address)


def _check_key(policy):
    key_type, key_size, curve = policy['key_type'], policy['key_size'], policy['curve']
    if key_type in RSA_KEY_TYPES or (key_type is None and curve is None):
        if curve is not None:
            raise KeyVaultInputError('curve %s needs key_type EC or EC-HSM, not %s' % (curve, key_type or 'RSA (the default)'))
        if key_size is not None and key_size not in RSA_KEY_SIZES:
            raise KeyVaultInputError('key_size %d is not an RSA key size; use one of %s' % (key_size, ', '.join(str(s) for s in RSA_KEY_SIZES)))
    else:
        if key_type is None:
            raise KeyVaultInputError('curve %s needs key_type EC or EC-HSM' % curve)
        sizes = sorted(set(CURVE_SIZES.values()))
        if key_size is not None and key_size not in sizes:
            raise KeyVaultInputError('key_size %d is not an EC key size; use one of %s, or choose a curve' % (key_size, ', '.join(str(s) for s in sizes)))
        if key_size is not None and curve is not None and CURVE_SIZES[curve] != key_size:
            raise KeyVaultInputError('key_size %d does not fit curve %s, whose keys have %d bits' % (key_size, curve, CURVE_SIZES[curve]))
    if key_type is not None and key_type.endswith('-HSM') and policy['exportable']:
        raise KeyVaultInputError('a key of type %s stays in the HSM and cannot be exportable' % key_type)


def desired_policy(raw_policy=None, **fields):
    """The policy a task asks for: its raw ``policy`` with the individual options laid over it."""
    unknown = set(fields) - set(POLICY_FIELDS)
    if unknown:
        raise TypeError('unknown policy fields: %s' % ', '.join(sorted(unknown)))
    policy = policy_from_raw(raw_policy)
    for field, value in fields.items():
        if value is not None:
            policy[field] = value
    return normalize_policy(policy)


def enum_text(value):
    """The string behind an SDK enum member (or a plain string)."""
    if value is None:
        return None
    return str(getattr(value, 'value', value))


def policy_from_sdk(policy):
    """The policy of the SDK's CertificatePolicy, as the vault reports it."""
    if policy is None:
        return empty_policy()
    actions = None
    if policy.lifetime_actions is not None:
        actions = []
        for lifetime_action in policy.lifetime_actions:
            action = {'action': enum_text(lifetime_action.action)}
            if lifetime_action.lifetime_percentage is not None:
                action['lifetime_percentage'] = lifetime_action.lifetime_percentage
            if lifetime_action.days_before_expiry is not None:
                action['days_before_expiry'] = lifetime_action.days_before_expiry
            actions.append(action)
    content_type = enum_text(policy.content_type)

    def listed(values):
        return None if values is None else [enum_text(value) for value in values]

    return {
        'subject': policy.subject,
        'dns_names': listed(policy.san_dns_names),
        'ip_addresses': listed(policy.san_ip_addresses),
        'emails': listed(policy.san_emails),
        'upns': listed(policy.san_user_principal_names),
        'uris': listed(policy.san_uris),
        'key_type': enum_text(policy.key_type),
        'key_size': policy.key_size,
        'curve': enum_text(policy.key_curve_name),
        'exportable': policy.exportable,
        'ekus': listed(policy.enhanced_key_usage),
        'key_usage': listed(policy.key_usage),
        'validity_in_months': policy.validity_in_months,
        'content_type': canonical_content_type(content_type) if content_type in CONTENT_TYPES.values() else content_type,
        'reuse_key': policy.reuse_key,
        'issuer': policy.issuer_name,
        'certificate_type': policy.certificate_type,
        'certificate_transparency': policy.certificate_transparency,
        'lifetime_actions': actions,
    }


def normalize_subject(subject):
    """A distinguished name compared the way the service reads it: attribute names in upper case,
    no spaces around the separators."""
    if subject is None:
        return ''
    parts = []
    for part in _UNESCAPED_COMMA.split(subject):
        name, separator, value = part.partition('=')
        parts.append('%s%s%s' % (name.strip().upper(), separator, value.strip()))
    return ','.join(part for part in parts if part)


def _comparable(field, value):
    if field == 'subject':
        return normalize_subject(value)
    if field == 'dns_names':
        return frozenset(name.lower().rstrip('.') for name in value or ())
    if field == 'emails':
        return frozenset(email.lower() for email in value or ())
    if field == 'ip_addresses':
        return frozenset(_checked_address(address) for address in value or ())
    if field in ('upns', 'uris', 'ekus'):
        return frozenset(value or ())
    if field == 'key_usage':
        return frozenset(usage.lower() for usage in value or ())
    if field in ('key_type', 'curve', 'issuer', 'certificate_type'):
        return (value or '').lower()
    if field == 'lifetime_actions':
        return frozenset(tuple(sorted((key, str(item).lower()) for key, item in action.items())) for action in value or ())
    if field == 'certificate_transparency':
        return bool(value)
    return value


def changed_policy_fields(desired, current):
    """The fields the task states (not None) whose value differs from the ``current`` policy.

    Compared as: subject as a distinguished name (attribute names in any case, spaces around
    separators ignored); each kind of subject alternative name, EKUs, key usages and lifetime
    actions as sets (DNS names and e-mail addresses in any case); key type, curve and issuer in any
    case; the rest as values.
    """
    return [field for field in POLICY_FIELDS
            if desired[field] is not None and _comparable(field, desired[field]) != _comparable(field, current.get(field))]


def _key_family(key_type):
    return 'EC' if key_type in EC_KEY_TYPES else 'RSA'


def merged_policy(desired, current):
    """The policy after laying the stated fields of ``desired`` over ``current``.

    Key members that only make sense for the previous key type (size and curve when switching
    between RSA and EC, exportability when switching in or out of an HSM) are dropped unless the
    task states them, so that the service picks what fits the new type.
    """
    merged = dict(current)
    for field in POLICY_FIELDS:
        if desired[field] is not None:
            merged[field] = desired[field]
    old_type, new_type = current.get('key_type') or 'RSA', merged.get('key_type') or 'RSA'
    if _key_family(old_type) != _key_family(new_type):
        for field in ('key_size', 'curve'):
            if desired[field] is None:
                merged[field] = None
    if old_type.endswith('-HSM') != new_type.endswith('-HSM') and desired['exportable'] is None:
        merged['exportable'] = None
    return merged


def with_service_defaults(policy):
    """The policy a new certificate gets: what the service fills in for the fields left out."""
    completed = dict(policy)
    for field, value in SERVICE_DEFAULTS.items():
        if completed.get(field) is None:
            completed[field] = list(value) if isinstance(value, list) else value
    if completed['key_type'] in EC_KEY_TYPES:
        if completed.get('curve') is None:
            completed['curve'] = next((curve for curve, size in CURVE_SIZES.items() if size == completed.get('key_size')), 'P-256')
        completed['key_size'] = CURVE_SIZES[completed['curve']]
    elif completed.get('key_size') is None:
        completed['key_size'] = 2048
    if completed.get('exportable') is None:
        completed['exportable'] = not completed['key_type'].endswith('-HSM')
    if completed.get('lifetime_actions') is None:
        action = 'EmailContacts' if completed['issuer'].lower() == UNKNOWN_ISSUER.lower() else 'AutoRenew'
        completed['lifetime_actions'] = [{'action': action, 'lifetime_percentage': DEFAULT_LIFETIME_PERCENTAGE}]
    return completed


def has_subject_or_name(policy):
    return bool(policy.get('subject')) or any(policy.get(field) for field in SAN_FIELDS)


def sdk_policy_arguments(policy):
    """Keyword arguments for the SDK's CertificatePolicy; ``lifetime_actions`` stay dictionaries
    (``action``, ``lifetime_percentage``, ``days_before_expiry``) for the caller to wrap."""
    arguments = {
        'issuer_name': policy.get('issuer'),
        'subject': policy.get('subject'),
        'san_dns_names': policy.get('dns_names'),
        'san_ip_addresses': policy.get('ip_addresses'),
        'san_emails': policy.get('emails'),
        'san_user_principal_names': policy.get('upns'),
        'san_uris': policy.get('uris'),
        'key_type': policy.get('key_type'),
        'key_size': policy.get('key_size'),
        'key_curve_name': policy.get('curve'),
        'exportable': policy.get('exportable'),
        'reuse_key': policy.get('reuse_key'),
        'enhanced_key_usage': policy.get('ekus'),
        'key_usage': policy.get('key_usage'),
        'validity_in_months': policy.get('validity_in_months'),
        'content_type': CONTENT_TYPES.get(policy.get('content_type'), policy.get('content_type')),
        'certificate_type': policy.get('certificate_type'),
        'certificate_transparency': policy.get('certificate_transparency'),
        'lifetime_actions': policy.get('lifetime_actions'),
    }
    return dict((name, value) for name, value in arguments.items() if value is not None)


def import_policy(policy, key_type):
    """The part of ``policy`` an import request can carry.

    The key type goes along because the SDK leaves out the whole key section when none of its
    members is truthy, which would drop ``exportable: false``.
    """
    fields = dict((field, policy.get(field)) for field in POLICY_FIELDS if field not in DESCRIBED_BY_IMPORT)
    fields['key_type'] = key_type
    return fields
