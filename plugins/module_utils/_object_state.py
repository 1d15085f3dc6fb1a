# -*- coding: utf-8 -*-
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What SecretState and CertificateState share: a value object of named fields, and the result fields of a deleted object.

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
