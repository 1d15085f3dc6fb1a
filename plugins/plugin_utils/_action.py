# -*- coding: utf-8 -*-
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin base of the collection's modules: hidden secret results, one writer per object.

For internal collection use only: names and behaviour may change without notice.

Connection and auth options the task leaves unset (after module_defaults) are taken from the
``ansible_keyvault_*`` variables, templated here on the controller, as the lookups take them; the
module then falls back to its ``ANSIBLE_KEYVAULT_*`` environment variables on the managed host.

A module cannot mark its own result as sensitive; an action plugin can. When the module's result
carries a ``value``, the whole result is flagged like a ``no_log`` task: callbacks show it censored
at every verbosity, while ``register`` still gets the value.

Key Vault has no conditional writes: hosts that converge the same object at the same moment all see
it out of date and each write a new version. So within one ansible-playbook run, the hosts of a
converging module take turns per object (vault and name): the second host finds what the first
wrote and changes nothing. Different objects still converge in parallel.
"""

import json
from contextlib import ExitStack

from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash

from ansible_collections.keyvault.azure.plugins.module_utils._options import OPTION_NAMES, lower_level_options, options_given, variable_for
from ansible_collections.keyvault.azure.plugins.plugin_utils._shared_tokens import this_run


def turn_key(key):
    """``key`` as hosts take turns on it: vault and object names in lower case.

    Key Vault object names are case-insensitive ("Keys, secrets, and certificates overview", Microsoft Learn), and so are
    host names in vault URLs: ``DB-Password`` and ``db-password`` are one object, and their writers take one turn.
    """
    return [part.lower() if isinstance(part, str) else part for part in key]


class KeyVaultAction(ActionBase):
    """Runs the module named by ``MODULE``, one host at a time per object (or set of objects) when ``CONVERGES``.

    Async is left unsupported: an async job's result would reach the user through async_status,
    past this plugin.
    """

    MODULE = None
    # Result keys that carry something secret; any of them hides the whole result.
    SENSITIVE_KEYS = ('value',)
    # Whether the module writes: its runs on several hosts for the same object are serialized.
    CONVERGES = False
    # The module's option naming the object, then its aliases.
    NAME_OPTIONS = ('name',)
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super(KeyVaultAction, self).run(tmp, task_vars)
        refused = self.refused_input()
        if refused:
            result.update(failed=True, msg=refused)
            return result
        self.module_args = self.args_with_variables(task_vars or {})
        run_cache = this_run().cache if self.CONVERGES and not self._task.check_mode else None
        if self.CONVERGES and not self._task.check_mode and run_cache is None:
            return dict(result, failed=True, msg=self.no_turns_message(this_run().unavailable))
        with ExitStack() as turns:
            if run_cache is not None:
                # One order for every host, so that no two hosts each hold an object the other waits for.
                for key in sorted((turn_key(key) for key in self.object_keys()), key=lambda key: json.dumps(key, default=str)):
                    turns.enter_context(run_cache.locked('converge', key))
            module_result = self._execute_module(module_name=self.MODULE, module_args=self.module_args, task_vars=task_vars)
        result = merge_hash(result, module_result)
        self._remove_tmp_path(self._connection._shell.tmpdir)
        if any(key in result for key in self.SENSITIVE_KEYS):
            result['_ansible_no_log'] = True
        return result

    def args_with_variables(self, task_vars):
        """The task's arguments, with the connection options it leaves unset taken from ``ansible_keyvault_*`` variables.

        Only the variables of options the task does not set are templated, so an unused variable cannot fail the task.
        """
        args = dict(self._task.args)
        given = options_given(args)
        wanted = dict((option, task_vars[variable_for(option)]) for option in OPTION_NAMES
                      if variable_for(option) in task_vars and option not in given)
        if wanted:
            args.update(lower_level_options(given, self._templar.template(wanted)))
        return args

    def refused_input(self):
        """A message refusing the task's arguments before the module runs, or None; the module checks the rest."""
        return None

    def no_turns_message(self, reason):
        """Without the run's lock, hosts writing one object at once would each add a version: nothing is sent instead."""
        return ('%s was not run: the hosts of this run cannot take turns at writing %s without a private directory for '
                'their lock (%s); nothing was sent' % (self.MODULE, self.objects_label(), reason))

    def object_name(self):
        """The name of the object the task writes, given with the option or one of its aliases."""
        return next((self._task.args[option] for option in self.NAME_OPTIONS if self._task.args.get(option)), None)

    def objects_label(self):
        """What the task writes, for messages."""
        return "'%s'" % self.object_name()

    def vault_key(self):
        """The vault the task or an ansible_keyvault_* variable names (see args_with_variables), as far as the controller can tell.

        A vault that neither names comes from each host's environment; such tasks share a key per object name,
        which at worst serializes hosts that write to different vaults.
        """
        given = options_given(self.module_args)
        return given.get('vault_url') or given.get('vault_name') or ''

    def object_keys(self):
        """The objects the task converges: one turn each."""
        return [[self.MODULE, self.vault_key(), self.object_name()]]
