# -*- coding: utf-8 -*-
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The value object that SecretState and CertificateState share: named fields, copied with changes, compared whole.

For internal collection use only: names and behaviour may change without notice.
"""


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
