# -*- coding: utf-8 -*-
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What a secret is and what a task wants it to be, and the decision between them.

For internal collection use only: names and behaviour may change without notice.

Everything here is pure: no requests, no Ansible module. The SDK's objects are only read through
their attributes, so tests can hand in simple stand-ins.
"""

import collections

from ansible_collections.keyvault.azure.plugins.module_utils._identifiers import KeyVaultInputError
from ansible_collections.keyvault.azure.plugins.module_utils._object_state import ObjectState, deleted_fields
from ansible_collections.keyvault.azure.plugins.module_utils._tags import normalize_tags
from ansible_collections.keyvault.azure.plugins.module_utils._time import datetime_to_timestamp, format_timestamp, parse_timestamp

# The service refuses larger values (Azure Key Vault service limits: a secret value is at most 25 KB).
MAX_VALUE_BYTES = 25 * 1024

# Attributes of a version that a task can manage besides the value. They can be changed in place
# (an update of the current version); only a new value needs a new version.
MANAGED_FIELDS = ('content_type', 'tags', 'enabled', 'not_before', 'expires')

# What diff output shows instead of a value.
VALUE_HIDDEN = '(hidden)'
VALUE_CHANGED = '(hidden, changed)'
VALUE_NOT_COMPARED = '(hidden, not compared: the vault does not return the current value)'


SecretPlan = collections.namedtuple('SecretPlan', ['action', 'changed_fields', 'value_changed', 'value_not_compared'])
SecretPlan.__doc__ = """The decision for ``state: present``.

``action`` is ``create``, ``new_version`` (the value differs: set a new version carrying the
attributes), ``update`` (only attributes differ: update the current version) or ``none``.
``value_not_compared`` is true when a value was given but the current version is disabled, so
the service does not return its value.
"""


class SecretState(ObjectState):
    """A secret version as the vault describes it, or the parts of it a task asks for.

    In a desired state, ``None`` means "not managed by the task". ``value_known`` is false for a
    version whose value the service does not hand out (a disabled one).
    """

    KIND = 'secret'
    FIELDS = ('name', 'id', 'version', 'value', 'value_known', 'content_type', 'tags', 'enabled', 'not_before',
              'expires', 'created', 'updated', 'recovery_level', 'recoverable_days', 'managed', 'key_id')
    HIDDEN_FROM_REPR = ('value',)

    def __init__(self, **fields):
        super(SecretState, self).__init__(**fields)
        if self.value_known is None:
            self.value_known = True


def check_secret_value(value):
    """Refuse values the service would refuse, without ever quoting the value."""
    if value == '':
        raise KeyVaultInputError('the secret value is empty; Key Vault does not store empty secrets')
    try:
        size = len(value.encode('utf-8'))
    except UnicodeEncodeError:
        # Ansible hands over undecodable bytes (e.g. from lookup('file') of a binary file) as lone surrogates.
        raise KeyVaultInputError("value holds bytes that are not UTF-8 text; Key Vault stores a secret as text: encode binary content "
                                 "first, for example with the b64encode filter and content_type 'application/octet-stream;base64'")
    if size > MAX_VALUE_BYTES:
        raise KeyVaultInputError('the secret value is %d bytes long; Key Vault stores at most %d bytes' % (size, MAX_VALUE_BYTES))
    return value


def desired_state(name, value=None, content_type=None, tags=None, enabled=None, not_before=None, expires=None):
    """The desired SecretState from task options; dates are option strings, checked here."""
    if value is not None:
        check_secret_value(value)
    return SecretState(
        name=name,
        value=value,
        content_type=content_type,
        tags=normalize_tags(tags),
        enabled=enabled,
        not_before=None if not_before is None else parse_timestamp(not_before, 'not_before'),
        expires=None if expires is None else parse_timestamp(expires, 'expires'),
    )


def state_from_properties(properties, value=None, value_known=True):
    """SecretState from the SDK's SecretProperties (and the value, when the caller has it)."""
    return SecretState(
        name=properties.name,
        id=properties.id,
        version=properties.version,
        value=value,
        value_known=value_known,
        content_type=properties.content_type,
        tags=normalize_tags(properties.tags) or {},
        enabled=properties.enabled,
        not_before=datetime_to_timestamp(properties.not_before),
        expires=datetime_to_timestamp(properties.expires_on),
        created=datetime_to_timestamp(properties.created_on),
        updated=datetime_to_timestamp(properties.updated_on),
        recovery_level=properties.recovery_level,
        recoverable_days=properties.recoverable_days,
        managed=bool(properties.managed),
        key_id=properties.key_id,
    )


def state_from_secret(secret):
    """SecretState from the SDK's KeyVaultSecret (a version read with its value)."""
    return state_from_properties(secret.properties, value=secret.value)


def _comparable(field, value):
    if field == 'content_type':
        return value or ''
    if field == 'tags':
        return value or {}
    return value


def plan_present(desired, current, overwrite=True):
    """Decide what ``state: present`` has to do to turn ``current`` (None when missing) into ``desired``.

    With ``overwrite`` false an existing secret keeps its value whatever the task says; its
    attributes are still brought in line.
    """
    if current is None:
        return SecretPlan('create', [f for f in MANAGED_FIELDS if getattr(desired, f) is not None], True, False)
    changed_fields = [f for f in MANAGED_FIELDS
                      if getattr(desired, f) is not None and _comparable(f, getattr(desired, f)) != _comparable(f, getattr(current, f))]
    value_given = overwrite and desired.value is not None
    value_changed = value_given and current.value_known and desired.value != current.value
    if value_changed:
        action = 'new_version'
    elif changed_fields:
        action = 'update'
    else:
        action = 'none'
    return SecretPlan(action, changed_fields, value_changed, value_given and not current.value_known)


def plan_reasons(plan):
    """Why ``plan`` writes, in words, for the results' ``reasons``; empty when it writes nothing."""
    if plan.action == 'create':
        return ['the secret does not exist']
    reasons = []
    if plan.value_changed:
        reasons.append('the value differs')
    if plan.changed_fields:
        reasons.append('%s differ%s' % (', '.join(plan.changed_fields), 's' if len(plan.changed_fields) == 1 else ''))
    return reasons


def state_after(desired, current, plan):
    """The state the vault will hold once ``plan`` is carried out."""
    if plan.action == 'none':
        return current
    managed = dict((f, getattr(desired, f)) for f in MANAGED_FIELDS if getattr(desired, f) is not None)
    if plan.action == 'create':
        # The service enables a new secret unless told otherwise (observed: attributes.enabled is true in its answer).
        fields = dict(enabled=True, tags={})
        fields.update(managed)
        return SecretState(name=desired.name, value=desired.value, **fields)
    if plan.action == 'new_version':
        return current.replace(id=None, version=None, created=None, updated=None, value=desired.value, value_known=True, **managed)
    return current.replace(updated=None, **managed)


def diff_view(state, value_marker=VALUE_HIDDEN, lifecycle='present'):
    """What diff output shows of a state: attributes, and a marker in place of the value."""
    if state is None:
        return {'state': lifecycle}
    return {
        'state': 'present',
        'value': value_marker,
        'content_type': state.content_type,
        'tags': state.tags or {},
        'enabled': state.enabled,
        'not_before': format_timestamp(state.not_before),
        'expires': format_timestamp(state.expires),
    }


def present_diff(current, after, plan):
    """Diff for ``state: present``; ``current`` None means the secret does not exist yet."""
    if current is None:
        return {'before': diff_view(None, lifecycle='absent'), 'after': diff_view(after)}
    if plan.value_changed:
        after_marker = VALUE_CHANGED
    elif plan.value_not_compared:
        after_marker = VALUE_NOT_COMPARED
    else:
        after_marker = VALUE_HIDDEN
    return {'before': diff_view(current), 'after': diff_view(after, after_marker)}


def to_result(state, deleted=None):
    """The dictionary plugins return for a secret; never includes the value.

    ``deleted`` is the SDK's DeletedSecret when the secret is deleted.
    """
    if state is None:
        return {}
    description = {
        'name': state.name,
        'id': state.id,
        'version': state.version,
        'content_type': state.content_type,
        'tags': state.tags or {},
        'managed': bool(state.managed),
        'key_id': state.key_id,
        'attributes': {
            'enabled': state.enabled,
            'not_before': format_timestamp(state.not_before),
            'expires': format_timestamp(state.expires),
            'created': format_timestamp(state.created),
            'updated': format_timestamp(state.updated),
            'recovery_level': state.recovery_level,
            'recoverable_days': state.recoverable_days,
        },
    }
    if deleted is not None:
        description.update(deleted_fields(deleted))
    return description
