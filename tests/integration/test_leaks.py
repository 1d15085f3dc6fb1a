# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""No secret value and no token in JSON callback output at -vvvv with --diff, in failures, or in temp files.

test_security.py scans the default callback's text; this run prints results as JSON (the default
callback's result_format=json; the ``json`` stdout callback lives in ansible.posix, not installed
here) and writes them as JSON files with the ``tree`` callback. Without pipelining, Ansible copies
each module to a remote temp folder of the test's own, which must be gone when the run ends.
"""

import json
import os
import re
import types

import pytest

from playbook_helpers import unique_name

CANARIES = {
    'created': 'leak-canary-created-70c1e3',
    'rotated': 'leak-canary-rotated-9b24aa',
    'failed_at_vault': 'leak-canary-vault-failure-5d0c77',
    'bad_input': 'leak-canary-bad-input-e81f09',
    'principal_secret': 'leak-canary-client-secret-2a6b4d',
    'set_created': 'leak-canary-set-created-41d9b0',
    'set_rotated': 'leak-canary-set-rotated-c5e812',
    'set_bad_input': 'leak-canary-set-bad-input-7fa3e6',
}
TOKEN = re.compile(r'eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.')


@pytest.fixture(scope='module')
def leak_run(playbook, localvault, tmp_path_factory):
    name, set_name = unique_name('leak'), unique_name('leak-set')
    temp = tmp_path_factory.mktemp('leak-temp')
    tasks = [
        {'name': 'create', 'keyvault.azure.secret': {'name': name, 'value': '{{ created }}'}},
        {'name': 'rotate', 'keyvault.azure.secret': {'name': name, 'value': '{{ rotated }}', 'return_value': True}},
        {'name': 'read', 'keyvault.azure.secret_info': {'name': name}, 'register': 'read'},
        # A fact holding a secret is the playbook's to hide, as the lookup's examples do.
        {'name': 'look up', 'ansible.builtin.set_fact': {'looked_up': "{{ lookup('keyvault.azure.secret', '%s') }}" % name}, 'no_log': True},
        {'name': 'got the values', 'ansible.builtin.assert': {'that': ['read.value == rotated', 'looked_up == rotated']}},
        {'name': 'fail at the vault', 'keyvault.azure.secret': {'name': name, 'value': '{{ failed_at_vault }}', 'retries': 0},
         'ignore_errors': True},
        {'name': 'fail on input', 'keyvault.azure.secret': {'name': name, 'value': '{{ bad_input }}', 'not_before': 'never'},
         'ignore_errors': True},
        {'name': 'fail to authenticate', 'keyvault.azure.secret_info': {
            'name': name, 'auth_source': 'service_principal', 'tenant_id': '72f988bf-86f1-41af-91ab-2d7cd011db47',
            'client_id': '0b1', 'client_secret': '{{ principal_secret }}', 'timeout': 2, 'retries': 0}, 'ignore_errors': True},
        {'name': 'trust relaxed on request', 'keyvault.azure.secret_info': {'name': name, 'validate_certs': False},
         'environment': {'ANSIBLE_KEYVAULT_CA_CERT': ''}},
        # Many secrets in one task, after the fault above is spent.
        {'name': 'set create', 'keyvault.azure.secrets': {'secrets': [{'name': set_name, 'value': '{{ set_created }}'}]}},
        {'name': 'set rotate', 'keyvault.azure.secrets': {'secrets': [
            {'name': set_name, 'value': '{{ set_rotated }}'}, {'name': name, 'value': '{{ rotated }}'}]}},
        {'name': 'set fail on input', 'keyvault.azure.secrets': {'secrets': [{'name': set_name, 'value': '{{ set_bad_input }}', 'expires': 'never'}]},
         'ignore_errors': True},
        {'name': 'read many', 'keyvault.azure.secret_info': {'names': [name, set_name]}, 'register': 'many'},
        {'name': 'got many', 'ansible.builtin.assert': {'that': ['many.secret_values[%r] == set_rotated' % set_name]}},
    ]
    # The write fails with HTTP 500 at the vault, so its message comes from the error path.
    localvault.add_fault(operation='SetSecret', status=500, every=3, count=1)
    try:
        run = playbook(tasks, extra_vars=CANARIES, diff=True, verbosity=4, env={
            'ANSIBLE_CALLBACK_RESULT_FORMAT': 'json', 'ANSIBLE_CALLBACKS_ENABLED': 'record_results,ansible.builtin.tree',
            'ANSIBLE_CALLBACK_TREE_DIR': str(temp / 'tree'), 'ANSIBLE_PIPELINING': 'false', 'ANSIBLE_KEEP_REMOTE_FILES': 'false',
            'ANSIBLE_LOCAL_TEMP': str(temp / 'local'), 'ANSIBLE_REMOTE_TMP': str(temp / 'remote'),
            # Where the service principal would get its token: nothing listens there.
            'AZURE_AUTHORITY_HOST': 'https://127.0.0.1:9'})
    finally:
        localvault.control('DELETE', 'faults')
    return types.SimpleNamespace(run=run, name=name, set_name=set_name, temp=temp)


def left_files(folder):
    return [os.path.join(root, name) for root, _dirs, names in os.walk(str(folder)) for name in names]


def test_the_run_used_the_values(leak_run, vault):
    run = leak_run.run
    assert run.rc == 0, run.stderr[-3000:]
    assert not run['got the values']['failed']
    assert '"changed": true' in run.stdout
    assert vault.get_secret(leak_run.name).value == CANARIES['rotated']
    assert not run['trust relaxed on request']['failed']
    assert run.changed('set create', 'set rotate') == [True, True] and not run['got many']['failed']
    assert vault.get_secret(leak_run.set_name).value == CANARIES['set_rotated']


def test_each_failure_was_real(leak_run, localvault):
    run = leak_run.run
    assert run['fail at the vault']['msg'].startswith("vault %s failed the request for secret '%s' with HTTP 500" % (
        localvault.vault_url.rstrip('/'), leak_run.name))
    assert run['fail on input']['msg'].startswith("not_before: 'never' is not a date")
    assert run['set fail on input']['msg'].startswith("secrets[0] (secret '%s'): expires: 'never' is not a date" % leak_run.set_name)
    assert run['fail to authenticate']['failed'] and 'could not get a token' in run['fail to authenticate']['msg']


def test_no_value_or_token_in_the_output_or_results(leak_run):
    run = leak_run.run
    for text in (run.stdout, run.stderr, json.dumps(run.tasks)):
        assert [canary for canary in CANARIES.values() if canary in text] == []
        assert not TOKEN.search(text)


def test_no_file_left_in_the_temp_folders(leak_run):
    left = left_files(leak_run.temp)
    for path in left:
        with open(path, 'rb') as left_file:
            content = left_file.read()
        assert not [canary for canary in CANARIES.values() if canary.encode() in content], path
        assert not TOKEN.search(content.decode('utf-8', 'replace')), path
    assert [path for path in left if 'remote' in path] == []
    assert [os.path.basename(path) for path in left if 'tree' in path] == ['localhost']
