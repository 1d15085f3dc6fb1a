# -*- coding: utf-8 -*-
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Connection and authentication options shared by every plugin of the collection.

For internal collection use only: names and behaviour may change without notice.

Modules build :class:`ConnectionOptions` from their ``params``, lookups from the values of their
``get_option``; both get the same validation and the same messages.
"""

import re

from ansible.module_utils.basic import env_fallback
from ansible.module_utils.six.moves.urllib.parse import urlsplit

from ansible_collections.keyvault.azure.plugins.module_utils._auth_sources import AUTH_SOURCE_REGISTRY, is_set as _is_set
from ansible_collections.keyvault.azure.plugins.module_utils._identifiers import KeyVaultInputError, displayed_url, normalize_vault_url

CLOUDS = {
    'AzureCloud': {'vault_suffix': 'vault.azure.net', 'authority': 'login.microsoftonline.com'},
    'AzureUSGovernment': {'vault_suffix': 'vault.usgovcloudapi.net', 'authority': 'login.microsoftonline.us'},
    'AzureChinaCloud': {'vault_suffix': 'vault.azure.cn', 'authority': 'login.chinacloudapi.cn'},
}
DEFAULT_CLOUD = 'AzureCloud'

AUTH_SOURCES = tuple(AUTH_SOURCE_REGISTRY)

# The auth options each source consumes; any other auth option given with it is a mistake.
AUTH_OPTIONS_BY_SOURCE = dict((name, source.options) for name, source in AUTH_SOURCE_REGISTRY.items())
AUTH_OPTIONS = ('client_id', 'object_id', 'resource_id', 'tenant_id', 'client_secret', 'client_certificate_path',
                'client_certificate_password', 'federated_token_file')

VAULT_EXCLUSIVE = ('vault_url', 'vault_name')
AUTH_EXCLUSIVE = (
    ('client_id', 'object_id', 'resource_id'),
    ('client_secret', 'client_certificate_path'),
)

# Vault names: 3-24 characters, letters, digits and hyphens, starting with a letter, no double
# or trailing hyphen.
VAULT_NAME_PATTERN = re.compile(r'^[A-Za-z](?!.*--)[A-Za-z0-9-]{1,22}[A-Za-z0-9]$')

ENV_VARS = {
    'vault_url': 'ANSIBLE_KEYVAULT_URL',
    'vault_name': 'ANSIBLE_KEYVAULT_NAME',
}


def env_var_for(option):
    """The ANSIBLE_KEYVAULT_* environment variable an option falls back to."""
    return ENV_VARS.get(option, 'ANSIBLE_KEYVAULT_' + option.upper())


def _spec(option_type, default=None, choices=None, no_log=None, option=None):
    entry = dict(type=option_type, fallback=(env_fallback, [env_var_for(option)]))
    if default is not None:
        entry['default'] = default
    if choices is not None:
        entry['choices'] = list(choices)
    if no_log is not None:
        entry['no_log'] = no_log
    return entry


def _build_argument_spec():
    spec = dict(
        vault_url=dict(option_type='str'),
        vault_name=dict(option_type='str'),
        cloud=dict(option_type='str', choices=list(CLOUDS)),
        api_version=dict(option_type='str'),
        timeout=dict(option_type='int', default=30),
        retries=dict(option_type='int', default=4),
        retry_backoff=dict(option_type='float', default=0.8),
        warn_on_retry=dict(option_type='bool', default=False),
        validate_certs=dict(option_type='bool', default=True),
        ca_cert=dict(option_type='path'),
        verify_challenge_resource=dict(option_type='bool', default=True),
        proxy=dict(option_type='str'),
        auth_source=dict(option_type='str', default='managed_identity', choices=AUTH_SOURCES),
        client_id=dict(option_type='str'),
        object_id=dict(option_type='str'),
        resource_id=dict(option_type='str'),
        tenant_id=dict(option_type='str'),
        client_secret=dict(option_type='str', no_log=True),
        client_certificate_path=dict(option_type='path'),
        client_certificate_password=dict(option_type='str', no_log=True),
        federated_token_file=dict(option_type='path'),
    )
    return dict((name, _spec(option=name, **entry)) for name, entry in spec.items())


# Merged into every module's argument spec by the module wrapper.
CONNECTION_ARGUMENT_SPEC = _build_argument_spec()
OPTION_NAMES = tuple(CONNECTION_ARGUMENT_SPEC)


def _exclusive_message(names):
    env_names = ', '.join(env_var_for(name) for name in names)
    return 'parameters are mutually exclusive: %s (also check the environment variables %s)' % ('|'.join(names), env_names)


def checked_vault_url(url, cloud=None):
    """The normalized vault URL, refused when it does not belong to an explicitly chosen cloud."""
    normalized = normalize_vault_url(url)
    if cloud:
        suffix = CLOUDS[cloud]['vault_suffix']
        if not urlsplit(normalized).hostname.endswith('.' + suffix):
            raise KeyVaultInputError("vault_url '%s' is not a vault of cloud %s: its host must end with .%s" % (displayed_url(url), cloud, suffix))
    return normalized


def vault_url_from_name(name, cloud=None):
    if not VAULT_NAME_PATTERN.match(name):
        raise KeyVaultInputError(
            "vault_name '%s' is not a valid key vault name: 3-24 letters, digits and hyphens, starting with a letter, "
            "ending with a letter or digit, without consecutive hyphens" % name)
    return 'https://%s.%s' % (name.lower(), CLOUDS[cloud or DEFAULT_CLOUD]['vault_suffix'])


def check_auth_options(values):
    """Raise KeyVaultInputError when the auth options do not fit together. ``values`` maps option names to values."""
    source = values.get('auth_source') or 'managed_identity'
    if source not in AUTH_OPTIONS_BY_SOURCE:
        raise KeyVaultInputError('auth_source must be one of %s, got %s' % (', '.join(AUTH_SOURCES), source))
    for group in AUTH_EXCLUSIVE:
        given = [name for name in group if _is_set(values.get(name))]
        if len(given) > 1:
            raise KeyVaultInputError(_exclusive_message(given))
    unused = [name for name in AUTH_OPTIONS if _is_set(values.get(name)) and name not in AUTH_OPTIONS_BY_SOURCE[source]]
    if unused:
        raise KeyVaultInputError('auth_source=%s does not use %s; remove %s or choose another auth_source (check also %s)' % (
            source, ', '.join(unused), 'it' if len(unused) == 1 else 'them', ', '.join(env_var_for(name) for name in unused)))
    AUTH_SOURCE_REGISTRY[source].check(values)
    if _is_set(values.get('client_certificate_password')) and not _is_set(values.get('client_certificate_path')):
        raise KeyVaultInputError('client_certificate_password needs client_certificate_path')


class ConnectionOptions(object):
    """Validated connection and authentication settings, independent of where they came from.

    Instances are immutable and hashable through :meth:`client_key` / :meth:`credential_key`, which
    the client factory uses to build each credential and client once per process.
    """

    def __init__(self, values, token_sharing=None):
        given = [name for name in VAULT_EXCLUSIVE if _is_set(values.get(name))]
        if len(given) > 1:
            raise KeyVaultInputError(_exclusive_message(given))
        check_auth_options(values)

        self.cloud = values.get('cloud') or None
        if self.cloud is not None and self.cloud not in CLOUDS:
            raise KeyVaultInputError('cloud must be one of %s, got %s' % (', '.join(sorted(CLOUDS)), self.cloud))
        if _is_set(values.get('vault_url')):
            self.vault_url = checked_vault_url(values['vault_url'], self.cloud)
        elif _is_set(values.get('vault_name')):
            self.vault_url = vault_url_from_name(values['vault_name'], self.cloud)
        else:
            self.vault_url = None

        self.api_version = values.get('api_version') or None
        self.timeout = _bounded_number(values, 'timeout', 30, minimum=1)
        self.retries = _bounded_number(values, 'retries', 4, minimum=0)
        self.retry_backoff = _bounded_number(values, 'retry_backoff', 0.8, minimum=0)
        self.warn_on_retry = bool(values.get('warn_on_retry'))
        self.validate_certs = values.get('validate_certs') is not False
        self.ca_cert = values.get('ca_cert') or None
        self.verify_challenge_resource = values.get('verify_challenge_resource') is not False
        self.proxy = values.get('proxy') or None

        self.auth_source = values.get('auth_source') or 'managed_identity'
        self.client_id = values.get('client_id') or None
        self.object_id = values.get('object_id') or None
        self.resource_id = values.get('resource_id') or None
        self.tenant_id = values.get('tenant_id') or None
        self.client_secret = values.get('client_secret') or None
        self.client_certificate_path = values.get('client_certificate_path') or None
        self.client_certificate_password = values.get('client_certificate_password') or None
        self.federated_token_file = values.get('federated_token_file') or None
        # Set by controller-side plugins only (plugin_utils._shared_tokens.TokenSharing).
        self.token_sharing = token_sharing

    def require_vault_url(self):
        if not self.vault_url:
            raise KeyVaultInputError('no vault given: set vault_url or vault_name (or the environment variable %s or %s)'
                                     % (env_var_for('vault_url'), env_var_for('vault_name')))
        return self.vault_url

    @property
    def authority(self):
        return CLOUDS[self.cloud]['authority'] if self.cloud else None

    def credential_key(self):
        return (self.auth_source, self.client_id, self.object_id, self.resource_id, self.tenant_id, self.client_secret,
                self.client_certificate_path, self.client_certificate_password, self.federated_token_file,
                self.cloud, self.proxy)

    def client_key(self):
        return self.credential_key() + (self.api_version, self.timeout, self.retries, self.retry_backoff,
                                        self.validate_certs, self.ca_cert, self.verify_challenge_resource)

    def sensitive_values(self):
        """Option values that must never appear in any output."""
        return tuple(value for value in (self.client_secret, self.client_certificate_password) if value)

    def identity_description(self):
        """Who the plugin authenticates as, for error messages."""
        return AUTH_SOURCE_REGISTRY[self.auth_source].identity(self)


def _bounded_number(values, option, default, minimum):
    value = values.get(option)
    if value is None or value == '':
        return default
    if value < minimum:
        raise KeyVaultInputError('%s must be at least %s, got %s' % (option, minimum, value))
    return value
