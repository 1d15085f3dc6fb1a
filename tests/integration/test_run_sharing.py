# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the hosts of one run share: a token per identity, opted-in secret values, and turns at writing one object.

Each test has a vault of its own, so that its counters hold only its own requests.
"""

import os
import stat
import time

import pytest

from playbook_helpers import secret_client, unique_name

SECRETS = {'shared-db-password': 'db-value {{ not templated }}', 'shared-api-key': 'api-value', 'shared-smtp': 'smtp-value'}
HOSTS = 8
VAULT_CONFIG = {'deletion_delay_seconds': 0, 'recovery_delay_seconds': 0, 'certificate_creation_delay_seconds': 1,
                'identities': [{'name': 'lister', 'system_assigned': False, 'permissions': {'secrets': ['list']}}]}


@pytest.fixture
def sharing_vault(localvault_factory):
    vault = localvault_factory(config=VAULT_CONFIG)
    client = secret_client(vault)
    for name, value in SECRETS.items():
        client.set_secret(name, value)
    vault.reset()
    return vault


def lookup_play(runtime_dir, extra_hosts=None):
    """Every host of the group reads the three secrets as the system-assigned identity; localhost lists the run's cache."""
    hosts = dict(('host%02d' % number, {}) for number in range(HOSTS))
    hosts.update(extra_hosts or {})
    names = ', '.join("'%s'" % name for name in sorted(SECRETS))
    plays = [
        {'hosts': 'cases', 'gather_facts': False, 'tasks': [
            {'name': 'read', 'ansible.builtin.set_fact': {'read': "{{ query('keyvault.azure.secret', %s) }}" % names}, 'ignore_errors': True},
        ]},
        {'hosts': 'localhost', 'gather_facts': False, 'tasks': [
            {'name': 'cache files', 'ansible.builtin.find': {'paths': os.path.join(runtime_dir, 'keyvault-azure'), 'recurse': True,
                                                             'file_type': 'any', 'hidden': True}},
        ]},
    ]
    return plays, hosts


def identity_counts(vault, identity):
    counters = vault.counters()
    return counters['imds']['identities'].get(identity, 0), counters['identities'].get(identity, {}).get('GetSecret', 0)


def run_lookups(playbook, vault, tmp_path, env=None, extra_hosts=None):
    runtime_dir = str(tmp_path / 'runtime')
    os.mkdir(runtime_dir, 0o700)
    plays, hosts = lookup_play(runtime_dir, extra_hosts)
    run = playbook(plays, identity=None, cases=hosts, env=dict(vault.env, XDG_RUNTIME_DIR=runtime_dir, **(env or {})))
    assert run.rc in (0, 2), run.output
    return run, runtime_dir


def assert_every_host_read_the_values(run):
    expected = [SECRETS[name] for name in sorted(SECRETS)]
    for number in range(HOSTS):
        assert run.result('read', 'host%02d' % number)['ansible_facts']['read'] == expected


def wait_until_gone(runtime_dir):
    base = os.path.join(runtime_dir, 'keyvault-azure')
    deadline = time.monotonic() + 10
    while os.listdir(base) and time.monotonic() < deadline:
        time.sleep(0.1)
    return os.listdir(base)


def test_hosts_of_a_run_share_one_token_in_private_files_removed_after_the_run(playbook, sharing_vault, tmp_path):
    run, runtime_dir = run_lookups(playbook, sharing_vault, tmp_path)
    assert_every_host_read_the_values(run)
    assert identity_counts(sharing_vault, 'vm') == (1, HOSTS * len(SECRETS))
    files = run.result('cache files')['files']
    assert [entry['path'] for entry in files if entry['isdir']] and [entry['path'] for entry in files if entry['isreg']]
    assert set((entry['isdir'], entry['mode']) for entry in files) == set([(True, '0700'), (False, '0600')])
    assert wait_until_gone(runtime_dir) == []


def test_without_the_token_cache_each_host_asks_for_its_own_token(playbook, sharing_vault, tmp_path):
    run, _runtime_dir = run_lookups(playbook, sharing_vault, tmp_path, env={'ANSIBLE_KEYVAULT_TOKEN_CACHE': 'false'})
    assert_every_host_read_the_values(run)
    assert identity_counts(sharing_vault, 'vm') == (HOSTS, HOSTS * len(SECRETS))
    assert run.result('cache files')['files'] == []


def test_the_value_cache_reads_each_secret_once_per_identity(playbook, sharing_vault, tmp_path):
    lister = {'ansible_keyvault_client_id': sharing_vault.identities['lister']['client_id']}
    run, runtime_dir = run_lookups(playbook, sharing_vault, tmp_path, env={'ANSIBLE_KEYVAULT_VALUE_CACHE': 'true'}, extra_hosts={'lister': lister})
    assert_every_host_read_the_values(run)
    assert identity_counts(sharing_vault, 'vm') == (1, len(SECRETS))
    # Another identity does not get the values the first one read: the vault refuses it, as without the cache.
    denied = run.result('read', 'lister')
    assert denied.get('failed') and 'denied' in denied['msg'], denied
    assert identity_counts(sharing_vault, 'lister')[0] == 1
    assert wait_until_gone(runtime_dir) == []


def open_runtime_dir(tmp_path):
    """A private XDG_RUNTIME_DIR whose keyvault-azure folder another user made first, open to everyone."""
    runtime_dir = tmp_path / 'open-runtime'
    (runtime_dir / 'keyvault-azure').mkdir(parents=True)
    os.chmod(str(runtime_dir / 'keyvault-azure'), stat.S_IRWXU | stat.S_IRWXG | stat.S_IRWXO)
    return runtime_dir


def test_a_base_directory_others_can_use_is_passed_over_for_a_private_one(playbook, sharing_vault, tmp_path):
    runtime_dir = open_runtime_dir(tmp_path)
    plays, hosts = lookup_play(str(runtime_dir))
    run = playbook(plays, identity=None, cases=hosts, env=dict(sharing_vault.env, XDG_RUNTIME_DIR=str(runtime_dir)))
    assert run.rc == 0, run.output
    assert_every_host_read_the_values(run)
    assert "this run's cache is in " in run.output
    assert '%s is not a directory that only user' % (runtime_dir / 'keyvault-azure') in run.output
    # Nothing went into the refused folder, and the hosts still shared one token through the next one.
    assert run.result('cache files')['files'] == []
    assert identity_counts(sharing_vault, 'vm')[0] == 1


def test_hosts_converging_one_secret_write_once_when_the_base_directory_is_taken(playbook, sharing_vault, tmp_path):
    secret_name = unique_name('taken-base')
    hosts = dict(('host%02d' % number, {}) for number in range(HOSTS))
    tasks = [{'name': 'secret', 'keyvault.azure.secret': {'name': secret_name, 'value': 'one value for all',
                                                          'client_id': sharing_vault.identities['operator']['client_id']}}]
    run = playbook([{'hosts': 'cases', 'gather_facts': False, 'tasks': tasks}], identity=None, cases=hosts,
                   env=dict(sharing_vault.env, XDG_RUNTIME_DIR=str(open_runtime_dir(tmp_path))))
    assert run.rc == 0, run.output
    assert len([host for host in hosts if run.result('secret', host)['changed']]) == 1
    assert len(list(secret_client(sharing_vault).list_properties_of_secret_versions(secret_name))) == 1
    assert sharing_vault.counters()['identities']['operator'].get('SetSecret') == 1


def test_hosts_converging_one_secret_and_one_certificate_at_once_write_once(playbook, sharing_vault, tmp_path):
    secret_name, certificate_name = unique_name('converged'), unique_name('converged-cert')
    hosts = dict(('host%02d' % number, {}) for number in range(HOSTS))
    operator = sharing_vault.identities['operator']['client_id']
    tasks = [
        {'name': 'secret', 'keyvault.azure.secret': {'name': secret_name, 'value': 'one value for all', 'client_id': operator}},
        {'name': 'certificate', 'keyvault.azure.certificate': {'name': certificate_name, 'subject': 'CN=converged.example.com',
                                                               'dns_names': ['converged.example.com'], 'client_id': operator}},
    ]
    run = playbook([{'hosts': 'cases', 'gather_facts': False, 'tasks': tasks}], identity=None, cases=hosts,
                   env=dict(sharing_vault.env, XDG_RUNTIME_DIR=str(tmp_path)))
    assert run.rc == 0, run.output
    assert len([host for host in hosts if run.result('secret', host)['changed']]) == 1
    assert len([host for host in hosts if run.result('certificate', host)['changed']]) == 1
    assert len(list(secret_client(sharing_vault).list_properties_of_secret_versions(secret_name))) == 1
    writes = sharing_vault.counters()['identities']['operator']
    assert (writes.get('SetSecret'), writes.get('CreateCertificate')) == (1, 1)


def test_hosts_converging_one_set_at_once_write_each_secret_once(playbook, sharing_vault, tmp_path):
    """Every host converges the same list at once: each secret is written once, and a secret task after it finds it converged."""
    names = [unique_name('set-%d' % number) for number in range(5)]
    hosts = dict(('host%02d' % number, {}) for number in range(HOSTS))
    operator = sharing_vault.identities['operator']['client_id']
    # Hosts list the items in different orders: the turns are still taken in one order, so none waits on another forever.
    items = [{'name': name, 'value': 'one value for all of %s' % name} for name in names]
    tasks = [
        {'name': 'set', 'keyvault.azure.secrets': {
            'client_id': operator, 'secrets': "{{ items | shuffle(seed=inventory_hostname) }}"}, 'vars': {'items': items}},
        {'name': 'single', 'keyvault.azure.secret': {'name': names[0], 'value': 'one value for all of %s' % names[0], 'client_id': operator}},
    ]
    run = playbook([{'hosts': 'cases', 'gather_facts': False, 'tasks': tasks}], identity=None, cases=hosts,
                   env=dict(sharing_vault.env, XDG_RUNTIME_DIR=str(tmp_path)))
    assert run.rc == 0, run.output
    changed = dict((host, run.result('set', host)['changed']) for host in hosts)
    assert sorted(changed.values()) == [False] * (HOSTS - 1) + [True]
    assert not any(run.result('single', host)['changed'] for host in hosts)
    for name in names:
        assert len(list(secret_client(sharing_vault).list_properties_of_secret_versions(name))) == 1
    assert sharing_vault.counters()['identities']['operator'].get('SetSecret') == len(names)
