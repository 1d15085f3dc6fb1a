# -*- coding: utf-8 -*-
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Credentials and vault clients, built once per process from ConnectionOptions.

For internal collection use only: names and behaviour may change without notice.

Authentication, challenge handling, retries and polling are the Azure SDK's; this file only
chooses and configures them.
"""

import logging
import threading
import traceback

try:
    from azure.core.pipeline.policies import RetryPolicy
    import azure.identity as identity_module
    from azure.keyvault.certificates import CertificateClient
    from azure.keyvault.secrets import SecretClient
except ImportError:
    HAS_AZURE = False
    AZURE_IMPORT_ERROR = traceback.format_exc()
    RetryPolicy = object
else:
    HAS_AZURE = True
    AZURE_IMPORT_ERROR = None

from ansible_collections.keyvault.azure.plugins.module_utils._auth_sources import AUTH_SOURCE_REGISTRY
from ansible_collections.keyvault.azure.plugins.module_utils._errors import KeyVaultError, one_line
from ansible_collections.keyvault.azure.plugins.module_utils._retry_log import RETRY_LOG

REQUIRED_LIBRARIES = 'azure-identity, azure-keyvault-secrets and azure-keyvault-certificates'

# azure-identity logs each failed token attempt as a warning; without a handler Python prints it to
# stderr, which Ansible reports as stray output. The plugins report the failure in their own message.
logging.getLogger('azure').addHandler(logging.NullHandler())


def _describe_attempt(response, error):
    """``GET https://vault/secrets/name: HTTP 429 (Retry-After 2)``, without query string or body.

    ``response`` is the pipeline response, or the pipeline request when ``error`` is set.
    """
    request = getattr(response, 'http_request', None)
    target = ''
    if request is not None:
        target = '%s %s' % (request.method, request.url.split('?')[0])
    if error is not None:
        return '%s: %s' % (target, one_line(type(error).__name__))
    http_response = response.http_response
    retry_after = http_response.headers.get('Retry-After')
    return '%s: HTTP %d%s' % (target, http_response.status_code, ' (Retry-After %s)' % retry_after if retry_after else '')


class ReportingRetryPolicy(RetryPolicy):
    """azure-core's retry policy (backoff, Retry-After) that also records each retry it decides on.

    A certificate the client does not trust stays untrusted, so that failure is not retried. Nor is a
    write whose response was lost or late: the vault may have carried it out, and a replayed PUT of a
    secret would add a second version. The caller re-reads and decides (see ``secret`` module).
    """

    def __init__(self, retry_log, **kwargs):
        super(ReportingRetryPolicy, self).__init__(**kwargs)
        self._retry_log = retry_log

    def increment(self, settings, response=None, error=None):
        if error is not None and 'CERTIFICATE_VERIFY_FAILED' in str(error):
            return False
        if error is not None and self._is_read_error(error) and response.http_request.method not in _REPLAYABLE_METHODS:
            return False
        will_retry = super(ReportingRetryPolicy, self).increment(settings, response=response, error=error)
        if will_retry:
            self._retry_log.record('retry %d: %s' % (len(settings['history']), _describe_attempt(response, error)))
        return will_retry


# Requests that change nothing, so sending one twice is harmless.
_REPLAYABLE_METHODS = ('GET', 'HEAD', 'OPTIONS')

_LOCK = threading.Lock()
_CREDENTIALS = {}
_CLIENTS = {}


def build_credential(options):
    """The azure-identity credential ``options.auth_source`` names, configured from ``options``."""
    transport = token_request_settings(options)
    authority = {'authority': options.authority} if options.authority else {}
    return AUTH_SOURCE_REGISTRY[options.auth_source].credential(identity_module, options, transport, authority)


def token_request_settings(options):
    """Keyword arguments for a credential that sends HTTP: the connection's proxy, timeout and retries.

    Without them azure-identity waits up to azure-core's 300 s read timeout per attempt, and an identity
    endpoint that accepts the connection but does not answer stalls the task for many minutes. The
    credentials' own retry policies (e.g. azure-identity's ImdsRetryPolicy, which also retries 404 and 410)
    are kept; only their counts, backoff and timeouts come from the options.
    """
    settings = dict(
        connection_timeout=options.timeout,
        read_timeout=options.timeout,
        retry_total=options.retries,
        retry_connect=options.retries,
        retry_read=options.retries,
        retry_status=options.retries,
        retry_backoff_factor=options.retry_backoff,
    )
    if options.proxy:
        settings['proxies'] = {'http': options.proxy, 'https': options.proxy}
    return settings


def client_settings(options):
    """Keyword arguments for an Azure SDK client: transport, TLS, retries, challenge verification."""
    settings = dict(
        verify_challenge_resource=options.verify_challenge_resource,
        connection_timeout=options.timeout,
        read_timeout=options.timeout,
        retry_policy=ReportingRetryPolicy(
            RETRY_LOG,
            retry_total=options.retries,
            retry_connect=options.retries,
            retry_read=options.retries,
            retry_status=options.retries,
            retry_backoff_factor=options.retry_backoff,
        ),
    )
    if not options.validate_certs:
        settings['connection_verify'] = False
    elif options.ca_cert:
        settings['connection_verify'] = options.ca_cert
    if options.proxy:
        settings['proxies'] = {'http': options.proxy, 'https': options.proxy}
    if options.api_version:
        settings['api_version'] = options.api_version
    return settings


def get_credential(options):
    """The credential for ``options``; with ``options.token_sharing`` set, one whose tokens other processes reuse."""
    # The token requests' timeout and retries are part of the credential, not of whose tokens it shares.
    key = (options.credential_key(), options.timeout, options.retries, options.retry_backoff, options.token_sharing)
    with _LOCK:
        if key not in _CREDENTIALS:
            try:
                credential = build_credential(options)
            except (ValueError, OSError) as error:
                raise KeyVaultError('auth', 'cannot use auth_source=%s: %s' % (options.auth_source, one_line(error)))
            if options.token_sharing is not None:
                credential = options.token_sharing.share(credential, options.credential_key())
            _CREDENTIALS[key] = credential
        return _CREDENTIALS[key]


def get_client(client_class, options, vault_url=None):
    """A cached ``client_class`` (e.g. SecretClient) for ``vault_url`` (default: the options' vault)."""
    vault_url = vault_url or options.require_vault_url()
    key = (client_class, vault_url, options.client_key(), options.token_sharing)
    credential = get_credential(options)
    with _LOCK:
        if key not in _CLIENTS:
            _CLIENTS[key] = client_class(vault_url, credential, **client_settings(options))
        return _CLIENTS[key]


def get_secret_client(options, vault_url=None):
    return get_client(SecretClient, options, vault_url)


def get_certificate_client(options, vault_url=None):
    return get_client(CertificateClient, options, vault_url)
