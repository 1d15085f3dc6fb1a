# -*- coding: utf-8 -*-
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

# Hides the task result of keyvault.azure.secret_info when it carries a secret value (or several).

from ansible_collections.keyvault.azure.plugins.plugin_utils._action import KeyVaultAction


class ActionModule(KeyVaultAction):

    MODULE = 'keyvault.azure.secret_info'
    SENSITIVE_KEYS = ('value', 'secret_values')
