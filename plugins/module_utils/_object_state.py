# -*- coding: utf-8 -*-
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What SecretState and CertificateState share: a value object of named fields, and the flat shape of their results.

For internal collection use only: names and behaviour may change without notice.
"""


from ansible_collections.keyvault.azure.plugins.module_utils._time import datetime_to_timestamp, format_timestamp


class ObjectState(object):
    """A vault object's state as a fixed set of ``FIELDS``; a field not given is None.

    Treated as immutable: ``replace`` makes a changed copy. ``HIDDEN_FROM_REPR`` names fields that must
    never show up in a traceback or a test failure (a secret's value).
    """

    KIND = 'object'
    FIELDS = ()
    HIDDEN_FROM_REPR = ()

    def __init__(self, **fields):
        unknown = set(fields) - set(self.FIELDS)
        if unknown:
            raise TypeError('unknown %s fields: %s' % (self.KIND, ', '.join(sorted(unknown))))
        for field in self.FIELDS:
            setattr(self, field, fields.get(field))

    def replace(self, **changes):
        fields = dict((field, getattr(self, field)) for field in self.FIELDS)
        fields.update(changes)
        return type(self)(**fields)

    def __eq__(self, other):
        return type(other) is type(self) and all(getattr(self, field) == getattr(other, field) for field in self.FIELDS)

    def __ne__(self, other):
        return not self == other

    __hash__ = None

    def __repr__(self):
        shown = ', '.join('%s=%r' % (field, getattr(self, field)) for field in self.FIELDS
                          if field not in self.HIDDEN_FROM_REPR and getattr(self, field) is not None)
        return '%s(%s)' % (type(self).__name__, shown)


def deleted_fields(deleted):
    """``recovery_id``, ``deleted_on`` and ``scheduled_purge_date`` of the SDK's DeletedSecret or DeletedCertificate."""
    # The SDK names the deletion time deleted_date in DeletedSecret and deleted_on in DeletedCertificate
    # (azure/keyvault/secrets/_models.py, azure/keyvault/certificates/_models.py).
    deleted_on = getattr(deleted, 'deleted_on', None) or getattr(deleted, 'deleted_date', None)
    return {
        'recovery_id': deleted.recovery_id,
        'deleted_on': format_timestamp(datetime_to_timestamp(deleted_on)),
        'scheduled_purge_date': format_timestamp(datetime_to_timestamp(deleted.scheduled_purge_date)),
    }


# The fields every object result has, straight from the state: one flat level for the object and its version's attributes.
COMMON_RESULT_FIELDS = ('name', 'id', 'version', 'enabled', 'tags', 'key_id', 'recovery_level', 'recoverable_days')
TIME_RESULT_FIELDS = ('not_before', 'expires', 'created', 'updated')


def object_result(state, deleted=None, **specific):
    """The dictionary modules return for a secret or certificate version: the common fields, ``specific`` ones, times in ISO 8601.

    ``deleted`` is the SDK's DeletedSecret or DeletedCertificate when the object is deleted. None gives ``{}``.
    """
    if state is None:
        return {}
    result = dict((field, getattr(state, field)) for field in COMMON_RESULT_FIELDS)
    result['tags'] = state.tags or {}
    result.update((field, format_timestamp(getattr(state, field))) for field in TIME_RESULT_FIELDS)
    result.update(specific)
    if deleted is not None:
        result.update(deleted_fields(deleted))
    return result
