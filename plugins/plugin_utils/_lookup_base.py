# -*- coding: utf-8 -*-
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Base of the collection's lookups: options, concurrent fetching and what to do with failures.

For internal collection use only: names and behaviour may change without notice.
"""

from concurrent.futures import ThreadPoolExecutor

from ansible.errors import AnsibleLookupError
from ansible.module_utils.basic import missing_required_lib
from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display

from ansible_collections.keyvault.azure.plugins.module_utils._errors import KeyVaultError
from ansible_collections.keyvault.azure.plugins.module_utils._identifiers import KeyVaultInputError
from ansible_collections.keyvault.azure.plugins.module_utils._options import OPTION_NAMES, ConnectionOptions
from ansible_collections.keyvault.azure.plugins.module_utils._retry_log import RETRY_LOG
from ansible_collections.keyvault.azure.plugins.plugin_utils._shared_tokens import this_run

display = Display()

# Enough to overlap the network round trips of a typical list of terms without hammering the vault.
MAX_CONCURRENT_REQUESTS = 8

# The option that decides what happens to a term that failed in each of these ways.
FAILURE_OPTIONS = {
    'not_found': 'on_missing',
    'deleted': 'on_deleted',
    'being_deleted': 'on_deleted',
    'forbidden': 'on_denied',
    'disabled': 'on_denied',
}


def client_layer():
    """module_utils._client, imported on first use.

    Importing the Azure SDK costs each of Ansible's worker processes about 0.3 s of CPU, which a lookup
    answered from the run's value cache does without.
    """
    from ansible_collections.keyvault.azure.plugins.module_utils import _client
    if not _client.HAS_AZURE:
        raise AnsibleLookupError(missing_required_lib(_client.REQUIRED_LIBRARIES))
    return _client


class KeyVaultLookupBase(LookupBase):
    """A lookup that reads its connection options like every plugin of the collection."""

    def load_options(self, variables, keywords):
        """set_options, refusing keyword arguments the lookup does not know (Ansible would ignore them).

        Ansible hands lookups their ``ansible_keyvault_*`` variables untemplated, so they are templated here.
        """
        unknown = sorted(set(keywords) - set(self.option_definitions))
        if unknown:
            raise AnsibleLookupError('%s does not know the option(s) %s' % (self.ansible_name, ', '.join(unknown)))
        names = set(source['name'] for option in self.option_definitions.values() for source in option.get('vars', []))
        option_variables = dict((name, value) for name, value in (variables or {}).items() if name in names)
        if self._templar is not None:
            option_variables = self._templar.template(option_variables)
        self.set_options(var_options=option_variables, direct=keywords)

    def connection_options(self):
        token_sharing = this_run().tokens if self.get_option('token_cache') else None
        try:
            return ConnectionOptions(dict((name, self.get_option(name)) for name in OPTION_NAMES), token_sharing=token_sharing)
        except KeyVaultInputError as error:
            raise AnsibleLookupError(str(error))

    def fetch_all(self, items, fetch):
        """``fetch(item)`` for every item, in order; a failed item gives its KeyVaultError instead.

        The first item is fetched alone, so that the credential gets its token (and each client its
        authentication challenge) once; the others then run concurrently on the same credential.
        """
        def attempt(item):
            try:
                return fetch(item)
            except KeyVaultError as error:
                return error

        if not items:
            return []
        outcomes = [attempt(items[0])]
        if len(items) > 1:
            with ThreadPoolExecutor(max_workers=min(MAX_CONCURRENT_REQUESTS, len(items) - 1)) as pool:
                outcomes.extend(pool.map(attempt, items[1:]))
        return outcomes

    def settle(self, outcomes):
        """The results of ``fetch_all`` with failures handled per on_missing / on_denied / on_deleted.

        ``error`` fails the lookup with the first such failure; ``warn`` and ``skip`` leave the term
        out of the result, or put ``default`` in its place when that option is set.
        """
        default = self.get_option('default')
        results = []
        for outcome in outcomes:
            if not isinstance(outcome, KeyVaultError):
                results.append(outcome)
                continue
            option = FAILURE_OPTIONS.get(outcome.kind)
            handling = self.get_option(option) if option else 'error'
            if handling == 'error':
                raise AnsibleLookupError(outcome.message)
            if handling == 'warn':
                display.warning(outcome.message)
            if default is not None:
                results.append(default)
        return results

    def report_retries(self, options):
        events = RETRY_LOG.drain()
        if options.warn_on_retry:
            for event in events:
                display.warning('request retried: %s' % event)
        elif events:
            display.v('%s: %d request(s) retried (warn_on_retry=true names them)' % (self.ansible_name, len(events)))
