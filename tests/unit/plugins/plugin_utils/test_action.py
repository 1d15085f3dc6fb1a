# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Without any private directory for the run's lock, a converging task fails before it runs its module."""

import contextlib
import os
import types

from ansible.parsing.dataloader import DataLoader
from ansible.plugins.action import ActionBase
from ansible.template import Templar

try:
    from ansible.template import trust_as_template
except ImportError:  # before ansible-core 2.19 every string was a template
    def trust_as_template(value):
        return value

from ansible_collections.keyvault.azure.plugins.action.secret import ActionModule as SecretActionModule
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


def test_unset_connection_options_come_from_templated_variables():
    task_vars = {'ansible_keyvault_vault_url': 'https://hidden.vault.azure.net', 'ansible_keyvault_timeout': trust_as_template('{{ wait }}'), 'wait': 7,
                 'ansible_keyvault_client_id': 'from-vars', 'ansible_keyvault_retries': 9, 'ansible_keyvault_token_cache': False}
    action = SecretActionModule.__new__(SecretActionModule)
    action._task = types.SimpleNamespace(check_mode=False, args={'secret_name': 'db', 'vault_name': 'shop', 'retries': 1})  # pylint: disable=protected-access
    action._templar = Templar(loader=DataLoader(), variables=task_vars)  # pylint: disable=protected-access
    args = action.module_args = action.args_with_variables(task_vars)
    # The task's vault_name hides the vault_url variable; the task's retries win; lookup-only variables are not passed on.
    assert args == {'secret_name': 'db', 'vault_name': 'shop', 'retries': 1, 'timeout': 7, 'client_id': 'from-vars'}
    assert action.object_keys() == [['keyvault.azure.secret', 'shop', 'db']]


def test_names_that_differ_only_in_case_take_one_turn(monkeypatch):
    taken = []

    class RecordingCache:
        def locked(self, namespace, key):
            taken.append((namespace, key))
            return contextlib.nullcontext()

    class RecordingAction(SecretActionModule):
        def _execute_module(self, **kwargs):  # pylint: disable=arguments-differ
            return {'changed': False}

        def _remove_tmp_path(self, path):  # pylint: disable=arguments-differ
            pass

    monkeypatch.setattr(_action, 'this_run', lambda: types.SimpleNamespace(cache=RecordingCache(), unavailable=None))
    monkeypatch.setattr(ActionBase, 'run', lambda self, tmp=None, task_vars=None: {})
    for name, vault in (('DB-Password', 'https://Shop.vault.azure.net'), ('db-password', 'https://shop.vault.azure.net')):
        action = RecordingAction.__new__(RecordingAction)
        action._task = types.SimpleNamespace(check_mode=False, args={'name': name, 'vault_url': vault})  # pylint: disable=protected-access
        action._templar = Templar(loader=DataLoader(), variables={})  # pylint: disable=protected-access
        action._connection = types.SimpleNamespace(_shell=types.SimpleNamespace(tmpdir=None))  # pylint: disable=protected-access
        action.run(task_vars={})
    assert taken[0] == taken[1] == ('converge', ['keyvault.azure.secret', 'https://shop.vault.azure.net', 'db-password'])
