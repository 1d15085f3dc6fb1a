# -*- coding: utf-8 -*-
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment(object):

    # The support of each attribute; ansible.builtin.action_common_attributes (and its .flow and .actiongroups
    # sections) describe what the attributes mean, and a module lists those fragments after these.

    # For modules that change what a vault holds.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    support: full
    details: Reads the vault and predicts the outcome (C(changed), C(diff) and return values) without writing anything.
  diff_mode:
    support: full
    details: Shows the attributes before and after; a secret value is only ever shown as a hidden-value marker.
  idempotent:
    description: When run twice with the same options, the second run reports C(changed=false).
    support: full
    details: The module compares what the vault holds with what the task asks for and writes only when they differ, so a
      repeat run sends no write request.
  platform:
    support: full
    platforms: posix
  action:
    support: full
    details: The action plugin lets hosts of one run that converge the same object take turns, so the object gets one new
      version, not one per host.
  async:
    support: none
  bypass_host_loop:
    support: none
"""

    # For modules that only read.
    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details: The module only reads, so it runs the same way in check mode.
  diff_mode:
    support: N/A
    details: The module does not change anything, so there is nothing to show.
  idempotent:
    description: When run twice with the same options, the second run reports C(changed=false).
    support: full
    details: The module only reads.
  platform:
    support: full
    platforms: posix
  action:
    support: full
    details: The action plugin hides the whole result from the output when it carries a secret value or a private key.
  async:
    support: none
  bypass_host_loop:
    support: none
"""

    ACTION_GROUP = r"""
options: {}
attributes:
  action_group:
    support: full
    details: Use C(group/keyvault.azure.all) in C(module_defaults) to set the connection and authentication options
      once for every module of this collection.
    membership:
      - keyvault.azure.all
"""
