# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Without any private directory for the run's lock, a converging task fails before it runs its module."""

import os
import types

from ansible.plugins.action import ActionBase

from ansible_collections.keyvault.azure.plugins.plugin_utils import _action, _shared_tokens


class SecretAction(_action.KeyVaultAction):
    MODULE = 'keyvault.azure.secret'
    CONVERGES = True

    def _execute_module(self, **kwargs):  # pylint: disable=arguments-differ
        raise AssertionError('the module must not run without the lock')


def test_a_converging_task_fails_when_no_directory_can_hold_the_lock(tmp_path, monkeypatch):
    taken = tmp_path / 'taken'
    taken.mkdir()
    os.chmod(str(taken), 0o777)
    monkeypatch.setattr(_shared_tokens, '_THIS_RUN', [])
    monkeypatch.setattr(_shared_tokens, 'default_base_directories', lambda private_fallback: [str(taken)])
    monkeypatch.setattr(ActionBase, 'run', lambda self, tmp=None, task_vars=None: {})
    action = SecretAction.__new__(SecretAction)
    action._task = types.SimpleNamespace(check_mode=False, args={'name': 'db'})  # pylint: disable=protected-access
    result = action.run(task_vars={})
    assert result == {'failed': True, 'msg': (
        "keyvault.azure.secret was not run: the hosts of this run cannot take turns at writing 'db' without a private directory for "
        "their lock (%s is not a directory that only user %d can use); nothing was sent" % (taken, os.getuid()))}
