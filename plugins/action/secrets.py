# -*- coding: utf-8 -*-
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

# Refuses a bad list before the module runs, and takes the turn of every secret of the list at once (see
# plugin_utils._action), under the same keys as keyvault.azure.secret, so both modules take turns with each other.

from ansible_collections.keyvault.azure.plugins.module_utils._identifiers import KeyVaultInputError
from ansible_collections.keyvault.azure.plugins.module_utils._secret_batch import check_exclusive_tags, check_items
from ansible_collections.keyvault.azure.plugins.plugin_utils._action import KeyVaultAction

# The key of keyvault.azure.secret's turns.
SECRET_MODULE = 'keyvault.azure.secret'


class ActionModule(KeyVaultAction):

    MODULE = 'keyvault.azure.secrets'
    CONVERGES = True

    def refused_input(self):
        try:
            check_items(self._task.args.get('secrets'))
            check_exclusive_tags(self._task.args.get('exclusive_tags'), self._task.args.get('secrets'))
        except KeyVaultInputError as error:
            return str(error)
        return None

    def objects_label(self):
        return 'the %d secrets of its list' % len(self._task.args['secrets'])

    def object_keys(self):
        vault = self.vault_key()
        keys = [[SECRET_MODULE, vault, item['name']] for item in self._task.args['secrets']]
        if self._task.args.get('exclusive_tags'):
            keys.append([self.MODULE, vault, 'exclusive_tags'])
        return keys
