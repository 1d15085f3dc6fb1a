# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The keyvault.azure.certificate lookup through ansible-playbook against the local vault."""

import types

import pytest
from azure.keyvault.certificates import CertificatePolicy
from cryptography.hazmat.primitives import serialization

from certificate_material import issue, make_ca
from playbook_helpers import counters_task, requests_between, unique_name, writes_between


def lookup(*terms, **options):
    arguments = ['%r' % term for term in terms] + ['%s=%r' % item for item in sorted(options.items())]
    return "query('keyvault.azure.certificate', %s)" % ', '.join(arguments)


def lookup_fact(task_name, expression, ignore_errors=False):
    task = {'name': task_name, 'ansible.builtin.set_fact': {'found': '{{ %s }}' % expression}}
    if ignore_errors:
        task['ignore_errors'] = True
    return task


def found(run, task_name):
    return run[task_name]['ansible_facts']['found']


@pytest.fixture(scope='module')
def lookups(playbook, localvault, certificate_vault, vault):
    names = dict((case, unique_name('cl-' + case)) for case in ('pem', 'pfx', 'locked', 'gone', 'plain', 'missing'))
    ca = make_ca()
    first = issue('lookup.example.test', issuer=ca)
    second = issue('lookup.example.test', issuer=ca)
    pem_policy = CertificatePolicy(content_type='application/x-pem-file')
    imported = certificate_vault.import_certificate(names['pem'], first.pem_bundle().encode(), policy=pem_policy)
    certificate_vault.import_certificate(names['pem'], second.pem_bundle().encode(), policy=pem_policy)
    pfx = issue('pfx.example.test', issuer=ca)
    certificate_vault.import_certificate(names['pfx'], pfx.pkcs12())
    locked = CertificatePolicy(issuer_name='Self', subject='CN=locked', exportable=False, key_type='RSA')
    certificate_vault.begin_create_certificate(names['locked'], locked).result()
    certificate_vault.begin_create_certificate(names['gone'], CertificatePolicy(issuer_name='Self', subject='CN=gone')).result()
    certificate_vault.begin_delete_certificate(names['gone']).wait()
    vault.set_secret(names['plain'], 'just-a-secret')
    pem_id = '%s/certificates/%s/%s' % (localvault.vault_url.rstrip('/'), names['pem'], imported.properties.version)

    tasks = [
        counters_task('before', localvault),
        lookup_fact('certificates', lookup(names['pem'], pem_id, names['pfx'])),
        counters_task('after certificates', localvault),
        lookup_fact('fullchain', lookup(names['pem'], part='fullchain')),
        lookup_fact('chain', lookup(names['pfx'], part='chain')),
        lookup_fact('private key', lookup(names['pfx'], part='private_key')),
        lookup_fact('all', lookup(names['pem'], part='all')),
        lookup_fact('older version', lookup('%s/%s' % (names['pem'], imported.properties.version), part='fullchain')),
        lookup_fact('missing skipped', lookup(names['missing'], names['pfx'], on_missing='skip')),
        lookup_fact('deleted warned', lookup(names['gone'], on_deleted='warn', default='none')),
        lookup_fact('deleted fails', lookup(names['gone']), ignore_errors=True),
        lookup_fact('locked key fails', lookup(names['locked'], part='private_key'), ignore_errors=True),
        lookup_fact('locked certificate', lookup(names['locked'])),
        lookup_fact('plain secret fails', lookup(names['plain'], part='fullchain'), ignore_errors=True),
        lookup_fact('unknown option fails', lookup(names['pem'], parts='all'), ignore_errors=True),
        counters_task('after', localvault),
    ]
    run = playbook(tasks)
    assert run.rc == 0, run.output[-3000:]
    return types.SimpleNamespace(run=run, names=names, material={'first': first, 'second': second, 'pfx': pfx, 'ca': ca})


def test_certificates_by_name_id_and_from_pkcs12(lookups):
    run, material = lookups.run, lookups.material
    assert found(run, 'certificates') == [material['second'].certificate_pem(), material['first'].certificate_pem(),
                                          material['pfx'].certificate_pem()]
    counters = (run.counters('before'), run.counters('after certificates'))
    # The certificate part needs only the certificate, not the secret with the key.
    assert requests_between(*counters, operation='GetCertificate') == 3
    assert requests_between(*counters, operation='GetSecret') == 0


def test_chain_parts_and_the_key(lookups):
    run, material = lookups.run, lookups.material
    ca_pem = material['ca'].certificate_pem()
    assert found(run, 'fullchain') == [material['second'].certificate_pem() + ca_pem]
    assert found(run, 'chain') == [ca_pem]
    key = serialization.load_pem_private_key(found(run, 'private key')[0].encode(), None)
    assert key.private_numbers() == material['pfx'].key.private_numbers()
    assert found(run, 'all') == [{'certificate': material['second'].certificate_pem(), 'chain': ca_pem,
                                  'fullchain': material['second'].certificate_pem() + ca_pem, 'private_key': material['second'].key_pem()}]
    assert found(run, 'older version') == [material['first'].certificate_pem() + ca_pem]


def test_missing_and_deleted(lookups, localvault):
    run, names, material = lookups.run, lookups.names, lookups.material
    assert found(run, 'missing skipped') == [material['pfx'].certificate_pem()]
    assert found(run, 'deleted warned') == ['none']
    assert "certificate '%s' in vault %s is deleted; it can be recovered until " % (names['gone'], localvault.vault_url.rstrip('/')) in run.output
    assert run['deleted fails']['failed']


def test_clear_failures(lookups, localvault):
    run, names = lookups.run, lookups.names
    vault_url = localvault.vault_url.rstrip('/')
    assert ("the backing secret of certificate '%s' in vault %s holds no private key: the key is not exportable" % (names['locked'], vault_url)
            in run['locked key fails']['msg'])
    assert found(run, 'locked certificate')[0].startswith('-----BEGIN CERTIFICATE-----')
    assert ("certificate '%s' was not found in vault %s: %s is a plain secret, not the backing secret of a certificate" % (
        names['plain'], vault_url, names['plain']) in run['plain secret fails']['msg'])
    assert 'keyvault.azure.certificate does not know the option(s) parts' in run['unknown option fails']['msg']
    assert writes_between(run.counters('before'), run.counters('after')) == {}
