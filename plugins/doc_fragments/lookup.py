# -*- coding: utf-8 -*-
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment(object):

    # Options of the lookups alone: how a term that cannot be read is handled (plugin_utils/_lookup_base.py,
    # settle()) and what the worker processes of a run share.
    DOCUMENTATION = r"""
options:
  on_missing:
    description:
      - What to do when the object a term names does not exist. V(error) fails, V(warn) warns and skips the term,
        V(skip) skips it silently. A skipped term is left out of the result, or replaced with O(default) when that is set.
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
      - What to do when the object a term names is deleted but still recoverable. Same choices as O(on_missing).
    type: str
    choices: [error, warn, skip]
    default: error
  default:
    description:
      - The value returned in place of a term that was skipped or warned about through O(on_missing), O(on_denied) or
        O(on_deleted).
    type: raw
  token_cache:
    description:
      - Share access tokens between the worker processes of one C(ansible-playbook) run, so that a lookup on many hosts
        asks the identity endpoint for one token per identity and vault audience instead of one per host.
      - The tokens are kept in files readable by the user running Ansible only (0600, in a 0700 directory), under
        E(XDG_RUNTIME_DIR) (when the user owns it and no one else can write to it), else C(/dev/shm) (memory, not
        disk), else the temporary directory, else Ansible's own temporary directory of the run. The directory belongs
        to the run and is removed as soon as the run ends. No secret value is stored there unless O(keyvault.azure.secret#lookup:value_cache)
        is on.
      - A directory that cannot be used safely (not owned by the user, or open to others) is passed over for the next
        one, with a warning; when none can be used, the lookup warns and asks for its own token.
    type: bool
    default: true
    env:
      - name: ANSIBLE_KEYVAULT_TOKEN_CACHE
    ini:
      - section: keyvault_azure
        key: token_cache
    vars:
      - name: ansible_keyvault_token_cache
"""
