# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The example playbooks in playbooks/ work against the local vault, as their comments promise."""

import os
import stat

from azure.core.exceptions import ResourceNotFoundError
from cryptography import x509
import pytest

from playbook_helpers import REPO_ROOT, requests_between, unique_name, writes_between

PLAYBOOKS = os.path.join(REPO_ROOT, 'playbooks')
SEED_PASSWORD = 'keyvault-azure-example'
SEEDED = {
    'shop-db-password': 'example-db-password-3f9c1e7a',
    'shop-payment-api-key': 'example-payment-key-51b0d2c8',
    'shop-db-connection': '{"host": "db.shop.internal", "port": 5432, "database": "shop"}',
}


def test_demo_secret_part(playbook, localvault, vault):
    run = playbook(os.path.join(PLAYBOOKS, 'demo.yml'), identity=None, env={'LOCALVAULT_STATE_DIR': localvault.state_dir},
                   args=('--tags', 'secrets'))
    assert run.rc == 0, run.output
    assert run.changed('1. Store the database password (changed - the secret is new)',
                       '2. Store it again (ok - the vault already holds this value, nothing is written)') == [True, False]
    assert run['5. Compare what was read with what was stored, without printing either']['msg'][1:] == [
        'tags: app=shop, environment=demo',
        'the lookup returned the stored password: True',
        'secret_info returned the stored password: True',
        'the second run changed nothing: True',
    ]
    assert len(run['7. List the versions of the secret (lists never carry values)']['secrets']) == 2
    assert 'correct-horse-battery-staple' not in run.output
    with pytest.raises(ResourceNotFoundError):
        vault.get_deleted_secret('demo-db-password')
    assert not [s for s in vault.list_properties_of_secrets() if s.name == 'demo-db-password']


def test_seed_a_vault_then_give_a_vm_app_its_secrets(playbook, localvault, vault, tmp_path):
    password_file = tmp_path / 'vault-password'
    password_file.write_text(SEED_PASSWORD)
    seed = os.path.join(PLAYBOOKS, 'seed_vault.yml')
    seed_arguments = dict(args=('--vault-password-file', str(password_file)), verbosity=1,
                          extra_vars={'seed_client_id': localvault.identities['operator']['client_id']})
    first = playbook(seed, identity=None, **seed_arguments)
    assert first.rc == 0, first.output
    assert first['Store the secrets of the file']['changed']
    for name, value in SEEDED.items():
        assert vault.get_secret(name).value == value
    assert vault.get_secret('shop-db-connection').properties.content_type == 'application/json'
    before = localvault.counters()
    again = playbook(seed, identity=None, **seed_arguments)
    assert again.rc == 0 and not again['Store the secrets of the file']['changed']
    assert writes_between(before, localvault.counters()) == {}

    env_file = tmp_path / 'app' / 'secrets.env'
    app = os.path.join(PLAYBOOKS, 'vm_app_secrets.yml')
    app_arguments = dict(identity='vm', verbosity=1, extra_vars={'app_env_file': str(env_file)})
    configured = playbook(app, **app_arguments)
    assert configured.rc == 0, configured.output
    assert env_file.read_text() == "DB_PASSWORD=example-db-password-3f9c1e7a\nPAYMENT_API_KEY=example-payment-key-51b0d2c8\n"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    before = localvault.counters()
    configured_again = playbook(app, **app_arguments)
    assert configured_again.rc == 0 and 'changed=0' in configured_again.output
    # Each VM reads with its own identity: the vm identity sent one read per secret, the operator nothing.
    after = localvault.counters()
    assert requests_between(before, after, 'GetSecret', identity='vm') == 2
    assert after['identities'].get('operator') == before['identities'].get('operator')

    for run in (first, again, configured, configured_again):
        for value in SEEDED.values():
            assert value not in run.output


def test_external_ca_signs_the_request_and_merges_it(playbook, localvault, certificate_vault, vault, tmp_path):
    name = unique_name('external-ca')
    ca_dir = tmp_path / 'ca'
    arguments = dict(extra_vars={'external_ca_certificate_name': name, 'external_ca_dir': str(ca_dir),
                                 'external_ca_dns_names': ['partner.example.test', 'www.partner.example.test']})
    path = os.path.join(PLAYBOOKS, 'external_ca.yml')
    before = localvault.counters()
    checked = playbook(path, check=True, **arguments)
    assert checked.rc == 0, checked.output
    assert writes_between(before, localvault.counters()) == {} and not ca_dir.exists()

    first = playbook(path, **arguments)
    assert first.rc == 0, first.output
    assert first.changed('1. Ask the vault for a key pair and a signing request (ok once the certificate is issued)',
                         '2. Sign the request with the CA', '3. Merge the signed certificate and its chain into the pending version') == [True] * 3
    certificate = x509.load_der_x509_certificate(bytes(certificate_vault.get_certificate(name).cer))
    ca = x509.load_pem_x509_certificate((ca_dir / 'ca.crt').read_bytes())
    assert certificate.issuer == ca.subject and certificate.subject.rfc4514_string() == 'CN=partner.example.test'
    certificate.verify_directly_issued_by(ca)
    assert certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName) == [
        'partner.example.test', 'www.partner.example.test']
    # The backing secret holds the vault's key with the certificate and the CA's certificate; the CA key stays in its folder.
    assert (ca_dir / 'ca.crt').read_text() in vault.get_secret(name).value
    assert stat.S_IMODE((ca_dir / 'ca.key').stat().st_mode) == 0o600
    assert (ca_dir / 'ca.key').read_text().splitlines()[1] not in first.output
    assert 'thumbprint %s' % certificate_vault.get_certificate(name).properties.x509_thumbprint.hex().upper() in first['Show what the vault holds']['msg']

    before = localvault.counters()
    again = playbook(path, **arguments)
    assert again.rc == 0 and 'changed=0' in again.output, again.output
    assert writes_between(before, localvault.counters()) == {}
    assert len(list(certificate_vault.list_properties_of_certificate_versions(name))) == 1
