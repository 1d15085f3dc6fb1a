# -*- coding: utf-8 -*-
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Turns any error of the Azure SDK into one line that names the vault, the object and the cause.

For internal collection use only: names and behaviour may change without notice.

The messages never carry a traceback, a token or a value the caller marked as sensitive.
"""

import re

try:
    from azure.core.exceptions import (
        AzureError,
        ClientAuthenticationError,
        HttpResponseError,
        ServiceRequestError,
        ServiceRequestTimeoutError,
        ServiceResponseError,
        ServiceResponseTimeoutError,
    )
except ImportError:
    # Without azure-core nothing can raise these; plugins report the missing library (see
    # HAS_AZURE in plugins/module_utils/_client.py) before they send anything.
    class _NeverRaised(Exception):
        pass

    AzureError = ClientAuthenticationError = HttpResponseError = _NeverRaised
    ServiceRequestError = ServiceRequestTimeoutError = ServiceResponseError = ServiceResponseTimeoutError = _NeverRaised

REDACTED = '********'
# JWT-shaped strings (access tokens, client assertions) and bearer headers.
_TOKEN_PATTERNS = (
    re.compile(r'eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*'),
    re.compile(r'(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}'),
)
_TLS_REASON = re.compile(r'certificate verify failed: ([^(\'"\]]+)')
# What azure-identity puts before the identity endpoint's own error text.
_ENDPOINT_ANSWER = re.compile(r'Token request error: |Error: ')
_ERRNO_REASON = re.compile(r'(\[Errno -?\d+\] [^\'")\]]+)')

# Inner error codes the service uses for a missing access-policy permission.
_PERMISSION_CODES = ('AccessDenied', 'ForbiddenByPolicy')
# A vault with the Azure RBAC permission model refuses with this inner code and names the data action it missed
# and the resource it checked, in lines such as "Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'".
_RBAC_CODE = 'ForbiddenByRbac'
_RBAC_ACTION = re.compile(r"Action: '([^']+)'")
_RBAC_OBJECT = re.compile(r"Resource: '[^']*/vaults/[^/']+/((?:secrets|certificates)/[^/']+)'", re.IGNORECASE)
# For each data action, the narrowest built-in role that grants it (data actions of each role: "Azure built-in
# roles for Security", MicrosoftDocs/azure-docs articles/role-based-access-control/built-in-roles/security.md).
# Exact actions first, then prefixes: every other secrets action is in Secrets Officer's secrets/*, every other
# certificates, issuer (certificatecas) and contacts action in Certificates Officer's.
_RBAC_ROLES = (
    ('microsoft.keyvault/vaults/secrets/getsecret/action', 'Key Vault Secrets User'),
    ('microsoft.keyvault/vaults/secrets/readmetadata/action', 'Key Vault Reader'),
    ('microsoft.keyvault/vaults/certificates/read', 'Key Vault Reader'),
    ('microsoft.keyvault/vaults/certificatecas/read', 'Key Vault Reader'),
    ('microsoft.keyvault/vaults/secrets/', 'Key Vault Secrets Officer'),
    ('microsoft.keyvault/vaults/certificate', 'Key Vault Certificates Officer'),
)


class KeyVaultError(Exception):
    """A failed vault request, with a ``kind`` plugins can act on and a message users can read.

    Kinds: not_found, deleted, being_deleted, forbidden, disabled, throttled, auth, challenge, tls,
    connection, timeout, invalid, conflict, service, unexpected.
    """

    def __init__(self, kind, message):
        super(KeyVaultError, self).__init__(message)
        self.kind = kind
        self.message = message


def redact(text, sensitive_values=()):
    """``text`` with every sensitive value and anything that looks like a token masked."""
    for value in sorted((v for v in sensitive_values if v), key=len, reverse=True):
        text = text.replace(value, REDACTED)
    text = _TOKEN_PATTERNS[0].sub(REDACTED, text)
    return _TOKEN_PATTERNS[1].sub(r'\1' + REDACTED, text)


def one_line(text):
    return ' '.join(str(text).split())


def _service_error(error):
    """(code, inner code, message) the vault put in its error body, as far as the SDK parsed it."""
    body = getattr(error, 'error', None)
    code = getattr(body, 'code', None)
    message = getattr(body, 'message', None)
    inner = getattr(body, 'innererror', None) or {}
    inner_code = inner.get('code') if isinstance(inner, dict) else None
    if not message:
        message = (getattr(error, 'message', None) or str(error)).split('\n')[0]
    return code, inner_code, one_line(message)


def _http_error(error, where, subject, permission, options):
    status = error.status_code
    code, inner_code, service_message = _service_error(error)
    said = 'the vault said: %s' % service_message
    if status == 404:
        return KeyVaultError('not_found', '%s was not found in %s' % (subject, where))
    if status == 403:
        if inner_code == 'SecretDisabled' or inner_code == 'CertificateDisabled' or 'disabled' in service_message.lower():
            return KeyVaultError('disabled', '%s in %s is disabled, so it cannot be read (%s)' % (subject, where, said))
        if inner_code == _RBAC_CODE:
            return KeyVaultError('forbidden', 'access to %s in %s was denied by Azure RBAC: %s %s (%s)' % (
                subject, where, options.identity_description(), _missing_role(service_message), said))
        if inner_code in _PERMISSION_CODES or 'does not have' in service_message:
            return KeyVaultError('forbidden', 'access to %s in %s was denied: %s lacks the %s permission (%s)' % (
                subject, where, options.identity_description(), permission, said))
        return KeyVaultError('forbidden', 'the request for %s in %s was refused with HTTP 403 (%s)' % (subject, where, said))
    if status == 409:
        if inner_code == 'ObjectIsDeletedButRecoverable':
            return KeyVaultError('deleted', '%s in %s is deleted but recoverable: its name cannot be reused until it is '
                                            'recovered or purged' % (subject, where))
        if inner_code == 'ObjectIsBeingDeleted':
            return KeyVaultError('being_deleted', '%s in %s is still being deleted; try again in a few seconds' % (subject, where))
        return KeyVaultError('conflict', 'the request for %s in %s conflicts with its current state (%s)' % (subject, where, said))
    if status == 429:
        return KeyVaultError('throttled', '%s throttled the requests for %s (HTTP 429) and %d retries did not get through; '
                                          'raise retries or slow down (%s)' % (where, subject, options.retries, said))
    if status == 401:
        return KeyVaultError('auth', '%s rejected the token of %s for %s (HTTP 401, %s)' % (
            where, options.identity_description(), subject, said))
    if status == 400:
        return KeyVaultError('invalid', '%s refused the request for %s as invalid (%s)' % (where, subject, said))
    if status >= 500 or status == 408:
        return KeyVaultError('service', '%s failed the request for %s with HTTP %d after %d retries (%s)' % (
            where, subject, status, options.retries, said))
    return KeyVaultError('unexpected', '%s answered the request for %s with HTTP %d %s (%s)' % (
        where, subject, status, code or '', said))


def _missing_role(service_message):
    """What an RBAC refusal says is missing: the data action, where it is needed, and a built-in role that grants it."""
    action = _RBAC_ACTION.search(service_message)
    if not action:
        return 'has no role assignment that allows this request'
    target = _RBAC_OBJECT.search(service_message)
    where = 'the vault or %s' % target.group(1) if target else 'the vault'
    role = next((name for prefix, name in _RBAC_ROLES if action.group(1).lower().startswith(prefix)), None)
    granted_by = '; the built-in role %s grants it' % role if role else ''
    return 'has no role assignment at %s that grants the data action %s%s' % (where, action.group(1), granted_by)


def _answered_by(error, vault_url):
    """Whether the vault itself sent the response behind ``error`` (and not a token endpoint)."""
    request = getattr(getattr(error, 'response', None), 'request', None)
    return bool(getattr(error, 'status_code', None)) and str(getattr(request, 'url', '')).lower().startswith(vault_url.lower())


def _causes(error):
    """``error`` and the exceptions it was raised from, outermost first."""
    seen = []
    while error is not None and error not in seen:
        seen.append(error)
        error = error.__cause__ or error.__context__
    return seen


def _token_endpoint(options):
    return 'the managed identity endpoint' if options.auth_source == 'managed_identity' else 'the token endpoint'


def _token_timeout(error, where, options):
    """The error for a token request that ran out of time, or None when ``error`` is not one.

    azure-identity reports a managed identity endpoint that timed out as "no response from the IMDS endpoint";
    the timeout itself is in the exceptions it was raised from.
    """
    timed_out = any(isinstance(cause, (ServiceRequestTimeoutError, ServiceResponseTimeoutError)) or 'timed out' in str(cause).lower()
                    for cause in _causes(error))
    if not timed_out:
        return None
    return KeyVaultError('auth', 'could not get a token for %s as %s: %s did not answer within timeout=%d seconds, after %d retries' % (
        where, options.identity_description(), _token_endpoint(options), options.timeout, options.retries))


def _unknown_identity(text, where, options):
    """The error for an endpoint that answered that it has no such identity, or None.

    azure-identity prefixes that answer with "no response from the IMDS endpoint", which is not what happened,
    so only the endpoint's own words (after "Token request error:" or "Error:") are quoted.
    """
    if 'Identity not found' not in text and 'No identity has been assigned' not in text:
        return None
    answer = _ENDPOINT_ANSWER.split(text)[-1]
    return KeyVaultError('auth', 'could not get a token for %s as %s: %s does not know that identity, so it is not assigned to this host '
                                 '(the endpoint answered: %s)' % (where, options.identity_description(), _token_endpoint(options), answer))


def _credential_error(error, where, options):
    text = one_line(getattr(error, 'message', None) or str(error))
    known = _unknown_identity(text, where, options) or _token_timeout(error, where, options)
    if known is not None:
        return known
    if 'Token request error' in text:
        # azure-identity says "no response" here too, but the endpoint answered, with an error.
        return KeyVaultError('auth', 'could not get a token for %s as %s: the managed identity endpoint failed the token request, '
                                     'also when retried (%s)' % (where, options.identity_description(), text))
    if 'IMDS' in text or 'no response from the' in text:
        return KeyVaultError('auth', 'could not get a token for %s as %s: the managed identity endpoint did not answer (%s). '
                                     'Is this an Azure VM with a managed identity?' % (where, options.identity_description(), text))
    return KeyVaultError('auth', 'could not get a token for %s as %s (%s)' % (where, options.identity_description(), text))


def _transport_error(error, where, subject, options):
    text = one_line(getattr(error, 'message', None) or str(error))
    tls = _TLS_REASON.search(text)
    if tls or 'SSLError' in text or 'SSL:' in text:
        reason = tls.group(1).strip() if tls else text
        return KeyVaultError('tls', "TLS verification of %s failed (%s); set ca_cert to the CA bundle that signed the vault's "
                                    "certificate" % (where, reason))
    if isinstance(error, ServiceResponseTimeoutError) or 'timed out' in text.lower():
        return KeyVaultError('timeout', '%s did not answer the request for %s within timeout=%d seconds, after %d retries' % (
            where, subject, options.timeout, options.retries))
    cause = _ERRNO_REASON.search(text)
    reason = cause.group(1).strip() if cause else text
    if isinstance(error, ServiceResponseError):
        return KeyVaultError('connection', 'the connection to %s broke during the request for %s, after %d retries (%s)' % (
            where, subject, options.retries, reason))
    return KeyVaultError('connection', 'could not connect to %s for %s, after %d retries (%s)' % (
        where, subject, options.retries, reason))


def translate_error(error, options, vault_url, subject, permission):
    """The KeyVaultError for ``error`` raised while working on ``subject`` (e.g. "secret 'db'").

    ``permission`` is the access-policy permission the request needs (e.g. ``secrets/set``), named
    when the vault denies it; ``options`` are the ConnectionOptions the client was built from.
    """
    where = 'vault %s' % vault_url
    if isinstance(error, KeyVaultError):
        translated = error
    elif isinstance(error, ClientAuthenticationError) and not _answered_by(error, vault_url):
        translated = _credential_error(error, where, options)
    elif isinstance(error, HttpResponseError) and getattr(error, 'status_code', None):
        translated = _http_error(error, where, subject, permission, options)
    elif isinstance(error, (ServiceRequestError, ServiceResponseError)):
        translated = _transport_error(error, where, subject, options)
    elif isinstance(error, ValueError) and 'challenge resource' in str(error):
        translated = KeyVaultError('challenge', "the authentication challenge of %s names a resource outside the vault's domain; "
                                                'for a vault that is not on an Azure domain (such as the local vault) set '
                                                'verify_challenge_resource: false' % where)
    elif isinstance(error, NotImplementedError) and 'API version' in str(error):
        translated = KeyVaultError('invalid', 'api_version %s is not supported: %s' % (options.api_version, one_line(error)))
    elif isinstance(error, AzureError):
        translated = KeyVaultError('unexpected', 'the request for %s in %s failed: %s' % (subject, where, one_line(error)))
    else:
        translated = KeyVaultError('unexpected', 'the request for %s in %s failed: %s: %s' % (
            subject, where, type(error).__name__, one_line(error)))
    return KeyVaultError(translated.kind, redact(one_line(translated.message), options.sensitive_values()))


def vault_call(options, vault_url, permission, subject, function, *args, **kwargs):
    """``function(*args, **kwargs)``; any error becomes a KeyVaultError about ``subject`` in ``vault_url``.

    ``permission`` is the access-policy permission the call needs, e.g. ``secrets/get``.
    """
    try:
        return function(*args, **kwargs)
    except Exception as error:  # pylint: disable=broad-exception-caught
        raise translate_error(error, options, vault_url, subject, permission)
