# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection and auth options: validation, environment fallbacks, and docs that match the spec."""

import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.keyvault.azure.plugins.doc_fragments import auth as auth_fragment
from ansible_collections.keyvault.azure.plugins.doc_fragments import connection as connection_fragment
from ansible_collections.keyvault.azure.plugins.module_utils._identifiers import KeyVaultInputError
from ansible_collections.keyvault.azure.plugins.module_utils._options import (
    AUTH_OPTIONS_BY_SOURCE,
    CONNECTION_ARGUMENT_SPEC,
    ConnectionOptions,
    env_var_for,
    lower_level_options,
    options_given,
)


def options(**values):
    return ConnectionOptions(values)


def documented(fragment_name):
    fragments = (connection_fragment.ModuleDocFragment, auth_fragment.ModuleDocFragment)
    merged = {}
    for fragment in fragments:
        merged.update(yaml.safe_load(getattr(fragment, fragment_name))['options'])
    return merged


class TestDocsMatchSpec:

    def test_every_option_is_documented_with_its_type_default_and_choices(self):
        docs = documented('DOCUMENTATION')
        assert sorted(docs) == sorted(CONNECTION_ARGUMENT_SPEC)
        for name, spec in CONNECTION_ARGUMENT_SPEC.items():
            assert docs[name]['type'] == spec['type'], name
            assert docs[name].get('default') == spec.get('default'), name
            assert docs[name].get('choices') == spec.get('choices'), name
            assert docs[name].get('aliases') == spec.get('aliases'), name

    def test_module_docs_name_the_environment_fallback(self):
        docs = documented('DOCUMENTATION')
        for name in CONNECTION_ARGUMENT_SPEC:
            assert 'E(%s)' % env_var_for(name) in ' '.join(docs[name]['description']), name

    def test_plugin_sources_match_module_fallbacks(self):
        plugins = documented('PLUGINS')
        assert sorted(plugins) == sorted(CONNECTION_ARGUMENT_SPEC)
        for name, spec in CONNECTION_ARGUMENT_SPEC.items():
            assert plugins[name]['env'] == [{'name': env} for env in spec['fallback'][1]], name
            assert plugins[name]['ini'] == [{'section': 'keyvault_azure', 'key': name}], name
            assert plugins[name]['vars'] == [{'name': 'ansible_keyvault_' + name}], name

    def test_secrets_are_no_log(self):
        assert {name for name, spec in CONNECTION_ARGUMENT_SPEC.items() if spec.get('no_log')} == {'client_secret', 'client_certificate_password'}


class TestEnvironmentFallback:

    def validate(self, parameters):
        result = ArgumentSpecValidator(CONNECTION_ARGUMENT_SPEC).validate(parameters)
        assert not result.error_messages
        return result.validated_parameters

    def test_environment_fills_unset_options_with_their_types(self, monkeypatch):
        monkeypatch.setenv('ANSIBLE_KEYVAULT_URL', 'https://localhost:8443')
        monkeypatch.setenv('ANSIBLE_KEYVAULT_VERIFY_CHALLENGE_RESOURCE', 'false')
        monkeypatch.setenv('ANSIBLE_KEYVAULT_RETRIES', '7')
        monkeypatch.setenv('ANSIBLE_KEYVAULT_RETRY_BACKOFF', '0.1')
        params = self.validate({})
        assert (params['vault_url'], params['verify_challenge_resource'], params['retries'], params['retry_backoff']) == (
            'https://localhost:8443', False, 7, 0.1)
        assert (params['auth_source'], params['timeout'], params['validate_certs']) == ('managed_identity', 30, True)

    def test_task_arguments_win_over_the_environment(self, monkeypatch):
        monkeypatch.setenv('ANSIBLE_KEYVAULT_URL', 'https://from-env.vault.azure.net')
        monkeypatch.setenv('ANSIBLE_KEYVAULT_AUTH_SOURCE', 'cli')
        params = self.validate({'vault_url': 'https://from-task.vault.azure.net', 'auth_source': 'auto'})
        assert (params['vault_url'], params['auth_source']) == ('https://from-task.vault.azure.net', 'auto')

    def test_vault_name_has_its_own_variable(self, monkeypatch):
        monkeypatch.setenv('ANSIBLE_KEYVAULT_NAME', 'shopvault')
        assert ConnectionOptions(self.validate({})).vault_url == 'https://shopvault.vault.azure.net'


class TestVault:

    @pytest.mark.parametrize('given, expected', [
        ('https://MyVault.vault.azure.net', 'https://myvault.vault.azure.net'),
        ('https://myvault.vault.azure.net/', 'https://myvault.vault.azure.net'),
        (' https://localhost:8443 ', 'https://localhost:8443'),
    ])
    def test_vault_url_is_normalized(self, given, expected):
        assert options(vault_url=given).vault_url == expected

    @pytest.mark.parametrize('given, message', [
        ('http://myvault.vault.azure.net', 'must be an https:// URL'),
        ('myvault.vault.azure.net', 'must be an https:// URL'),
        ('https://myvault.vault.azure.net/secrets/x', 'must name only the vault'),
        ('https://myvault.vault.azure.net?x=1', 'must name only the vault'),
        ('https://user:pw@myvault.vault.azure.net', 'user information'),
    ])
    def test_bad_vault_urls(self, given, message):
        with pytest.raises(KeyVaultInputError, match=message):
            options(vault_url=given)

    @pytest.mark.parametrize('cloud, url', [
        ('AzureCloud', 'https://shop1.vault.azure.net'),
        ('AzureUSGovernment', 'https://shop1.vault.usgovcloudapi.net'),
        ('AzureChinaCloud', 'https://shop1.vault.azure.cn'),
    ])
    def test_vault_name_uses_the_cloud_suffix(self, cloud, url):
        assert options(vault_name='shop1', cloud=cloud).vault_url == url

    def test_vault_name_defaults_to_the_public_cloud(self):
        assert options(vault_name='shop-vault-01').vault_url == 'https://shop-vault-01.vault.azure.net'

    def test_explicit_cloud_checks_the_url_suffix(self):
        assert options(vault_url='https://v.vault.azure.cn', cloud='AzureChinaCloud').vault_url == 'https://v.vault.azure.cn'
        with pytest.raises(KeyVaultInputError, match='is not a vault of cloud AzureChinaCloud: its host must end with .vault.azure.cn'):
            options(vault_url='https://v.vault.azure.net', cloud='AzureChinaCloud')

    def test_without_cloud_any_domain_is_accepted(self):
        assert options(vault_url='https://localhost:8443').vault_url == 'https://localhost:8443'

    @pytest.mark.parametrize('name', ['ab', 'a' * 25, '1vault', 'vault-', 'va--ult', 'vault_1', 'vault.1'])
    def test_bad_vault_names(self, name):
        with pytest.raises(KeyVaultInputError, match='is not a valid key vault name'):
            options(vault_name=name)

    def test_url_and_name_are_exclusive_and_the_message_names_the_variables(self):
        with pytest.raises(KeyVaultInputError) as raised:
            options(vault_url='https://a.vault.azure.net', vault_name='b')
        assert str(raised.value) == ('parameters are mutually exclusive: vault_url|vault_name (also check the variables '
                                     'ansible_keyvault_vault_url, ansible_keyvault_vault_name and the environment variables '
                                     'ANSIBLE_KEYVAULT_URL, ANSIBLE_KEYVAULT_NAME)')

    def test_a_vault_is_only_required_when_asked(self):
        no_vault = options()
        assert no_vault.vault_url is None
        with pytest.raises(KeyVaultInputError) as raised:
            no_vault.require_vault_url()
        assert str(raised.value) == (
            'no vault given: set vault_url or vault_name in the task, in module_defaults (group/keyvault.azure.all), as the variable '
            'ansible_keyvault_vault_url or ansible_keyvault_vault_name, or in the environment variable ANSIBLE_KEYVAULT_URL or '
            'ANSIBLE_KEYVAULT_NAME of the managed host')

    @pytest.mark.parametrize('option, value, message', [
        ('timeout', 0, 'timeout must be at least 1'),
        ('retries', -1, 'retries must be at least 0'),
        ('retry_backoff', -0.5, 'retry_backoff must be at least 0'),
    ])
    def test_numbers_have_bounds(self, option, value, message):
        with pytest.raises(KeyVaultInputError, match=message):
            options(**{option: value})


class TestAuth:

    @pytest.mark.parametrize('given', [
        dict(client_id='c', object_id='o'),
        dict(client_id='c', resource_id='r'),
        dict(object_id='o', resource_id='r'),
    ])
    def test_identity_selectors_are_exclusive(self, given):
        with pytest.raises(KeyVaultInputError, match='^parameters are mutually exclusive: %s' % '\\|'.join(sorted(given, key=list(
                ('client_id', 'object_id', 'resource_id')).index))):
            options(**given)

    def test_client_secret_and_certificate_are_exclusive(self):
        with pytest.raises(KeyVaultInputError, match='mutually exclusive: client_secret\\|client_certificate_path'):
            options(auth_source='service_principal', tenant_id='t', client_id='c', client_secret='s', client_certificate_path='/p')

    @pytest.mark.parametrize('source, given, unused', [
        ('managed_identity', dict(tenant_id='t'), 'tenant_id'),
        ('managed_identity', dict(client_secret='s'), 'client_secret'),
        ('auto', dict(object_id='o'), 'object_id'),
        ('cli', dict(client_id='c'), 'client_id'),
        ('environment', dict(client_id='c', tenant_id='t'), 'client_id, tenant_id'),
        ('workload_identity', dict(resource_id='r'), 'resource_id'),
    ])
    def test_options_the_source_does_not_use_are_refused(self, source, given, unused):
        with pytest.raises(KeyVaultInputError, match='^auth_source=%s does not use %s;' % (source, unused)):
            options(auth_source=source, **given)

    def test_service_principal_needs_tenant_client_and_a_secret(self):
        with pytest.raises(KeyVaultInputError, match='needs tenant_id, client_secret or client_certificate_path'):
            options(auth_source='service_principal', client_id='c')
        with pytest.raises(KeyVaultInputError, match='client_certificate_password needs client_certificate_path'):
            options(auth_source='service_principal', tenant_id='t', client_id='c', client_secret='s', client_certificate_password='p')

    def test_every_source_accepts_its_own_options(self):
        for source, names in AUTH_OPTIONS_BY_SOURCE.items():
            exclusive_or_dependent = ('object_id', 'resource_id', 'client_certificate_path', 'client_certificate_password')
            given = dict((name, 'x') for name in names if name not in exclusive_or_dependent)
            if source == 'service_principal':
                given.pop('client_secret')
                given['client_certificate_path'] = '/cert.pem'
            assert options(auth_source=source, **given).auth_source == source

    def test_unknown_source(self):
        with pytest.raises(KeyVaultInputError, match='auth_source must be one of'):
            options(auth_source='password')

    @pytest.mark.parametrize('given, description', [
        (dict(), 'the system-assigned managed identity'),
        (dict(object_id='0b1'), 'the user-assigned managed identity with object_id 0b1'),
        (dict(auth_source='service_principal', tenant_id='t1', client_id='app', client_secret='s'), 'the service principal app in tenant t1'),
    ])
    def test_identity_description(self, given, description):
        assert options(**given).identity_description() == description

    def test_secrets_are_listed_for_redaction_and_keys_differ_by_identity(self):
        principal = options(auth_source='service_principal', tenant_id='t', client_id='c', client_secret='very-secret')
        assert principal.sensitive_values() == ('very-secret',)
        assert options(client_id='a').credential_key() != options(client_id='b').credential_key()
        assert options(timeout=5).credential_key() == options(timeout=9).credential_key()
        assert options(timeout=5).client_key() != options(timeout=9).client_key()


class TestLowerLevels:

    def test_aliases_count_as_the_option(self):
        assert options_given({'vault_uri': 'https://a.vault.azure.net', 'name': 'db'}) == {'vault_url': 'https://a.vault.azure.net'}
        assert options_given({'keyvault_uri': 'https://a.vault.azure.net'}) == {'vault_url': 'https://a.vault.azure.net'}

    def test_unset_options_are_filled_but_set_ones_and_their_exclusive_partners_are_not(self):
        lower = {'vault_url': 'https://v.vault.azure.net', 'timeout': 5, 'client_id': 'c', 'client_secret': 's', 'proxy': '', 'name': 'x'}
        taken = lower_level_options({'vault_name': 'shop', 'resource_id': '/r', 'timeout': 9}, lower)
        assert taken == {'client_secret': 's'}

    def test_nothing_given_takes_every_set_option(self):
        assert lower_level_options({}, {'vault_name': 'shop', 'retries': 0, 'ca_cert': None}) == {'vault_name': 'shop', 'retries': 0}
