# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Two ansible-playbook runs creating the same certificate at once: no run lock is shared between them, so the
second creation request meets the first one pending, and the vault answers 409. The module must wait for the
other creation and compare again: one new version, exactly one ``changed``.

The vault of this test is its own: a creation takes a few seconds there, and its faults reach no other test.
"""

import concurrent.futures

from azure.keyvault.certificates import CertificateClient

from playbook_helpers import LocalVaultCredential, unique_name

# Long enough that the second run's creation request arrives while the first creation is pending.
CREATION_SECONDS = 6
# Each run's first read of the certificate is answered this late, after the vault found no certificate: both runs
# have read "no certificate" before either asks for a creation, whatever their start-up times.
READ_ANSWER_DELAY_SECONDS = 6


def test_two_runs_creating_one_certificate_at_once_make_one_version(playbook, localvault_factory):
    vault = localvault_factory(config={'deletion_delay_seconds': 0, 'recovery_delay_seconds': 0,
                                       'certificate_creation_delay_seconds': CREATION_SECONDS})
    name = unique_name('raced-cert')
    vault.add_fault(operation='GetCertificate', latency=READ_ANSWER_DELAY_SECONDS, after=True, count=2)
    tasks = [{'name': 'create', 'keyvault.azure.certificate': {'name': name, 'subject': 'CN=raced.example.com',
                                                               'dns_names': ['raced.example.com']}}]
    environment = dict(vault.env, ANSIBLE_KEYVAULT_CLIENT_ID=vault.identities['operator']['client_id'])
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda _run: playbook(tasks, identity=None, env=environment), range(2)))
    for run in runs:
        assert run.rc == 0, run.output[-3000:]
    creations = [entry['status'] for entry in vault.control('GET', 'requests')['requests'] if entry['operation'] == 'CreateCertificate']
    # The second request really met the pending creation.
    assert sorted(creations) == [202, 409], creations
    assert sorted(run['create']['changed'] for run in runs) == [False, True]
    client = CertificateClient(vault.vault_url, LocalVaultCredential(vault, 'operator'), verify_challenge_resource=False,
                               connection_verify=vault.ca_bundle)
    assert len(list(client.list_properties_of_certificate_versions(name))) == 1
    issued = [run['create']['certificate'] for run in runs]
    assert issued[0]['version'] == issued[1]['version'] and issued[0]['thumbprint'], issued
