# -*- coding: utf-8 -*-
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment(object):

    # Options of the lookups alone: what the worker processes of a run share.
    DOCUMENTATION = r"""
options:
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
