# -*- coding: utf-8 -*-
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The auth sources: for each one the auth options it uses, its checks, who it is, and its credential.

For internal collection use only: names and behaviour may change without notice.

Adding an auth source is one entry in AUTH_SOURCE_REGISTRY (and its choice in the auth doc fragment).
Nothing here imports the Azure SDK: the credential factories get the ``azure.identity`` module from
the client layer, so option checks stay usable where the SDK is not installed.
"""

import collections

from ansible_collections.keyvault.azure.plugins.module_utils._identifiers import KeyVaultInputError

AuthSource = collections.namedtuple('AuthSource', ['options', 'check', 'identity', 'credential'])
AuthSource.__doc__ = """One auth source.

``options`` are the auth options it uses (any other one given with it is a mistake);
``check(values)`` raises KeyVaultInputError for option values that cannot work together (``values``
maps option names to values); ``identity(options)`` says who the plugin authenticates as, for
error messages; ``credential(identity_module, options, transport, authority)`` builds the
azure-identity credential from ConnectionOptions, with the transport keywords (proxy, timeout and
retries of the token requests; every credential that sends HTTP takes them) and authority keywords
the client layer prepared.
"""


def is_set(value):
    return value is not None and value != ''


def _no_check(values):
    pass


def _check_service_principal(values):
    missing = [name for name in ('tenant_id', 'client_id') if not is_set(values.get(name))]
    if not (is_set(values.get('client_secret')) or is_set(values.get('client_certificate_path'))):
        missing.append('client_secret or client_certificate_path')
    if missing:
        raise KeyVaultInputError('auth_source=service_principal needs %s' % ', '.join(missing))


def _managed_identity_name(options):
    for option in ('client_id', 'object_id', 'resource_id'):
        if getattr(options, option):
            return 'the user-assigned managed identity with %s %s' % (option, getattr(options, option))
    return 'the system-assigned managed identity'


def _managed_identity(identity, options, transport, authority):
    if options.object_id:
        return identity.ManagedIdentityCredential(identity_config={'object_id': options.object_id}, **transport)
    if options.resource_id:
        return identity.ManagedIdentityCredential(identity_config={'resource_id': options.resource_id}, **transport)
    return identity.ManagedIdentityCredential(client_id=options.client_id, **transport)


def _auto(identity, options, transport, authority):
    managed_identity = {'managed_identity_client_id': options.client_id} if options.client_id else {}
    return identity.DefaultAzureCredential(**dict(managed_identity, **dict(authority, **transport)))


def _cli(identity, options, transport, authority):
    # The CLI runs as a subprocess, not over HTTP: it takes no transport keywords, only a time limit.
    return identity.AzureCliCredential(tenant_id=options.tenant_id or '', process_timeout=options.timeout)


def _service_principal(identity, options, transport, authority):
    if options.client_certificate_path:
        return identity.CertificateCredential(options.tenant_id, options.client_id, options.client_certificate_path,
                                              password=options.client_certificate_password, **dict(authority, **transport))
    return identity.ClientSecretCredential(options.tenant_id, options.client_id, options.client_secret, **dict(authority, **transport))


def _workload_identity(identity, options, transport, authority):
    return identity.WorkloadIdentityCredential(tenant_id=options.tenant_id, client_id=options.client_id,
                                               token_file_path=options.federated_token_file, **dict(authority, **transport))


def _environment(identity, options, transport, authority):
    return identity.EnvironmentCredential(**dict(authority, **transport))


AUTH_SOURCE_REGISTRY = collections.OrderedDict([
    ('managed_identity', AuthSource(('client_id', 'object_id', 'resource_id'), _no_check, _managed_identity_name, _managed_identity)),
    ('auto', AuthSource(('client_id',), _no_check, lambda options: 'the DefaultAzureCredential chain', _auto)),
    ('cli', AuthSource(('tenant_id',), _no_check, lambda options: 'the Azure CLI account', _cli)),
    ('service_principal', AuthSource(
        ('tenant_id', 'client_id', 'client_secret', 'client_certificate_path', 'client_certificate_password'), _check_service_principal,
        lambda options: 'the service principal %s in tenant %s' % (options.client_id, options.tenant_id), _service_principal)),
    ('workload_identity', AuthSource(
        ('tenant_id', 'client_id', 'federated_token_file'), _no_check,
        lambda options: 'the workload identity%s' % (' with client_id %s' % options.client_id if options.client_id else ''), _workload_identity)),
    ('environment', AuthSource((), _no_check, lambda options: 'the credential in the AZURE_* environment variables', _environment)),
])
