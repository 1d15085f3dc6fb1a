# -*- coding: utf-8 -*-
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Base of the collection's lookups: options, concurrent fetching and what to do with failures.

For internal collection use only: names and behaviour may change without notice.
"""

import os

from ansible.errors import AnsibleLookupError
from ansible.module_utils.basic import missing_required_lib
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display
from ansible.utils.unsafe_proxy import wrap_var

from ansible_collections.keyvault.azure.plugins.module_utils._batch import FAILURE_OPTIONS, run_concurrently
from ansible_collections.keyvault.azure.plugins.module_utils._errors import KeyVaultError
from ansible_collections.keyvault.azure.plugins.module_utils._identifiers import KeyVaultInputError, parse_object_reference
from ansible_collections.keyvault.azure.plugins.module_utils._options import OPTION_NAMES, ConnectionOptions
from ansible_collections.keyvault.azure.plugins.module_utils._retry_log import RETRY_LOG
from ansible_collections.keyvault.azure.plugins.plugin_utils._shared_tokens import this_run

display = Display()


def client_layer():
    """module_utils._client, imported on first use.

    Importing the Azure SDK costs each of Ansible's worker processes about 0.3 s of CPU, which a lookup
    answered from the run's value cache does without.
    """
    from ansible_collections.keyvault.azure.plugins.module_utils import _client
    if not _client.HAS_AZURE:
        raise AnsibleLookupError(missing_required_lib(_client.REQUIRED_LIBRARIES))
    return _client


def reference_label(kind, reference):
    """``secret 'db'`` or ``certificate 'web' version 0f...``, for messages."""
    if reference.version:
        return "%s '%s' version %s" % (kind, reference.name, reference.version)
    return "%s '%s'" % (kind, reference.name)


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
        self.check_booleans(option_variables, keywords)
        self.set_options(var_options=option_variables, direct=keywords)

    def check_booleans(self, option_variables, keywords):
        """Refuse a boolean option given as something that is not a boolean, where Ansible would read it as false."""
        for option, definition in self.option_definitions.items():
            if definition.get('type') not in ('bool', 'boolean'):
                continue
            given = [(option, keywords.get(option))]
            given.extend((source['name'], option_variables.get(source['name'])) for source in definition.get('vars', []))
            given.extend((source['name'], os.environ.get(source['name'])) for source in definition.get('env', []))
            for where, value in given:
                if value is None:
                    continue
                try:
                    boolean(value, strict=True)
                except TypeError:
                    raise AnsibleLookupError("%s: %s must be true or false, got '%s'" % (self.ansible_name, where, value))

    def connection_options(self):
        token_sharing = this_run().tokens if self.get_option('token_cache') else None
        try:
            return ConnectionOptions(dict((name, self.get_option(name)) for name in OPTION_NAMES), token_sharing=token_sharing)
        except KeyVaultInputError as error:
            raise AnsibleLookupError(str(error))

    def prepare(self, terms, variables, keywords, collection):
        """The connection options and the terms parsed as references to objects of ``collection`` (e.g. 'secrets')."""
        self.load_options(variables, keywords)
        options = self.connection_options()
        try:
            references = [parse_object_reference(term, collection, options.vault_url, self.get_option('version')) for term in terms]
        except KeyVaultInputError as error:
            raise AnsibleLookupError(str(error))
        if any(reference.vault_url is None for reference in references):
            try:
                options.require_vault_url()
            except KeyVaultInputError as error:
                raise AnsibleLookupError('%s, or give full %s ids' % (error, collection[:-1]))
        return options, references

    def read_all(self, options, references, fetch):
        """``fetch(reference)`` for every reference (see fetch_all), failures handled (see settle), marked unsafe."""
        try:
            outcomes = self.fetch_all(references, fetch)
        finally:
            self.report_retries(options)
        return [wrap_var(value) for value in self.settle(outcomes)]

    @staticmethod
    def fetch_all(items, fetch):
        """``fetch(item)`` for every item, concurrently, in order; a failed item gives its KeyVaultError instead."""
        return run_concurrently(items, fetch)

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
