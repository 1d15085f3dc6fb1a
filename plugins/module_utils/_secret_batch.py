# -*- coding: utf-8 -*-
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The ``secrets`` module's list: its items checked, given the task's defaults, converged concurrently.

For internal collection use only: names and behaviour may change without notice.

Each item goes through the same SecretTask as the ``secret`` module (plan with _secret_state, write once);
this file only adds what a list needs: checks across items, defaults, concurrency, and removing what the
list no longer holds.
"""

from ansible_collections.keyvault.azure.plugins.module_utils._batch import MAX_CONCURRENT_REQUESTS, run_concurrently
from ansible_collections.keyvault.azure.plugins.module_utils._errors import KeyVaultError
from ansible_collections.keyvault.azure.plugins.module_utils._identifiers import KeyVaultInputError, check_object_name
from ansible_collections.keyvault.azure.plugins.module_utils._secret_converge import SecretTask
from ansible_collections.keyvault.azure.plugins.module_utils._tags import carries_tags, normalize_tags

# Options an item may set that, left out, come from the task's option of the same name.
DEFAULTED_OPTIONS = ('state', 'overwrite', 'content_type', 'tags', 'enabled', 'not_before', 'expires', 'recover', 'purge')
# Options of an item alone.
ITEM_ONLY_OPTIONS = ('name', 'value', 'value_file')
ITEM_OPTIONS = ITEM_ONLY_OPTIONS + DEFAULTED_OPTIONS

ITEM_ARGUMENT_SPEC = dict(
    name=dict(type='str', required=True),
    value=dict(type='str', no_log=True),
    value_file=dict(type='path'),
    state=dict(type='str', choices=['present', 'absent']),
    overwrite=dict(type='bool'),
    content_type=dict(type='str'),
    tags=dict(type='dict'),
    enabled=dict(type='bool'),
    not_before=dict(type='str'),
    expires=dict(type='str'),
    recover=dict(type='bool'),
    purge=dict(type='bool'),
)


def item_label(index, item):
    name = item.get('name') if isinstance(item, dict) else None
    return 'secrets[%d]%s' % (index, " (secret '%s')" % name if name else '')


def check_items(items):
    """Refuse, naming the item, what no request should be sent for: unknown keys, no or invalid name, value with
    value_file, the same secret twice (Key Vault names ignore case). Runs on the controller and in the module."""
    if not isinstance(items, list):
        raise KeyVaultInputError('secrets must be a list of secret definitions')
    first_index = {}
    for index, item in enumerate(items):
        label = item_label(index, item)
        if not isinstance(item, dict):
            raise KeyVaultInputError('%s is not a dictionary with name, value and the other options of a secret' % label)
        unknown = sorted(set(item) - set(ITEM_OPTIONS))
        if unknown:
            raise KeyVaultInputError('%s: unknown option%s %s; an item takes %s' % (
                label, 's' if len(unknown) > 1 else '', ', '.join(unknown), ', '.join(sorted(ITEM_OPTIONS))))
        if item.get('name') in (None, ''):
            raise KeyVaultInputError('%s has no name' % label)
        try:
            check_object_name(item['name'])
        except KeyVaultInputError as error:
            raise KeyVaultInputError('%s: %s' % (label, error))
        if item.get('value') is not None and item.get('value_file') is not None:
            raise KeyVaultInputError('%s: value and value_file are mutually exclusive' % label)
        key = item['name'].lower()
        if key in first_index:
            raise KeyVaultInputError('%s names the same secret as %s (Key Vault names ignore case)' % (
                label, item_label(first_index[key], items[first_index[key]])))
        first_index[key] = index


def check_exclusive_tags(tags, items):
    """Refuse a selector that would make every secret a candidate, and an empty list that would remove every candidate."""
    if tags is None:
        return
    if not tags:
        raise KeyVaultInputError('exclusive_tags is empty; name at least one tag, so that only the secrets carrying it can be removed')
    if not items:
        raise KeyVaultInputError('secrets is empty, so exclusive_tags would delete every secret carrying its tags; list the secrets '
                                 'to keep, or delete them with items of state absent')


def item_params(item, params):
    """The options of one item as the ``secret`` module would take them: the item's, else the task's."""
    merged = dict((option, item.get(option)) for option in ITEM_ONLY_OPTIONS)
    for option in DEFAULTED_OPTIONS:
        merged[option] = params[option] if item.get(option) is None else item[option]
    merged['return_value'] = False
    return merged


def converge(vault, items, workers=MAX_CONCURRENT_REQUESTS):
    """Every item converged: ``(item results, diffs, failure messages)``.

    All input is checked, value files read and dates parsed before the first request; an item that cannot
    be planned fails the task at once, naming every such item. Items then converge on ``workers`` threads;
    one item failing does not stop the others.
    """
    tasks, input_errors = [], []
    for index, item in enumerate(items):
        params = item_params(item, vault.params)
        try:
            task = SecretTask(vault, params)
            desired = task.desired() if params['state'] == 'present' else None
        except KeyVaultInputError as error:
            input_errors.append('%s: %s' % (item_label(index, item), error))
            continue
        tasks.append((task, desired))
    if input_errors:
        raise KeyVaultInputError('; '.join(input_errors))

    def converge_one(entry):
        task, desired = entry
        return task.absent() if desired is None else task.present(desired)

    results, diffs, failures = [], [], []
    outcomes = run_concurrently(tasks, converge_one, workers=workers, errors=(KeyVaultError, KeyVaultInputError))
    for (task, desired), outcome in zip(tasks, outcomes):
        state = 'absent' if desired is None else 'present'
        if isinstance(outcome, Exception):
            # Every message names its secret already.
            message = str(outcome)
            failures.append(message)
            results.append(dict(name=task.name, state=state, changed=False, failed=True, msg=message, version=None, reasons=[]))
            continue
        results.append(dict(name=task.name, state=state, changed=outcome['changed'], version=outcome['secret'].get('version'),
                            reasons=outcome['reasons']))
        if outcome['changed']:
            diffs.append(dict(outcome['diff'], before_header="secret '%s'" % task.name, after_header="secret '%s'" % task.name))
    return results, diffs, failures


def remove_unlisted(vault, items, selector, workers=MAX_CONCURRENT_REQUESTS):
    """Soft-delete (never purge) every secret that carries all ``selector`` tags and that no item names.

    Secrets that back a certificate are left to the certificate. Returns ``(removed results, diffs, failures)``.
    """
    selector = normalize_tags(selector)
    listed = set(item['name'].lower() for item in items)
    client = vault.secret_client()
    everything = vault.call('secrets/list', 'secrets', lambda: list(client.list_properties_of_secrets()))
    candidates = sorted(properties.name for properties in everything
                        if not properties.managed and properties.name.lower() not in listed and carries_tags(properties.tags, selector))
    tasks = [SecretTask(vault, dict(name=name, purge=False)) for name in candidates]
    reason = 'not in secrets, and carries the exclusive_tags %s' % ', '.join('%s=%s' % item for item in sorted(selector.items()))
    results, diffs, failures = [], [], []
    for task, outcome in zip(tasks, run_concurrently(tasks, lambda task: task.absent(), workers=workers)):
        if isinstance(outcome, KeyVaultError):
            failures.append(outcome.message)
            results.append(dict(name=task.name, state='absent', changed=False, failed=True, msg=outcome.message, version=None, reasons=[]))
            continue
        results.append(dict(name=task.name, state='absent', changed=outcome['changed'], version=None,
                            reasons=[reason] if outcome['changed'] else []))
        if outcome['changed']:
            diffs.append(dict(outcome['diff'], before_header="secret '%s'" % task.name, after_header="secret '%s'" % task.name))
    return results, diffs, failures
