# -*- coding: utf-8 -*-
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment(object):

    # What a plugin that reads several objects at once does with one it cannot read (module_utils/_batch.py,
    # FAILURE_OPTIONS): the lookups for their terms, secret_info for its names.
    DOCUMENTATION = r"""
options:
  on_missing:
    description:
      - What to do when an object asked for does not exist. V(error) fails, V(warn) warns and skips the object,
        V(skip) skips it silently. A skipped object is left out of the result, or replaced with O(default) when that
        is set.
    type: str
    choices: [error, warn, skip]
    default: error
  on_denied:
    description:
      - What to do when the vault denies the read (the identity lacks the permission the read needs, or the secret
        read is disabled). Same choices as O(on_missing).
    type: str
    choices: [error, warn, skip]
    default: error
  on_deleted:
    description:
      - What to do when an object asked for is deleted but still recoverable. Same choices as O(on_missing).
    type: str
    choices: [error, warn, skip]
    default: error
  default:
    description:
      - The value returned in place of an object that was skipped or warned about through O(on_missing), O(on_denied)
        or O(on_deleted).
    type: raw
"""
