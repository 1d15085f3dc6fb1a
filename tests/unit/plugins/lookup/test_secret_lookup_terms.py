# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The secret lookup's option sources, failure handling, ordering and unsafe results."""

import threading
import time

import pytest

from ansible.errors import AnsibleLookupError
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import lookup_loader

from ansible_collections.keyvault.azure.plugins.module_utils._retry_log import RETRY_LOG
from ansible_collections.keyvault.azure.plugins.module_utils._errors import KeyVaultError
from ansible_collections.keyvault.azure.plugins.module_utils._options import OPTION_NAMES
from ansible_collections.keyvault.azure.plugins.plugin_utils import _lookup_base


@pytest.fixture
def lookup():
    return lookup_loader.get('keyvault.azure.secret', loader=DataLoader(), templar=None)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in OPTION_NAMES:
        monkeypatch.delenv('ANSIBLE_KEYVAULT_' + name.upper(), raising=False)
    monkeypatch.delenv('ANSIBLE_KEYVAULT_URL', raising=False)
    monkeypatch.delenv('ANSIBLE_KEYVAULT_NAME', raising=False)


class TestOptionSources:

    def test_precedence_is_keyword_then_variable_then_environment(self, lookup, monkeypatch):
        monkeypatch.setenv('ANSIBLE_KEYVAULT_URL', 'https://from-env.vault.azure.net')
        monkeypatch.setenv('ANSIBLE_KEYVAULT_TIMEOUT', '11')
        monkeypatch.setenv('ANSIBLE_KEYVAULT_RETRIES', '2')
        variables = {'ansible_keyvault_vault_url': 'https://from-vars.vault.azure.net', 'ansible_keyvault_timeout': 12}
        lookup.set_options(var_options=variables, direct={'vault_url': 'https://from-keyword.vault.azure.net'})
        options = lookup.connection_options()
        assert (options.vault_url, options.timeout, options.retries) == ('https://from-keyword.vault.azure.net', 12, 2)

        lookup.set_options(var_options=variables, direct={})
        assert lookup.connection_options().vault_url == 'https://from-vars.vault.azure.net'

        lookup.set_options(var_options={}, direct={})
        options = lookup.connection_options()
        assert (options.vault_url, options.timeout) == ('https://from-env.vault.azure.net', 11)

    def test_environment_booleans_and_auth(self, lookup, monkeypatch):
        monkeypatch.setenv('ANSIBLE_KEYVAULT_VERIFY_CHALLENGE_RESOURCE', 'false')
        monkeypatch.setenv('ANSIBLE_KEYVAULT_CA_CERT', '/tmp/ca.pem')
        monkeypatch.setenv('ANSIBLE_KEYVAULT_CLIENT_ID', 'c-1')
        lookup.set_options(var_options={}, direct={'vault_name': 'shopvault'})
        options = lookup.connection_options()
        assert (options.verify_challenge_resource, options.ca_cert, options.client_id, options.auth_source) == (
            False, '/tmp/ca.pem', 'c-1', 'managed_identity')
        assert options.vault_url == 'https://shopvault.vault.azure.net'

    def test_invalid_combination_is_a_lookup_error(self, lookup):
        lookup.set_options(var_options={}, direct={'client_id': 'a', 'object_id': 'b'})
        with pytest.raises(AnsibleLookupError, match='mutually exclusive: client_id\\|object_id'):
            lookup.connection_options()

    def test_unknown_keyword_is_refused(self, lookup):
        with pytest.raises(AnsibleLookupError, match='keyvault.azure.secret does not know the option\\(s\\) vault'):
            lookup.run(['db'], variables={}, vault='https://x.vault.azure.net')

    def test_azure_collection_name_of_the_vault_url_is_an_alias(self, lookup):
        lookup.load_options({}, {'vault_uri': 'https://x.vault.azure.net'})
        assert lookup.connection_options().vault_url == 'https://x.vault.azure.net'

    def test_a_keyword_hides_the_variables_of_its_exclusive_partners(self, lookup):
        lookup.load_options({'ansible_keyvault_vault_url': 'https://from-vars.vault.azure.net', 'ansible_keyvault_object_id': 'o-1'},
                            {'vault_name': 'shopvault', 'client_id': 'c-1'})
        options = lookup.connection_options()
        assert (options.vault_url, options.client_id, options.object_id) == ('https://shopvault.vault.azure.net', 'c-1', None)

    def test_terms_need_a_vault_unless_they_are_ids(self, lookup):
        with pytest.raises(AnsibleLookupError) as raised:
            lookup.run(['db'], variables={})
        assert str(raised.value) == (
            'no vault given: set vault_url or vault_name as a keyword of the lookup, as the variable ansible_keyvault_vault_url or '
            'ansible_keyvault_vault_name, in the environment variable ANSIBLE_KEYVAULT_URL or ANSIBLE_KEYVAULT_NAME, or in ansible.cfg '
            '(vault_url or vault_name in [keyvault_azure]), or give full secret ids')

    def test_bad_term_fails_before_any_request(self, lookup):
        with pytest.raises(AnsibleLookupError, match="invalid secret name 'bad_name'"):
            lookup.run(['bad_name'], variables={}, vault_url='https://shop.vault.azure.net')


def failure(kind):
    return KeyVaultError(kind, '%s happened' % kind)


class TestSettle:

    def settle(self, lookup, outcomes, **direct):
        lookup.set_options(var_options={}, direct=direct)
        return lookup.settle(outcomes)

    def test_values_pass_in_order(self, lookup):
        assert self.settle(lookup, ['a', 'b', 'c']) == ['a', 'b', 'c']

    @pytest.mark.parametrize('kind, option', [
        ('not_found', 'on_missing'), ('forbidden', 'on_denied'), ('disabled', 'on_denied'), ('deleted', 'on_deleted')])
    def test_each_failure_follows_its_option(self, lookup, kind, option):
        with pytest.raises(AnsibleLookupError, match='%s happened' % kind):
            self.settle(lookup, ['a', failure(kind)])
        assert self.settle(lookup, ['a', failure(kind), 'c'], **{option: 'skip'}) == ['a', 'c']
        assert self.settle(lookup, ['a', failure(kind), 'c'], **{option: 'skip', 'default': ''}) == ['a', '', 'c']

    def test_options_only_cover_their_own_failure(self, lookup):
        with pytest.raises(AnsibleLookupError, match='forbidden happened'):
            self.settle(lookup, [failure('not_found'), failure('forbidden')], on_missing='skip')

    def test_other_failures_always_fail(self, lookup):
        with pytest.raises(AnsibleLookupError, match='throttled happened'):
            self.settle(lookup, [failure('throttled')], on_missing='skip', on_denied='skip', on_deleted='skip')

    def test_warn_warns_and_uses_the_default(self, lookup, displayed_warnings):
        assert self.settle(lookup, [failure('not_found')], on_missing='warn', default='fallback') == ['fallback']
        assert displayed_warnings == ['not_found happened']


@pytest.fixture
def displayed_warnings(monkeypatch):
    warnings = []
    monkeypatch.setattr(_lookup_base.display, 'warning', warnings.append)
    return warnings


class TestFetchAll:

    def test_results_keep_the_order_of_the_items_and_run_concurrently(self, lookup):
        running = []
        overlap = threading.Event()
        lock = threading.Lock()

        def fetch(item):
            with lock:
                running.append(item)
                if len(running) > 1:
                    overlap.set()
            time.sleep(0.05 * (5 - item))
            with lock:
                running.remove(item)
            if item == 3:
                raise KeyVaultError('not_found', 'three is missing')
            return 'value-%d' % item

        outcomes = lookup.fetch_all([0, 1, 2, 3, 4], fetch)
        assert outcomes[:3] + outcomes[4:] == ['value-0', 'value-1', 'value-2', 'value-4']
        assert isinstance(outcomes[3], KeyVaultError)
        assert overlap.is_set()

    def test_first_item_is_fetched_alone(self, lookup):
        order = []

        def fetch(item):
            order.append(('start', item))
            time.sleep(0.02)
            order.append(('end', item))
            return item

        lookup.fetch_all(['first', 'b', 'c'], fetch)
        assert order[:2] == [('start', 'first'), ('end', 'first')]

    def test_nothing_to_fetch(self, lookup):
        assert lookup.fetch_all([], lambda item: item) == []


class TestRetryReport:

    @pytest.fixture
    def verbose_lines(self, monkeypatch):
        lines = []
        monkeypatch.setattr(_lookup_base.display, 'v', lines.append)
        return lines

    def retried_twice(self, lookup, **options):
        lookup.set_options(var_options={}, direct=dict(options, vault_url='https://myvault.vault.azure.net'))
        RETRY_LOG.drain()
        for event in ('retry 1: GET https://myvault.vault.azure.net/secrets/a: HTTP 429', 'retry 1: GET https://myvault.vault.azure.net/secrets/b: HTTP 503'):
            RETRY_LOG.record(event)
        lookup.report_retries(lookup.connection_options())

    def test_the_count_of_retries_is_shown_at_verbosity_one(self, lookup, verbose_lines, displayed_warnings):
        self.retried_twice(lookup)
        assert verbose_lines == ['keyvault.azure.secret: 2 request(s) retried (warn_on_retry=true names them)']
        assert displayed_warnings == []

    def test_warn_on_retry_names_each_retry_instead(self, lookup, verbose_lines, displayed_warnings):
        self.retried_twice(lookup, warn_on_retry=True)
        assert verbose_lines == []
        assert displayed_warnings == ['request retried: retry 1: GET https://myvault.vault.azure.net/secrets/a: HTTP 429',
                                      'request retried: retry 1: GET https://myvault.vault.azure.net/secrets/b: HTTP 503']

    def test_nothing_is_shown_without_retries(self, lookup, verbose_lines, displayed_warnings):
        lookup.set_options(var_options={}, direct={'vault_url': 'https://myvault.vault.azure.net'})
        RETRY_LOG.drain()
        lookup.report_retries(lookup.connection_options())
        assert (verbose_lines, displayed_warnings) == ([], [])


class TestBooleanOptions:

    @pytest.mark.parametrize('variables, keywords, environment, message', [
        ({}, {'value_cache': 'maybe'}, {}, "value_cache must be true or false, got 'maybe'"),
        ({'ansible_keyvault_token_cache': 'sometimes'}, {}, {}, "ansible_keyvault_token_cache must be true or false, got 'sometimes'"),
        ({}, {}, {'ANSIBLE_KEYVAULT_WARN_ON_RETRY': 'loudly'}, "ANSIBLE_KEYVAULT_WARN_ON_RETRY must be true or false, got 'loudly'"),
    ])
    def test_a_boolean_option_that_is_not_a_boolean_is_refused(self, lookup, monkeypatch, variables, keywords, environment, message):
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        with pytest.raises(AnsibleLookupError, match='^keyvault.azure.secret: %s$' % message):
            lookup.load_options(variables, keywords)

    def test_boolean_spellings_ansible_knows_are_accepted(self, lookup, monkeypatch):
        monkeypatch.setenv('ANSIBLE_KEYVAULT_VALUE_CACHE', 'yes')
        lookup.load_options({'ansible_keyvault_token_cache': 'off'}, {'as_json': 1})
        assert (lookup.get_option('value_cache'), lookup.get_option('token_cache'), lookup.get_option('as_json')) == (True, False, True)
