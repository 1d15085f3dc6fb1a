# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad names, URLs, versions, dates and auth options fail with a message naming the option, before any request.

test_module_secret.py covers the value cases (empty, too large, value and value_file) and checks that
nothing is written; here the vault's counters, IMDS included, must not move at all.
"""

import types

import pytest

from playbook_helpers import case_arguments, counters_task

MODULE_CASES = {
    'long-name': ('keyvault.azure.secret', dict(name='n' * 128, value='some-value'),
                  "invalid secret name '%s': use 1-127 letters, digits and hyphens" % ('n' * 128)),
    'name-characters': ('keyvault.azure.secret_info', dict(name='db.password'),
                        "invalid secret name 'db.password': use 1-127 letters, digits and hyphens"),
    'version': ('keyvault.azure.secret_info', dict(name='db', version='latest'),
                "invalid secret version 'latest': a version is 32 hexadecimal digits"),
    'not-before': ('keyvault.azure.secret', dict(name='db', value='some-value', not_before='2030-13-01'),
                   "not_before: '2030-13-01' is not a date; use ISO 8601 such as 2030-01-31 or 2030-01-31T12:00:00Z"),
    'url-path': ('keyvault.azure.secret_info', dict(name='db', vault_url='https://myvault.vault.azure.net/secrets/db'),
                 "vault URL must name only the vault (https://host[:port]), got 'https://myvault.vault.azure.net/secrets/db'"),
    'url-cloud': ('keyvault.azure.secret_info', dict(name='db', vault_url='https://myvault.vault.azure.net', cloud='AzureChinaCloud'),
                  "vault_url 'https://myvault.vault.azure.net' is not a vault of cloud AzureChinaCloud: its host must end with .vault.azure.cn"),
    'vault-name': ('keyvault.azure.secret_info', dict(name='db', vault_name='my--vault'),
                   "vault_name 'my--vault' is not a valid key vault name: 3-24 letters, digits and hyphens, starting with a letter, "
                   "ending with a letter or digit, without consecutive hyphens"),
    'url-and-name': ('keyvault.azure.secret_info', dict(name='db', vault_name='myvault'),
                     'parameters are mutually exclusive: vault_url|vault_name (also check the environment variables ANSIBLE_KEYVAULT_URL, '
                     'ANSIBLE_KEYVAULT_NAME)'),
    'secret-with-identity': ('keyvault.azure.secret_info', dict(name='db', client_secret='never-sent-secret'),
                             'auth_source=managed_identity does not use client_secret; remove it or choose another auth_source '
                             '(check also ANSIBLE_KEYVAULT_CLIENT_SECRET)'),
    'incomplete-principal': ('keyvault.azure.secret_info', dict(name='db', auth_source='service_principal'),
                             'auth_source=service_principal needs tenant_id, client_secret or client_certificate_path'),
    'two-credentials': ('keyvault.azure.secret_info', dict(name='db', auth_source='service_principal', tenant_id='t',
                                                           client_secret='never-sent-secret', client_certificate_path='/tmp/c.pem'),
                        'parameters are mutually exclusive: client_secret|client_certificate_path (also check the environment variables '
                        'ANSIBLE_KEYVAULT_CLIENT_SECRET, ANSIBLE_KEYVAULT_CLIENT_CERTIFICATE_PATH)'),
    'timeout': ('keyvault.azure.secret_info', dict(name='db', timeout=0), 'timeout must be at least 1, got 0'),
}

LOOKUP_CASES = {
    'lookup-name': ("'db password'", "invalid secret name 'db password': use 1-127 letters, digits and hyphens"),
    'lookup-version': ("'db/v2'", "invalid secret version 'v2': a version is 32 hexadecimal digits"),
    'lookup-url': ("'db', vault_url='http://myvault.vault.azure.net'",
                   "vault URL must be an https:// URL such as https://myvault.vault.azure.net, got 'http://myvault.vault.azure.net'"),
}


@pytest.fixture(scope='module')
def bad_input_run(playbook, localvault):
    hosts = dict((host, {'case': arguments, 'module': module}) for host, (module, arguments, _message) in MODULE_CASES.items())
    # Without the environment's vault URL, vault_name is the only vault given.
    hosts['vault-name']['case_environment'] = {'ANSIBLE_KEYVAULT_URL': ''}
    modules = sorted(set(module for module, _arguments, _message in MODULE_CASES.values()))
    tasks = [counters_task('before', localvault)]
    for module in modules:
        tasks.append({'name': module, module: case_arguments(dict((host, case[1]) for host, case in MODULE_CASES.items() if case[0] == module)),
                      'when': 'module == %r' % module, 'ignore_errors': True, 'environment': '{{ case_environment | default({}) }}'})
    for case, (arguments, _message) in LOOKUP_CASES.items():
        tasks.append({'name': case, 'run_once': True, 'ignore_errors': True,
                      'ansible.builtin.set_fact': {'read': "{{ lookup('keyvault.azure.secret', %s) }}" % arguments}})
    tasks.append(counters_task('after', localvault))
    run = playbook([{'hosts': 'cases', 'gather_facts': False, 'tasks': tasks}], cases=hosts)
    messages = dict((host, run.result(module, host).get('msg')) for host, (module, _arguments, _message) in MODULE_CASES.items())
    messages.update((case, run.result(case).get('msg')) for case in LOOKUP_CASES)
    return types.SimpleNamespace(run=run, messages=messages)


@pytest.mark.parametrize('case', sorted(MODULE_CASES))
def test_module_input_is_refused_with_a_message_naming_the_option(bad_input_run, case):
    assert bad_input_run.messages[case] == MODULE_CASES[case][2]


@pytest.mark.parametrize('case', sorted(LOOKUP_CASES))
def test_lookup_input_is_refused_with_a_message_naming_the_problem(bad_input_run, case):
    assert LOOKUP_CASES[case][1] in bad_input_run.messages[case]


def test_nothing_was_sent(bad_input_run):
    run = bad_input_run.run
    before, after = run.counters('before'), run.counters('after')
    assert (after['total'], after['imds']['total']) == (before['total'], before['imds']['total'])
    assert 'never-sent-secret' not in run.output
