# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""keyvault.azure.certificate_info through ansible-playbook: one host per case, all run together."""

import types

import pytest
from azure.keyvault.certificates import CertificatePolicy
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from certificate_material import issue, make_ca
from playbook_helpers import case_arguments, counters_task, unique_name, writes_between


@pytest.fixture(scope='module')
def info_cases(playbook, localvault, certificate_vault, tmp_path_factory):
    suite = unique_name('suite')
    names = dict((case, unique_name('ci-' + case)) for case in ('chained', 'pfx', 'locked', 'gone', 'waiting', 'missing'))
    ca = make_ca()
    old = issue('chained.example.test', issuer=ca)
    new = issue('chained.example.test', issuer=ca)
    pem_policy = CertificatePolicy(content_type='application/x-pem-file')
    first = certificate_vault.import_certificate(names['chained'], old.pem_bundle().encode(), policy=pem_policy, tags={'suite': suite})
    certificate_vault.import_certificate(names['chained'], new.pem_bundle().encode(), policy=pem_policy, tags={'suite': suite})
    certificate_vault.begin_create_certificate(names['pfx'], CertificatePolicy(issuer_name='Self', subject='CN=pfx'), tags={'suite': suite}).result()
    locked = CertificatePolicy(issuer_name='Self', subject='CN=locked', exportable=False, key_type='RSA')
    certificate_vault.begin_create_certificate(names['locked'], locked).result()
    certificate_vault.begin_create_certificate(names['gone'], CertificatePolicy(issuer_name='Self', subject='CN=gone'), tags={'suite': suite}).result()
    certificate_vault.begin_delete_certificate(names['gone']).wait()
    certificate_vault.begin_create_certificate(names['waiting'], CertificatePolicy(issuer_name='Unknown', subject='CN=waiting'),
                                               tags={'suite': suite}).result()
    key_file = tmp_path_factory.mktemp('keys') / 'pfx.key'

    cases = {
        'everything': dict(name=names['chained'], include_pem=True, include_chain=True, include_private_key=True),
        'version': dict(name=names['chained'], version=first.properties.version, include_pem=True),
        'pfx-key': dict(name=names['pfx'], include_private_key=True),
        'metadata': dict(name=names['chained']),
        'by-tags': dict(tags={'suite': suite}),
        'with-pending': dict(tags={'suite': suite}, include_pending=True),
        'versions': dict(name=names['chained'], list_versions=True),
        'deleted-one': dict(name=names['gone'], deleted=True),
        'deleted-list': dict(deleted=True, tags={'suite': suite}),
        'locked': dict(name=names['locked'], include_private_key=True),
        'missing': dict(name=names['missing']),
        'bad-combination': dict(include_pem=True, tags={'suite': suite}),
    }
    expected = {
        'everything': {'pem': new.certificate_pem(), 'chain': ca.certificate_pem(), 'key': new.key_pem()},
        'version': {'pem': old.certificate_pem()},
    }
    hosts = dict((host, {'case': case, 'expected': expected.get(host, {}), 'key_file': str(key_file)}) for host, case in cases.items())
    play = {'hosts': 'cases', 'gather_facts': False, 'tasks': [
        counters_task('before', localvault),
        {'name': 'read', 'keyvault.azure.certificate_info': case_arguments(cases), 'register': 'info', 'ignore_errors': True},
        {'name': 'material as expected', 'ansible.builtin.assert': {'quiet': True, 'that': [
            "info.pem | default('') == expected.pem | default('')",
            "info.chain_pem | default('') == expected.chain | default('')",
            "info.private_key | default('') == expected.key | default('')"]},
         'when': 'expected | length > 0'},
        {'name': 'keep the key of the PKCS#12 certificate', 'ansible.builtin.copy': {
            'content': '{{ info.private_key }}', 'dest': '{{ key_file }}', 'mode': '0600'},
         'no_log': True, 'when': "inventory_hostname == 'pfx-key'"},
        counters_task('after', localvault),
    ]}
    run = playbook([play], cases=hosts)
    assert run.rc == 0, run.output[-3000:]
    return types.SimpleNamespace(run=run, names=names, suite=suite, material={'old': old, 'new': new, 'key_file': key_file})


def test_reads_send_no_write(info_cases):
    run = info_cases.run
    assert writes_between(run.counters('before'), run.counters('after')) == {}
    assert not any(result.get('changed') for result in run.tasks['read'].values())


def test_material_is_returned_but_hidden(info_cases):
    run, material = info_cases.run, info_cases.material
    for host in ('everything', 'version'):
        assert not run.result('material as expected', host)['failed'], host
    # A result with a private key is censored for every callback; one without is shown.
    assert 'censored' in run.result('read', 'everything') and 'pem' not in run.result('read', 'everything')
    assert run.result('read', 'version')['pem'] == material['old'].certificate_pem()
    assert material['new'].key_pem().splitlines()[1] not in run.output


def test_private_key_of_a_pkcs12_certificate_is_pem(info_cases, certificate_vault):
    names, material = info_cases.names, info_cases.material
    key = serialization.load_pem_private_key(material['key_file'].read_bytes(), None)
    certificate = x509.load_der_x509_certificate(bytes(certificate_vault.get_certificate(names['pfx']).cer))
    assert key.public_key().public_numbers() == certificate.public_key().public_numbers()
    assert material['key_file'].read_text().startswith('-----BEGIN PRIVATE KEY-----')


def test_metadata_and_policy(info_cases):
    run, names, suite, material = info_cases.run, info_cases.names, info_cases.suite, info_cases.material
    described = run.result('read', 'metadata')['certificate']
    assert (described['name'], described['thumbprint'], described['subject']) == (names['chained'], material['new'].thumbprint, 'CN=chained.example.test')
    assert (described['tags'], described['pending'], described['policy']['content_type'], described['policy']['issuer']) == (
        {'suite': suite}, False, 'application/x-pem-file', 'Unknown')


def test_lists(info_cases):
    run, names, material = info_cases.run, info_cases.names, info_cases.material

    def listed(host):
        return [c['name'] for c in run.result('read', host)['certificates']]

    assert listed('by-tags') == sorted([names['chained'], names['pfx']])
    assert listed('with-pending') == sorted([names['chained'], names['pfx'], names['waiting']])
    versions = run.result('read', 'versions')['certificates']
    assert [v['thumbprint'] for v in versions] == [material['old'].thumbprint, material['new'].thumbprint]
    assert listed('deleted-list') == [names['gone']]
    gone = run.result('read', 'deleted-one')['certificate']
    assert gone['recovery_id'].endswith('/deletedcertificates/%s' % names['gone'])
    assert gone['deleted_on'] and gone['scheduled_purge_date'] and gone['policy']['subject'] == 'CN=gone'


def test_failures_are_clear(info_cases, localvault):
    run, names = info_cases.run, info_cases.names
    vault_url = localvault.vault_url.rstrip('/')
    assert run.result('read', 'locked')['msg'] == (
        "the backing secret of certificate '%s' in vault %s holds no private key: the key of certificate '%s' is not exportable" % (
            names['locked'], vault_url, names['locked']))
    assert run.result('read', 'missing')['msg'] == "certificate '%s' was not found in vault %s" % (names['missing'], vault_url)
    assert run.result('read', 'bad-combination')['msg'] == 'include_pem only works when reading one certificate with name'
