# -*- coding: utf-8 -*-
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Many objects in one task: concurrent calls on one credential, and what a failed object means.

For internal collection use only: names and behaviour may change without notice.

Used by the lookups (on the controller) and by the modules that take a list of names or items (on the
managed host).
"""

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.keyvault.azure.plugins.module_utils._errors import KeyVaultError, vault_call
from ansible_collections.keyvault.azure.plugins.module_utils._time import datetime_to_timestamp, format_timestamp

# Enough to overlap the network round trips of a typical list without hammering the vault.
MAX_CONCURRENT_REQUESTS = 8

# The option that decides what happens to an object that could not be read in each of these ways.
FAILURE_OPTIONS = {
    'not_found': 'on_missing',
    'deleted': 'on_deleted',
    'being_deleted': 'on_deleted',
    'forbidden': 'on_denied',
    'disabled': 'on_denied',
}


def run_concurrently(items, function, workers=MAX_CONCURRENT_REQUESTS, errors=(KeyVaultError,)):
    """``function(item)`` for every item, in order; an item that raised one of ``errors`` gives the exception instead.

    The first item runs alone, so that the credential gets its token (and each client its authentication
    challenge) once; the others then run on up to ``workers`` threads sharing that credential.
    """
    def attempt(item):
        try:
            return function(item)
        except errors as error:
            return error

    if not items:
        return []
    outcomes = [attempt(items[0])]
    if len(items) > 1:
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(items) - 1))) as pool:
            outcomes.extend(pool.map(attempt, items[1:]))
    return outcomes


def deleted_or(error, options, reference, label, operation, get_deleted):
    """A 'deleted' error when ``get_deleted(name)`` finds the object deleted but recoverable, else ``error``.

    Called after a read answered 'not found', to tell a deleted object from one that never existed.
    """
    try:
        deleted = vault_call(options, reference.vault_url, operation, label, get_deleted, reference.name)
    except KeyVaultError:
        return error
    purge_date = format_timestamp(datetime_to_timestamp(deleted.scheduled_purge_date))
    return KeyVaultError('deleted', '%s in vault %s is deleted; it can be recovered until %s' % (
        label, reference.vault_url, purge_date or 'it is purged'))
