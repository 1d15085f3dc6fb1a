# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SDK errors, raised by a real SecretClient from the service's error answers, become one clear line."""

import types

import pytest
import requests
import urllib3

from azure.identity import CredentialUnavailableError

from ansible_collections.keyvault.azure.plugins.module_utils._errors import KeyVaultError, redact, translate_error, vault_call
from ansible_collections.keyvault.azure.plugins.module_utils._options import ConnectionOptions

VAULT = 'https://shop.vault.azure.net'


def service_error(code, message, inner=None):
    error = {'code': code, 'message': message}
    if inner:
        error['innererror'] = {'code': inner}
    return {'error': error}


def failing_get(canned_secret_client, responses, **options):
    """The KeyVaultError of a get_secret answered with ``responses`` (``error``), and the requests the vault saw."""
    canned = canned_secret_client(responses, **options)
    with pytest.raises(KeyVaultError) as raised:
        vault_call(canned.options, VAULT, 'secrets/get', "secret 'db'", canned.client.get_secret, 'db')
    return types.SimpleNamespace(error=raised.value, requests=canned.vault.requests)


class TestServiceAnswers:

    def test_not_found(self, canned_secret_client):
        error = failing_get(canned_secret_client, [(404, service_error(
            'SecretNotFound', 'A secret with (name/id) db was not found in this key vault. If you recently deleted this secret ...'))]).error
        assert (error.kind, error.message) == ('not_found', "secret 'db' was not found in vault %s" % VAULT)

    def test_missing_permission_names_permission_identity_and_service_text(self, canned_secret_client):
        error = failing_get(canned_secret_client, [(403, service_error(
            'Forbidden', "The user, group or application 'appid=a1;oid=o1' does not have secrets get permission on key vault 'shop'.",
            'AccessDenied'))], client_id='c-123').error
        assert error.kind == 'forbidden'
        assert error.message.startswith("access to secret 'db' in vault %s was denied: the user-assigned managed identity with "
                                        "client_id c-123 lacks the secrets/get permission (the vault said: The user," % VAULT)

    def test_disabled_secret(self, canned_secret_client):
        error = failing_get(canned_secret_client, [(403, service_error(
            'Forbidden', 'Operation get is not allowed on a disabled secret.', 'SecretDisabled'))]).error
        assert error.kind == 'disabled'
        assert 'is disabled, so it cannot be read' in error.message

    def test_other_forbidden_answers_quote_the_service(self, canned_secret_client):
        error = failing_get(canned_secret_client, [(403, service_error(
            'Forbidden', 'Operation "purge" is not allowed because purge protection is enabled for this vault.'))]).error
        assert error.kind == 'forbidden'
        assert 'refused with HTTP 403 (the vault said: Operation "purge" is not allowed because purge protection' in error.message

    def test_deleted_but_recoverable(self, canned_secret_client):
        error = failing_get(canned_secret_client, [(409, service_error(
            'Conflict', 'Secret db is currently in a deleted but recoverable state, and its name cannot be reused; ...',
            'ObjectIsDeletedButRecoverable'))]).error
        assert error.kind == 'deleted'
        assert error.message == ("secret 'db' in vault %s is deleted but recoverable: its name cannot be reused until it is "
                                 "recovered or purged" % VAULT)

    def test_being_deleted(self, canned_secret_client):
        error = failing_get(canned_secret_client, [(409, service_error('Conflict', 'Secret is currently being deleted.', 'ObjectIsBeingDeleted'))]).error
        assert error.kind == 'being_deleted'

    def test_throttled_after_the_retries(self, canned_secret_client):
        throttled = (429, service_error('Throttled', 'Too many requests.'), {'Retry-After': '0'})
        failed = failing_get(canned_secret_client, [throttled] * 3, retries=2)
        error, requests_seen = failed.error, failed.requests
        assert error.kind == 'throttled'
        assert 'throttled the requests for secret' in error.message and '2 retries did not get through' in error.message
        assert len(requests_seen) == 3

    def test_server_error(self, canned_secret_client):
        failed = failing_get(canned_secret_client, [(503, service_error('ServiceUnavailable', 'Try later'))] * 2, retries=1)
        error, requests_seen = failed.error, failed.requests
        assert (error.kind, len(requests_seen)) == ('service', 2)
        assert 'failed the request for secret \'db\' with HTTP 503 after 1 retries (the vault said: Try later)' in error.message

    def test_bad_request(self, canned_secret_client):
        error = failing_get(canned_secret_client, [(400, service_error('BadParameter', 'The request URI contains an invalid name: db'))]).error
        assert error.kind == 'invalid'
        assert error.message.endswith('refused the request for secret \'db\' as invalid (the vault said: The request URI contains an invalid name: db)')

    def test_rejected_token(self, canned_secret_client):
        error = failing_get(canned_secret_client, [(401, service_error('Unauthorized', 'AKV10022: Invalid audience.'))]).error
        assert error.kind == 'auth'
        assert 'rejected the token of the system-assigned managed identity' in error.message


class TestTransport:

    def test_tls_failure_says_what_to_do(self, canned_secret_client):
        tls = requests.exceptions.SSLError(urllib3.exceptions.MaxRetryError(None, '/', urllib3.exceptions.SSLError(
            "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate in certificate chain (_ssl.c:1006)")))
        failed = failing_get(canned_secret_client, [tls] * 5, retries=4)
        error = failed.error
        assert len(failed.requests) == 1
        assert error.kind == 'tls'
        assert error.message == ("TLS verification of vault %s failed (self-signed certificate in certificate chain); set ca_cert to "
                                 "the CA bundle that signed the vault's certificate" % VAULT)

    def test_refused_connection(self, canned_secret_client):
        refused = requests.exceptions.ConnectionError(urllib3.exceptions.NewConnectionError(
            None, 'Failed to establish a new connection: [Errno 111] Connection refused'))
        failed = failing_get(canned_secret_client, [refused] * 3, retries=2)
        error, requests_seen = failed.error, failed.requests
        assert error.kind == 'connection'
        assert error.message == "could not connect to vault %s for secret 'db', after 2 retries ([Errno 111] Connection refused)" % VAULT
        assert len(requests_seen) == 3

    def test_timeout(self, canned_secret_client):
        timeouts = [requests.exceptions.ReadTimeout('Read timed out. (read timeout=3)')] * 2
        error = failing_get(canned_secret_client, timeouts, retries=1, timeout=3).error
        assert error.kind == 'timeout'
        assert error.message == "vault %s did not answer the request for secret 'db' within timeout=3 seconds, after 1 retries" % VAULT

    def test_challenge_for_another_domain(self, canned_secret_client):
        canned = canned_secret_client([], vault_url='https://localhost:8443', verify_challenge_resource=True)
        with pytest.raises(KeyVaultError) as raised:
            vault_call(canned.options, 'https://localhost:8443', 'secrets/get', "secret 'db'", canned.client.get_secret, 'db')
        assert raised.value.kind == 'challenge'
        assert 'set verify_challenge_resource: false' in raised.value.message


class TestCredentialErrors:

    def options(self, **values):
        return ConnectionOptions(dict(vault_url=VAULT, **values))

    def test_imds_unreachable_names_the_identity(self):
        error = CredentialUnavailableError('ManagedIdentityCredential authentication unavailable, no response from the IMDS endpoint.')
        translated = translate_error(error, self.options(object_id='0b-1'), VAULT, "secret 'db'", 'secrets/get')
        assert translated.kind == 'auth'
        assert translated.message.startswith('could not get a token for vault %s as the user-assigned managed identity with object_id 0b-1: '
                                             'the managed identity endpoint did not answer' % VAULT)

    def test_identity_not_assigned(self):
        error = CredentialUnavailableError('ManagedIdentityCredential authentication unavailable. No identity has been assigned to this '
                                           'resource. Error: Identity not found')
        translated = translate_error(error, self.options(client_id='c-9'), VAULT, "secret 'db'", 'secrets/get')
        assert translated.message.endswith('as the user-assigned managed identity with client_id c-9: the managed identity endpoint does not know '
                                           'that identity, so it is not assigned to this host (the endpoint answered: Identity not found)')

    def test_multi_line_chain_messages_become_one_line(self):
        error = CredentialUnavailableError('DefaultAzureCredential failed to retrieve a token.\n  Attempted credentials:\n\tEnvironmentCredential: x')
        translated = translate_error(error, self.options(auth_source='auto'), VAULT, "secret 'db'", 'secrets/get')
        assert '\n' not in translated.message and '\t' not in translated.message
        assert 'as the DefaultAzureCredential chain (DefaultAzureCredential failed to retrieve a token. Attempted credentials:' in translated.message

    def test_unexpected_errors_keep_their_type_but_no_traceback(self):
        translated = translate_error(RuntimeError('boom\nline two'), self.options(), VAULT, "secret 'db'", 'secrets/get')
        assert translated.message == "the request for secret 'db' in vault %s failed: RuntimeError: boom line two" % VAULT


class TestRedaction:

    def test_sensitive_values_and_tokens_are_masked(self):
        text = 'secret=very-secret-value token=eyJhbGciOiJIUzI1NiJ9.eyJvaWQiOiJ4In0.c2ln header: Bearer abcdefghijk12345'
        assert redact(text, ['very-secret-value']) == 'secret=******** token=******** header: Bearer ********'

    def test_longer_values_are_masked_before_their_prefixes(self):
        assert redact('abc abcdef', ['abc', 'abcdef']) == '******** ********'

    def test_client_secret_never_reaches_a_message(self):
        options = ConnectionOptions(dict(vault_url=VAULT, auth_source='service_principal', tenant_id='t', client_id='c',
                                         client_secret='sp-secret-123'))
        translated = translate_error(ValueError('bad secret sp-secret-123'), options, VAULT, "secret 'db'", 'secrets/get')
        assert 'sp-secret-123' not in translated.message
