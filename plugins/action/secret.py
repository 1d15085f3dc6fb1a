# -*- coding: utf-8 -*-
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

# Hides the task result of keyvault.azure.secret when it carries a secret value, and runs it one host at a
# time per secret (see plugin_utils._action).

from ansible_collections.keyvault.azure.plugins.plugin_utils._action import KeyVaultAction


class ActionModule(KeyVaultAction):

    MODULE = 'keyvault.azure.secret'
    CONVERGES = True
    NAME_OPTIONS = ('name', 'secret_name')
