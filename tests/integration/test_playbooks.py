# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The example playbooks in playbooks/ work against the local vault, as their comments promise."""

import os
import stat

from azure.core.exceptions import ResourceNotFoundError
import pytest

from playbook_helpers import REPO_ROOT, requests_between, writes_between

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
