# -*- coding: utf-8 -*-
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment(object):

    # For modules that change what a vault holds.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Reads the vault and predicts the outcome (C(changed), C(diff) and return values) without writing anything.
    support: full
  diff_mode:
    description: Shows the attributes before and after; a secret value is only ever shown as a hidden-value marker.
    support: full
  idempotent:
    description: The module compares what the vault holds with what the task asks for and writes only when they
      differ, so a repeat run reports C(changed=false) and sends no write request.
    support: full
"""

    # For modules that only read.
    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    description: The module only reads, so it runs the same way in check mode.
    support: full
  diff_mode:
    description: The module does not change anything, so there is nothing to show.
    support: N/A
  idempotent:
    description: The module only reads.
    support: full
"""

    ACTION_GROUP = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/keyvault.azure.all) in C(module_defaults) to set the connection and authentication options
      once for every module of this collection.
    support: full
    membership:
      - keyvault.azure.all
"""
