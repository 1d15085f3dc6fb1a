# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One settings story: the same ansible_keyvault_* variables serve lookups and modules, in one order of precedence."""

import yaml

from playbook_helpers import unique_name

# Nothing of the connection comes from the environment: the vault, its CA and the identity are group_vars only.
NO_CONNECTION_ENVIRONMENT = {'ANSIBLE_KEYVAULT_URL': None, 'ANSIBLE_KEYVAULT_CA_CERT': None, 'ANSIBLE_KEYVAULT_VERIFY_CHALLENGE_RESOURCE': None,
                             'ANSIBLE_KEYVAULT_CLIENT_ID': None}
CLIENT_SECRET = 'group-vars-client-secret-4f1e'


def group_vars(localvault):
    """Connection variables as a user writes them in group_vars/all.yml; the vault URL goes through a template."""
    variables = {
        'shop_vault': localvault.vault_url,
        'ansible_keyvault_vault_url': '{{ shop_vault }}',
        'ansible_keyvault_ca_cert': localvault.ca_bundle,
        'ansible_keyvault_verify_challenge_resource': False,
        'ansible_keyvault_timeout': 20,
    }
    operator = localvault.identities['operator']
    if not operator['system_assigned']:
        variables['ansible_keyvault_client_id'] = operator['client_id']
    return variables


def run_with_group_vars(playbook, tmp_path, variables, tasks, **kwargs):
    (tmp_path / 'group_vars').mkdir()
    (tmp_path / 'group_vars' / 'all.yml').write_text(yaml.safe_dump(variables))
    path = tmp_path / 'playbook.yml'
    path.write_text(yaml.safe_dump([{'name': 'settings', 'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks}], sort_keys=False))
    return playbook(str(path), identity=None, env=NO_CONNECTION_ENVIRONMENT, **kwargs)


def test_the_same_group_vars_serve_a_module_and_a_lookup(playbook, localvault, vault, tmp_path):
    name = unique_name('settings')
    run = run_with_group_vars(playbook, tmp_path, group_vars(localvault), [
        {'name': 'write', 'keyvault.azure.secret': {'name': name, 'value': 'from-group-vars'}},
        {'name': 'read', 'keyvault.azure.secret_info': {'name': name}, 'register': 'read'},
        {'name': 'look up', 'ansible.builtin.set_fact': {'looked_up': "{{ lookup('keyvault.azure.secret', '%s') }}" % name}},
        {'name': 'compare', 'ansible.builtin.assert': {'that': ['looked_up == read.value', "read.value == 'from-group-vars'"]}},
    ])
    assert run.rc == 0, run.output
    assert run.result('write')['changed'] is True
    assert vault.get_secret(name).value == 'from-group-vars'


def test_precedence_task_then_variable_then_environment(playbook, localvault, vault, tmp_path):
    name = unique_name('settings-order')
    vault.set_secret(name, 'ordered-value')
    variables = dict(group_vars(localvault), ansible_keyvault_vault_name='hidden-by-the-task')
    del variables['ansible_keyvault_vault_url']
    run = run_with_group_vars(playbook, tmp_path, variables, [
        # The task's vault_url hides the vault_name variable rather than conflicting with it.
        {'name': 'task wins', 'keyvault.azure.secret_info': {'name': name, 'include_value': False, 'vault_url': localvault.vault_url}},
        # module_defaults count as the task's own arguments: they win over a variable that points nowhere.
        {'name': 'module_defaults win', 'keyvault.azure.secret_info': {'name': name, 'include_value': False},
         'module_defaults': {'group/keyvault.azure.all': {'vault_url': localvault.vault_url}},
         'vars': {'ansible_keyvault_vault_url': 'https://127.0.0.1:9', 'ansible_keyvault_vault_name': ''}},
        # A variable wins over the managed host's environment, which points nowhere here.
        {'name': 'variable wins', 'keyvault.azure.secret_info': {'name': name, 'include_value': False},
         'vars': {'ansible_keyvault_vault_url': localvault.vault_url, 'ansible_keyvault_vault_name': ''},
         'environment': {'ANSIBLE_KEYVAULT_URL': 'https://127.0.0.1:9'}},
        {'name': 'no vault', 'keyvault.azure.secret_info': {'name': name}, 'vars': {'ansible_keyvault_vault_name': ''}, 'ignore_errors': True},
    ])
    assert run.result('task wins')['secret']['name'] == name, run.output
    assert run.result('module_defaults win')['secret']['name'] == name, run.output
    assert run.result('variable wins')['secret']['name'] == name, run.output
    assert run.result('no vault')['msg'] == (
        'no vault given: set vault_url or vault_name in the task, in module_defaults (group/keyvault.azure.all), as the variable '
        'ansible_keyvault_vault_url or ansible_keyvault_vault_name, or in the environment variable ANSIBLE_KEYVAULT_URL or '
        'ANSIBLE_KEYVAULT_NAME of the managed host')


def test_a_secret_from_a_variable_stays_hidden(playbook, localvault, tmp_path):
    variables = dict(group_vars(localvault), ansible_keyvault_client_secret='{{ sp_secret }}', sp_secret=CLIENT_SECRET)
    run = run_with_group_vars(playbook, tmp_path, variables, [
        {'name': 'misconfigured', 'keyvault.azure.secret_info': {'name': 'anything'}, 'ignore_errors': True},
    ], verbosity=4)
    message = run.result('misconfigured')['msg']
    assert message.startswith('auth_source=managed_identity does not use client_secret'), message
    assert CLIENT_SECRET not in run.output
