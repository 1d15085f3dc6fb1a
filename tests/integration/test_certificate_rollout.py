# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fleet of hosts (local connection) each with its own user-assigned identity in a local vault of its own.

playbooks/certificate_rollout.yml creates the certificate once, centrally, and every host fetches and installs
it with its own identity; a second run changes nothing anywhere. Hosts that all ask to create the same
certificate at the same moment end with one version.
"""

import os
import stat

import pytest
from azure.keyvault.certificates import CertificateClient
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from playbook_helpers import case_arguments, counters_task, writes_between

HOSTS = ['web%02d' % number for number in range(1, 7)]
ROLLOUT = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'playbooks', 'certificate_rollout.yml')


def fleet_config(creation_delay):
    # Exactly the permissions the rollout documents: web hosts read the certificate and its secret, the
    # certificate manager reads, creates and updates certificates and reads no secret.
    identities = [{'name': host, 'permissions': {'certificates': ['get'], 'secrets': ['get']}} for host in HOSTS]
    identities.append({'name': 'certmanager', 'permissions': {'certificates': ['get', 'create', 'update'], 'secrets': []}})
    return {'identities': identities, 'certificate_creation_delay_seconds': creation_delay, 'deletion_delay_seconds': 0,
            'recovery_delay_seconds': 0, 'soft_delete_retention_days': 7}


@pytest.fixture
def fleet_vault_factory(localvault_factory, monkeypatch):
    def start(creation_delay=0):
        vault = localvault_factory(config=fleet_config(creation_delay))
        # The test reads the vault through the vault's identity endpoint, like the hosts.
        for name, value in vault.env.items():
            monkeypatch.setenv(name, value)
        return vault
    return start


@pytest.fixture
def fleet_vault(fleet_vault_factory):
    return fleet_vault_factory()


def certificate_client(vault):
    return CertificateClient(vault.vault_url, vault.credential('operator'), verify_challenge_resource=False, connection_verify=vault.ca_bundle)


def versions(vault, name):
    return list(certificate_client(vault).list_properties_of_certificate_versions(name))


def test_hosts_creating_the_same_certificate_at_once_end_with_one_version(playbook, fleet_vault_factory):
    # A creation that stays pending for a few seconds, as in the service, lets the concurrent creators meet it. Up to
    # the SDK's 5-second polling interval it costs no time.
    fleet_vault = fleet_vault_factory(creation_delay=4)
    arguments = {'name': 'shared-tls', 'subject': 'CN=shared.example.test', 'dns_names': ['shared.example.test'],
                 'client_id': fleet_vault.identities['certmanager']['client_id']}
    tasks = [counters_task('counters 0', fleet_vault)]
    for step, check_mode in enumerate((True, False, True, False), start=1):
        tasks.append({'name': 'step %d' % step, 'keyvault.azure.certificate': arguments, 'check_mode': check_mode})
        tasks.append(counters_task('counters %d' % step, fleet_vault))
    play = {'hosts': 'cases', 'gather_facts': False, 'tasks': tasks}
    run = playbook([play], identity=None, cases=dict((host, {}) for host in HOSTS), env=fleet_vault.env)
    assert run.rc == 0, run.output[-3000:]

    changed = [[run.result('step %d' % step, host)['changed'] for host in HOSTS] for step in range(1, 5)]
    assert changed[0] == [True] * len(HOSTS)
    assert sum(changed[1]) == 1
    assert not any(changed[2]) and not any(changed[3])
    writes = [writes_between(run.counters('counters %d' % (step - 1)), run.counters('counters %d' % step), 'certmanager') for step in range(1, 5)]
    assert writes[0] == writes[2] == writes[3] == {}
    assert len(versions(fleet_vault, 'shared-tls')) == 1
    statuses = run.counters('counters 2')['statuses']['CreateCertificate']
    assert statuses['202'] == 1
    results = [run.result('step 2', host) for host in HOSTS]
    assert len(set(result['certificate']['thumbprint'] for result in results)) == 1
    # Hosts that came a moment too late met the pending operation and waited for it instead of creating another.
    waited = [result for result in results if result['operation'] is not None]
    assert all(not result['operation']['started_by_this_task'] and result['operation']['status'] == 'completed' for result in waited)
    assert statuses.get('409', 0) <= len(waited)


@pytest.fixture
def rollout(playbook, fleet_vault, tmp_path):
    owner = os.getuid()
    group = os.getgid()
    hosts = {}
    for host in HOSTS:
        folder = tmp_path / host
        hosts[host] = {
            'keyvault_client_id': fleet_vault.identities[host]['client_id'],
            'certificate_dir': str(folder / 'tls'),
            'certificate_restart_command': ['/bin/sh', '-c', 'echo restarted >> %s' % (folder / 'restarts')],
        }
    extra_vars = {
        'rollout_hosts': 'cases',
        'certificate_name': 'web-tls',
        'certificate_dns_names': ['www.example.test', 'example.test'],
        'certificate_manager_client_id': fleet_vault.identities['certmanager']['client_id'],
        'certificate_owner': owner,
        'certificate_group': group,
    }

    def run():
        before = fleet_vault.counters()
        outcome = playbook(ROLLOUT, identity=None, cases=hosts, extra_vars=extra_vars, env=fleet_vault.env, diff=True)
        assert outcome.rc == 0, outcome.output[-3000:]
        return outcome, before, fleet_vault.counters()

    return run, hosts


def restarts(host_vars):
    path = os.path.join(os.path.dirname(host_vars['certificate_dir']), 'restarts')
    if not os.path.exists(path):
        return 0
    with open(path, encoding='utf-8') as restart_log:
        return len(restart_log.read().splitlines())


def test_rollout_installs_one_certificate_everywhere_then_changes_nothing(rollout, fleet_vault):
    run, hosts = rollout
    first, first_before, first_after = run()
    second, second_before, second_after = run()

    [version] = versions(fleet_vault, 'web-tls')
    issued = certificate_client(fleet_vault).get_certificate('web-tls')
    assert first['Create the certificate, or renew it when it is close to its expiry (once, centrally)']['changed']
    assert len(first.tasks['Create the certificate, or renew it when it is close to its expiry (once, centrally)']) == 1
    key_in_vault = None
    for host, host_vars in hosts.items():
        folder = host_vars['certificate_dir']
        with open(os.path.join(folder, 'web-tls.crt'), 'rb') as certificate_file:
            installed = x509.load_pem_x509_certificate(certificate_file.read())
        assert installed.public_bytes(serialization.Encoding.DER) == bytes(issued.cer), host
        key_path = os.path.join(folder, 'web-tls.key')
        assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600, host
        assert os.stat(key_path).st_uid == os.getuid()
        with open(key_path, 'rb') as key_file:
            key = serialization.load_pem_private_key(key_file.read(), None)
        assert key.public_key().public_numbers() == installed.public_key().public_numbers(), host
        key_in_vault = key_in_vault or key.private_numbers()
        assert key.private_numbers() == key_in_vault
        # Each host fetched with its own identity: one certificate read and one backing-secret read.
        assert first_after['identities'][host].get('GetCertificate') == 1, host
        assert first_after['identities'][host].get('GetSecret') == 1, host
        assert restarts(host_vars) == 1, host
        assert first.result('Install the certificate followed by its chain', host)['changed']
    assert version.version == issued.properties.version

    # The private key never shows, although the run used --diff.
    private_pem = serialization.load_pem_private_key(open(os.path.join(hosts[HOSTS[0]]['certificate_dir'], 'web-tls.key'), 'rb').read(), None)
    key_text = private_pem.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    key_body = key_text.splitlines()[1]
    assert key_body not in first.output and key_body not in repr(first.tasks)

    # Second run: nothing changed anywhere, no handler, no write.
    for host in HOSTS:
        for task, results in second.tasks.items():
            if host in results:
                assert not results[host].get('changed'), (host, task)
        assert restarts(hosts[host]) == 1
    assert not second['Create the certificate, or renew it when it is close to its expiry (once, centrally)']['changed']
    assert writes_between(first_before, first_after, 'certmanager') == {'CreateCertificate': 1}
    assert writes_between(second_before, second_after, 'certmanager') == {}
    assert all(second_after['identities'][host].get('GetSecret') == 2 for host in HOSTS)


def test_each_identity_has_exactly_what_it_needs(playbook, fleet_vault):
    web = fleet_vault.identities['web01']['client_id']
    manager = fleet_vault.identities['certmanager']['client_id']
    name = 'privilege-tls'
    # One host per attempt, all at once, after the manager created the certificate.
    cases = {
        'manager-reads-certificate': ('info', dict(client_id=manager, name=name, include_pem=True)),
        'manager-reads-key': ('info', dict(client_id=manager, name=name, include_private_key=True)),
        'manager-deletes': ('certificate', dict(client_id=manager, name=name, state='absent')),
        'web-reads-key': ('info', dict(client_id=web, name=name, include_private_key=True)),
        'web-updates-policy': ('certificate', dict(client_id=web, name=name, reuse_key=True)),
        'web-creates': ('certificate', dict(client_id=web, name='web-own', subject='CN=own')),
        'vm-reads': ('info', dict(name=name)),
    }
    hosts = dict((host, {'module': module, 'case': arguments}) for host, (module, arguments) in cases.items())
    arguments = case_arguments(dict((host, host_vars['case']) for host, host_vars in hosts.items()))
    plays = [
        {'hosts': 'localhost', 'gather_facts': False, 'tasks': [
            {'name': 'manager creates', 'keyvault.azure.certificate': {'client_id': manager, 'name': name, 'subject': 'CN=privilege.example.test'}}]},
        {'hosts': 'cases', 'gather_facts': False, 'tasks': [
            {'name': 'attempt info', 'keyvault.azure.certificate_info': arguments, 'when': "module == 'info'", 'ignore_errors': True},
            {'name': 'attempt certificate', 'keyvault.azure.certificate': arguments, 'when': "module == 'certificate'", 'ignore_errors': True}]},
    ]
    run = playbook(plays, identity=None, cases=hosts, env=fleet_vault.env)
    assert run.rc == 0, run.output[-3000:]
    attempts = dict((host, run.result('attempt ' + host_vars['module'], host)) for host, host_vars in hosts.items())
    assert run['manager creates']['changed']
    assert not attempts['manager-reads-certificate']['failed'] and not attempts['web-reads-key']['failed']
    vault_url = fleet_vault.vault_url.rstrip('/')
    manager_identity = 'the user-assigned managed identity with client_id %s' % manager
    web_identity = 'the user-assigned managed identity with client_id %s' % web
    expected = {
        'manager-reads-key': ("the backing secret of certificate '%s'" % name, manager_identity, 'secrets/get'),
        'manager-deletes': ("certificate '%s'" % name, manager_identity, 'certificates/delete'),
        'web-updates-policy': ("certificate '%s'" % name, web_identity, 'certificates/update'),
        'web-creates': ("certificate 'web-own'", web_identity, 'certificates/create'),
        'vm-reads': ("certificate '%s'" % name, 'the system-assigned managed identity', 'certificates/get'),
    }
    for host, (subject, who, permission) in expected.items():
        assert attempts[host]['failed'], host
        assert attempts[host]['msg'].startswith('access to %s in vault %s was denied: %s lacks the %s permission (the vault said: ' % (
            subject, vault_url, who, permission)), (host, attempts[host]['msg'])
    assert len(versions(fleet_vault, name)) == 1
