# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One result shape for secrets and certificates: what the code returns is what RETURN documents, on one flat level."""

import datetime
import types

import pytest
import yaml

from ansible_collections.keyvault.azure.plugins.module_utils import _cert_state, _secret_state
from ansible_collections.keyvault.azure.plugins.module_utils._object_state import COMMON_RESULT_FIELDS, TIME_RESULT_FIELDS
from ansible_collections.keyvault.azure.plugins.modules import certificate, certificate_info, secret, secret_info

UTC = datetime.timezone.utc
DELETED_FIELDS = ('recovery_id', 'deleted_on', 'scheduled_purge_date')


def documented(module, key):
    return yaml.safe_load(module.RETURN)[key]['contains']


def secret_properties():
    return types.SimpleNamespace(
        name='db', id='https://v/secrets/db/' + 'b' * 32, version='b' * 32, content_type='text/plain', tags={'app': 'shop'}, enabled=True,
        not_before=None, expires_on=datetime.datetime(2030, 1, 1, tzinfo=UTC), created_on=datetime.datetime(2026, 1, 1, tzinfo=UTC),
        updated_on=datetime.datetime(2026, 1, 2, tzinfo=UTC), recovery_level='Recoverable+Purgeable', recoverable_days=90, managed=None,
        key_id=None)


@pytest.mark.parametrize('module, key', [(secret, 'secret'), (secret_info, 'secret'), (certificate, 'certificate'),
                                         (certificate_info, 'certificate')], ids=['secret', 'secret_info', 'certificate', 'certificate_info'])
def test_every_module_documents_the_common_fields_flat(module, key):
    fields = documented(module, key)
    assert 'attributes' not in fields
    assert set(COMMON_RESULT_FIELDS + TIME_RESULT_FIELDS) <= set(fields)


@pytest.mark.parametrize('module', [secret, secret_info], ids=['secret', 'secret_info'])
def test_a_secret_result_has_exactly_the_documented_keys(module):
    result = _secret_state.to_result(_secret_state.state_from_properties(secret_properties()))
    assert sorted(result) == sorted(field for field in documented(module, 'secret') if field not in DELETED_FIELDS)
    assert (result['expires'], result['enabled'], result['created']) == ('2030-01-01T00:00:00Z', True, '2026-01-01T00:00:00Z')


def test_secret_and_certificate_share_the_common_fields():
    secret_result = _secret_state.to_result(_secret_state.state_from_properties(secret_properties()))
    certificate_result = _cert_state.to_result(_cert_state.CertificateState(name='web', enabled=True, expires=1893456000, tags={}))
    common = COMMON_RESULT_FIELDS + TIME_RESULT_FIELDS
    assert set(common) <= set(secret_result) and set(common) <= set(certificate_result)
    assert certificate_result['expires'] == secret_result['expires'] == '2030-01-01T00:00:00Z'
