# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Credential choice, client settings, the per-process cache and retry reporting."""

import http.client

import pytest
import requests
import urllib3
from azure.core.exceptions import HttpResponseError, ServiceResponseError
from azure.identity import (
    AzureCliCredential,
    ClientSecretCredential,
    DefaultAzureCredential,
    EnvironmentCredential,
    ManagedIdentityCredential,
    WorkloadIdentityCredential,
)

from ansible_collections.keyvault.azure.plugins.module_utils import _client
from ansible_collections.keyvault.azure.plugins.module_utils._errors import KeyVaultError
from ansible_collections.keyvault.azure.plugins.module_utils._options import ConnectionOptions


def lost_response():
    """What requests raises when the vault closes the connection after the request was sent."""
    return requests.exceptions.ConnectionError(urllib3.exceptions.ProtocolError(
        'Connection aborted.', http.client.RemoteDisconnected('Remote end closed connection without response')))


def options(**values):
    return ConnectionOptions(dict(dict(vault_url='https://shop.vault.azure.net'), **values))


class TestCredentials:

    @pytest.mark.parametrize('values, credential_class', [
        (dict(), ManagedIdentityCredential),
        (dict(client_id='c'), ManagedIdentityCredential),
        (dict(object_id='o'), ManagedIdentityCredential),
        (dict(resource_id='/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/i'),
         ManagedIdentityCredential),
        (dict(auth_source='auto', client_id='c'), DefaultAzureCredential),
        (dict(auth_source='cli', tenant_id='t'), AzureCliCredential),
        (dict(auth_source='service_principal', tenant_id='t', client_id='c', client_secret='s'), ClientSecretCredential),
        (dict(auth_source='workload_identity', tenant_id='t', client_id='c', federated_token_file='/var/run/token'), WorkloadIdentityCredential),
        (dict(auth_source='environment'), EnvironmentCredential),
    ])
    def test_each_source_is_an_azure_identity_credential(self, values, credential_class):
        assert isinstance(_client.build_credential(options(**values)), credential_class)

    def test_a_credential_that_cannot_be_built_is_an_auth_error(self, tmp_path):
        broken = options(auth_source='service_principal', tenant_id='t', client_id='c', client_certificate_path=str(tmp_path / 'missing.pem'))
        with pytest.raises(KeyVaultError) as raised:
            _client.get_credential(broken)
        assert raised.value.kind == 'auth'
        assert raised.value.message.startswith('cannot use auth_source=service_principal: ')


class TestClientSettings:

    def test_defaults(self):
        settings = _client.client_settings(options())
        policy = settings.pop('retry_policy')
        assert settings == dict(verify_challenge_resource=True, connection_timeout=30, read_timeout=30)
        assert (policy.total_retries, policy.status_retries, policy.connect_retries, policy.backoff_factor) == (4, 4, 4, 0.8)

    def test_tls_proxy_and_api_version(self):
        settings = _client.client_settings(options(ca_cert='/etc/ca.pem', proxy='http://proxy:3128', api_version='7.5',
                                                   verify_challenge_resource=False, timeout=5, retries=0))
        assert settings['connection_verify'] == '/etc/ca.pem'
        assert settings['proxies'] == {'http': 'http://proxy:3128', 'https': 'http://proxy:3128'}
        assert (settings['api_version'], settings['verify_challenge_resource'], settings['read_timeout']) == ('7.5', False, 5)
        assert settings['retry_policy'].total_retries == 0

    def test_validate_certs_false_wins_over_ca_cert(self):
        assert _client.client_settings(options(validate_certs=False, ca_cert='/etc/ca.pem'))['connection_verify'] is False


def token_pipeline(credential):
    """The azure-core pipeline an HTTP-sending credential requests its tokens with."""
    inner = getattr(credential, '_credential', credential)
    return inner._client._pipeline  # pylint: disable=protected-access


class TestTokenRequestSettings:

    @pytest.mark.parametrize('values', [
        dict(client_id='c'),
        dict(auth_source='service_principal', tenant_id='t', client_id='c', client_secret='s'),
        dict(auth_source='workload_identity', tenant_id='t', client_id='c', federated_token_file='/run/token'),
    ])
    def test_timeout_and_retries_reach_the_token_requests(self, values):
        pipeline = token_pipeline(_client.build_credential(options(timeout=7, retries=1, retry_backoff=0.25, **values)))
        config = pipeline._transport.connection_config  # pylint: disable=protected-access
        retry = [policy for policy in pipeline._impl_policies if 'RetryPolicy' in type(policy).__name__][0]  # pylint: disable=protected-access
        assert (config.timeout, config.read_timeout) == (7, 7)
        assert (retry.total_retries, retry.connect_retries, retry.read_retries, retry.status_retries, retry.backoff_factor) == (1, 1, 1, 1, 0.25)

    def test_the_cli_runs_within_the_timeout(self):
        credential = _client.build_credential(options(auth_source='cli', timeout=7))
        assert credential._process_timeout == 7  # pylint: disable=protected-access


class TestCache:

    def test_clients_and_credentials_are_built_once_per_connection(self):
        first = _client.get_secret_client(options(client_id='cache-test'))
        assert _client.get_secret_client(options(client_id='cache-test')) is first
        other_vault = _client.get_secret_client(options(client_id='cache-test'), 'https://other.vault.azure.net')
        assert other_vault is not first
        assert other_vault.vault_url == 'https://other.vault.azure.net'
        assert _client.get_credential(options(client_id='cache-test')) is _client.get_credential(options(client_id='cache-test'))
        # The token requests obey the options' timeout too.
        assert _client.get_credential(options(client_id='cache-test')) is not _client.get_credential(options(client_id='cache-test', timeout=3))
        assert _client.get_secret_client(options(client_id='cache-test', timeout=3)) is not first


class TestRetryReporting:

    def test_each_retry_is_recorded_without_query_or_body(self, canned_secret_client):
        _client.RETRY_LOG.drain()
        canned = canned_secret_client([
            (429, {'error': {'code': 'Throttled', 'message': 'slow down'}}, {'Retry-After': '0'}),
            (503, {'error': {'code': 'ServiceUnavailable', 'message': 'busy'}}),
            (200, {'id': 'https://shop.vault.azure.net/secrets/db/' + 'c' * 32, 'value': 'retried-value', 'attributes': {'enabled': True}}),
        ], retries=3)
        assert canned.client.get_secret('db').value == 'retried-value'
        assert len(canned.vault.requests) == 3
        assert _client.RETRY_LOG.drain() == [
            'retry 1: GET https://shop.vault.azure.net/secrets/db/: HTTP 429 (Retry-After 0)',
            'retry 2: GET https://shop.vault.azure.net/secrets/db/: HTTP 503',
        ]
        assert _client.RETRY_LOG.drain() == []

    def test_no_retries_means_one_request(self, canned_secret_client):
        _client.RETRY_LOG.drain()
        canned = canned_secret_client([(503, {'error': {'code': 'ServiceUnavailable', 'message': 'busy'}})], retries=0)
        with pytest.raises(HttpResponseError):
            canned.client.get_secret('db')
        assert len(canned.vault.requests) == 1
        assert _client.RETRY_LOG.drain() == []

    def test_a_write_whose_response_was_lost_is_not_replayed(self, canned_secret_client):
        _client.RETRY_LOG.drain()
        lost = lost_response()
        canned = canned_secret_client([lost], retries=3)
        with pytest.raises(ServiceResponseError):
            canned.client.set_secret('db', 'new-value')
        assert canned.vault.requests == [('PUT', 'https://shop.vault.azure.net/secrets/db?api-version=%s' % canned.client.api_version)]
        assert _client.RETRY_LOG.drain() == []

    def test_a_read_whose_response_was_lost_is_sent_again(self, canned_secret_client):
        _client.RETRY_LOG.drain()
        lost = lost_response()
        canned = canned_secret_client([lost, (200, {'id': 'https://shop.vault.azure.net/secrets/db/' + 'c' * 32, 'value': 'v',
                                                    'attributes': {'enabled': True}})], retries=3)
        assert canned.client.get_secret('db').value == 'v'
        assert [method for method, _url in canned.vault.requests] == ['GET', 'GET']
        assert _client.RETRY_LOG.drain() == ['retry 1: GET https://shop.vault.azure.net/secrets/db/: ServiceResponseError']
