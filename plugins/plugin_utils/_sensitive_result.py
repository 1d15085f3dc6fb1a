# -*- coding: utf-8 -*-
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin base for modules that may return a secret value.

For internal collection use only: names and behaviour may change without notice.

A module cannot mark its own result as sensitive; an action plugin can. When the module's result
carries a ``value``, the whole result is flagged like a ``no_log`` task: callbacks show it censored
at every verbosity, while ``register`` still gets the value.
"""

from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash


class SensitiveResultAction(ActionBase):
    """Runs the module named by ``MODULE`` and hides its result when it returns a value.

    Async is left unsupported: an async job's result would reach the user through async_status,
    past this plugin.
    """

    MODULE = None
    # Result keys that carry something secret; any of them hides the whole result.
    SENSITIVE_KEYS = ('value',)
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super(SensitiveResultAction, self).run(tmp, task_vars)
        result = merge_hash(result, self._execute_module(module_name=self.MODULE, module_args=self._task.args, task_vars=task_vars))
        self._remove_tmp_path(self._connection._shell.tmpdir)
        if any(key in result for key in self.SENSITIVE_KEYS):
            result['_ansible_no_log'] = True
        return result
