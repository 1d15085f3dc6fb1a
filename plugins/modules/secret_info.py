#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: secret_info
short_description: Read secrets, their versions and deleted secrets from Azure Key Vault
version_added: 0.1.0
description:
  - With O(name), returns one secret (its current version, or O(version)) and its value in RV(value).
    The task result is then hidden from the output, as with C(no_log), but stays available to O(ignore:register).
  - With O(names), reads several secrets concurrently with one credential and one client, and returns their values
    in RV(secret_values), keyed by name, and their attributes in RV(secrets). The result is hidden like that of O(name).
    O(on_missing), O(on_denied) and O(on_deleted) say what happens to a secret that cannot be read.
  - With O(name) and O(list_versions=true), lists the versions of the secret.
  - Without O(name), lists the secrets of the vault, optionally only those carrying O(tags).
  - With O(deleted=true), returns the deleted secret O(name), or lists the deleted secrets.
  - Lists never include values.
author:
  - keyvault.azure contributors (@keyvault-azure)
requirements:
  - azure-identity >= 1.15.0
  - azure-keyvault-secrets >= 4.8.0
notes:
  - "Access-policy permissions needed: secrets C(get) to read one secret, several (O(names)) or one deleted secret;
    C(list) for every list."
seealso:
  - module: keyvault.azure.secret
  - plugin: keyvault.azure.secret
    plugin_type: lookup
extends_documentation_fragment:
  - keyvault.azure.connection
  - keyvault.azure.auth
  - keyvault.azure.attributes.info_module
  - keyvault.azure.attributes.action_group
  - keyvault.azure.read_failures
options:
  name:
    description:
      - Name of the secret to read. Without it (and without O(names)) the module lists secrets.
      - Mutually exclusive with O(names).
    type: str
  names:
    description:
      - Names of secrets to read, each in its current version. They are read concurrently (8 at a time) with one
        credential, so one token request serves them all.
      - Mutually exclusive with O(name). O(on_missing), O(on_denied), O(on_deleted) and O(default) apply to these
        names only; a failure with O(name) always fails the task.
    type: list
    elements: str
  version:
    description:
      - The version to read instead of the current one. Needs O(name).
    type: str
  list_versions:
    description:
      - List the versions of the secret O(name) (without values) instead of reading one.
    type: bool
    default: false
  deleted:
    description:
      - Look at deleted secrets, that is the deleted secret O(name), or all deleted secrets without O(name).
    type: bool
    default: false
  tags:
    description:
      - Only list secrets (or versions, or deleted secrets) that carry all these tags with these values.
    type: dict
  include_value:
    description:
      - Whether to return the value of the secret read with O(name). With V(false), only its attributes are returned
        and the output is not hidden.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Read the database password
  keyvault.azure.secret_info:
    vault_url: https://myvault.vault.azure.net
    name: db-password
  register: db_password

- name: Write it into the application's configuration
  ansible.builtin.template:
    src: app.conf.j2
    dest: /etc/myapp/app.conf
    mode: "0600"
  vars:
    password: "{{ db_password.value }}"

- name: Read all the application's secrets in one task (one token request, concurrent reads)
  keyvault.azure.secret_info:
    vault_url: https://myvault.vault.azure.net
    names: [db-password, api-key, smtp-password]
    on_missing: warn
  register: app

- name: Write them into the application's environment file
  ansible.builtin.copy:
    dest: /etc/myapp/secrets.env
    content: |
      DB_PASSWORD={{ app.secret_values['db-password'] }}
      API_KEY={{ app.secret_values['api-key'] }}
      SMTP_PASSWORD={{ app.secret_values['smtp-password'] | default('') }}
    mode: "0600"
  no_log: true

- name: Read an older version
  keyvault.azure.secret_info:
    vault_url: https://myvault.vault.azure.net
    name: db-password
    version: 4387e9f3d6e14c459867679a90fd0f79
  register: previous

- name: List the secrets of one application
  keyvault.azure.secret_info:
    vault_url: https://myvault.vault.azure.net
    tags:
      app: shop
  register: shop_secrets

- name: Show their names
  ansible.builtin.debug:
    msg: "{{ shop_secrets.secrets | map(attribute='name') | list }}"

- name: List the versions of a secret
  keyvault.azure.secret_info:
    vault_url: https://myvault.vault.azure.net
    name: db-password
    list_versions: true
  register: versions

- name: List deleted secrets that can still be recovered
  keyvault.azure.secret_info:
    vault_url: https://myvault.vault.azure.net
    deleted: true
  register: deleted_secrets
"""

RETURN = r"""
secret:
  description:
    - The secret read with O(name), without its value. For a deleted secret, also when it was deleted and when it
      will be purged.
  returned: when O(name) is set and O(list_versions=false)
  type: dict
  contains:
    name:
      description: Name of the secret.
      type: str
      sample: db-password
    id:
      description: Id of the version.
      type: str
      sample: https://myvault.vault.azure.net/secrets/db-password/4387e9f3d6e14c459867679a90fd0f79
    version:
      description: The version.
      type: str
      sample: 4387e9f3d6e14c459867679a90fd0f79
    content_type:
      description: Content type of the version.
      type: str
      sample: text/plain
    tags:
      description: Tags of the version.
      type: dict
      sample: {app: shop}
    managed:
      description: Whether the secret backs a Key Vault certificate (and is managed by it).
      type: bool
      sample: false
    key_id:
      description: For a secret backing a certificate, the id of the certificate's key.
      type: str
      sample: null
    attributes:
      description:
        - Attributes of the version (enabled, not_before, expires, created, updated, recovery_level, recoverable_days),
          as returned by M(keyvault.azure.secret). Times are ISO 8601 in UTC.
      type: dict
      sample: {enabled: true, not_before: null, expires: null, created: "2026-01-15T10:20:30Z",
               updated: "2026-01-15T10:20:30Z", recovery_level: Recoverable+Purgeable, recoverable_days: 90}
    recovery_id:
      description: Id to recover the deleted secret with.
      type: str
      returned: for a deleted secret
      sample: https://myvault.vault.azure.net/deletedsecrets/db-password
    deleted_on:
      description: When the secret was deleted.
      type: str
      returned: for a deleted secret
      sample: "2026-01-16T08:00:00Z"
    scheduled_purge_date:
      description: When the service purges the deleted secret.
      type: str
      returned: for a deleted secret
      sample: "2026-04-16T08:00:00Z"
value:
  description: The value of the secret read with O(name). The task's output is hidden when this is returned.
  returned: when O(name) is set, O(include_value=true), O(list_versions=false) and O(deleted=false)
  type: str
secret_values:
  description:
    - The values of the secrets read with O(names), keyed by name. A secret skipped through O(on_missing), O(on_denied)
      or O(on_deleted) is left out, or has O(default) when that is set. The task's output is hidden when this is returned.
  returned: when O(names) is set and O(include_value=true)
  type: dict
  sample: {db-password: (hidden), api-key: (hidden)}
skipped:
  description:
    - The names of O(names) that could not be read and were skipped through O(on_missing), O(on_denied) or O(on_deleted),
      each with the reason.
  returned: when O(names) is set
  type: list
  elements: dict
  sample: [{name: feature-flag, msg: "secret 'feature-flag' was not found in vault https://myvault.vault.azure.net"}]
secrets:
  description:
    - The secrets, versions or deleted secrets listed, each shaped like RV(secret), without values.
    - Versions are sorted from the oldest to the newest by creation time (versions created in the same second keep the vault's order);
      secrets by name; the secrets read with O(names) in the order of O(names).
  returned: when O(name) is not set, or O(list_versions=true)
  type: list
  elements: dict
  sample:
    - name: db-password
      id: https://myvault.vault.azure.net/secrets/db-password
      version: null
      content_type: text/plain
      tags: {app: shop}
      managed: false
      key_id: null
      attributes: {enabled: true, not_before: null, expires: null, created: "2026-01-15T10:20:30Z",
                   updated: "2026-01-15T10:20:30Z", recovery_level: Recoverable+Purgeable, recoverable_days: 90}
retries:
  description:
    - How many requests the task sent again, after throttling (HTTP 429), a server error or a broken connection.
      O(warn_on_retry=true) adds a warning for each.
  returned: always
  type: int
  sample: 0
"""

from ansible_collections.keyvault.azure.plugins.module_utils._batch import FAILURE_OPTIONS, deleted_or, run_concurrently
from ansible_collections.keyvault.azure.plugins.module_utils._errors import KeyVaultError
from ansible_collections.keyvault.azure.plugins.module_utils._identifiers import (
    KeyVaultInputError,
    ObjectReference,
    check_object_name,
    check_version,
)
from ansible_collections.keyvault.azure.plugins.module_utils._module import KeyVaultModule, by_name, check_listing_options, listed_results
from ansible_collections.keyvault.azure.plugins.module_utils._secret_state import state_from_properties, state_from_secret, to_result
from ansible_collections.keyvault.azure.plugins.module_utils._tags import normalize_tags


def check_combination(params):
    if params['names'] is not None:
        for option in ('version', 'list_versions', 'deleted', 'tags'):
            if params[option]:
                raise KeyVaultInputError('names cannot be combined with %s' % option)
        check_names(params['names'])
    check_listing_options(params)
    if params['name'] is not None:
        check_object_name(params['name'])
    if params['version'] is not None:
        check_version(params['version'])


def check_names(names):
    """Refuse an empty list, an invalid name or a name given twice (Key Vault names ignore case)."""
    if not names:
        raise KeyVaultInputError('names is empty; give at least one secret name')
    seen = set()
    for name in names:
        check_object_name(name)
        if name.lower() in seen:
            raise KeyVaultInputError("names lists secret '%s' more than once" % name)
        seen.add(name.lower())


def read_many(vault, client, names):
    """The result for O(names): every secret read concurrently, failures handled per on_missing/on_denied/on_deleted."""
    params = vault.params

    def fetch(name):
        label = "secret '%s'" % name
        try:
            return vault.call('secrets/get', label, client.get_secret, name)
        except KeyVaultError as error:
            if error.kind != 'not_found':
                raise
            raise deleted_or(error, vault.options, ObjectReference(vault.vault_url, name, None), label, 'secrets/get',
                             client.get_deleted_secret)

    values, described, skipped, failures = {}, [], [], []
    for name, outcome in zip(names, run_concurrently(names, fetch)):
        if not isinstance(outcome, KeyVaultError):
            values[name] = outcome.value
            described.append(to_result(state_from_secret(outcome)))
            continue
        option = FAILURE_OPTIONS.get(outcome.kind)
        handling = params[option] if option else 'error'
        if handling == 'error':
            failures.append(outcome)
            continue
        if handling == 'warn':
            vault.warn(outcome.message)
        skipped.append(dict(name=name, msg=outcome.message))
        if params['default'] is not None:
            values[name] = params['default']
    if len(failures) == 1:
        raise failures[0]
    if failures:
        raise KeyVaultError(failures[0].kind, '%d of %d secrets could not be read: %s' % (
            len(failures), len(names), '; '.join(failure.message for failure in failures)))
    result = dict(secrets=described, skipped=skipped)
    if params['include_value']:
        result['secret_values'] = values
    return result


def read(vault):
    """The module's result for the task's combination of options."""
    params = vault.params
    check_combination(params)
    client = vault.secret_client()
    wanted_tags = normalize_tags(params['tags']) or {}
    if params['names'] is not None:
        return read_many(vault, client, params['names'])
    name = params['name']
    label = "secret '%s'" % name if name else 'secrets'

    if params['deleted'] and name:
        deleted = vault.call('secrets/get', 'deleted ' + label, client.get_deleted_secret, name)
        return dict(secret=to_result(state_from_properties(deleted.properties), deleted=deleted))
    if params['deleted']:
        return dict(secrets=listed_results(vault, 'secrets/list', 'deleted secrets', client.list_deleted_secrets, wanted_tags,
                                           lambda d: to_result(state_from_properties(d.properties), deleted=d), by_name,
                                           properties_of=lambda d: d.properties))
    if params['list_versions']:
        return dict(secrets=listed_results(vault, 'secrets/list', 'versions of ' + label, lambda: client.list_properties_of_secret_versions(name),
                                           wanted_tags, lambda p: to_result(state_from_properties(p)),
                                           lambda d: d['attributes']['created'] or ''))
    if name:
        if params['version']:
            label = "secret '%s' version %s" % (name, params['version'])
        secret = vault.call('secrets/get', label, client.get_secret, name, params['version'])
        result = dict(secret=to_result(state_from_secret(secret)))
        if params['include_value']:
            result['value'] = secret.value
        return result
    return dict(secrets=listed_results(vault, 'secrets/list', label, client.list_properties_of_secrets, wanted_tags,
                                       lambda p: to_result(state_from_properties(p)), by_name))


def run(vault):
    vault.exit_json(**read(vault))


def main():
    vault = KeyVaultModule(
        argument_spec=dict(
            name=dict(type='str'),
            names=dict(type='list', elements='str'),
            version=dict(type='str'),
            list_versions=dict(type='bool', default=False),
            deleted=dict(type='bool', default=False),
            tags=dict(type='dict'),
            include_value=dict(type='bool', default=True),
            on_missing=dict(type='str', default='error', choices=['error', 'warn', 'skip']),
            on_denied=dict(type='str', default='error', choices=['error', 'warn', 'skip']),
            on_deleted=dict(type='str', default='error', choices=['error', 'warn', 'skip']),
            default=dict(type='raw', no_log=False),
        ),
        mutually_exclusive=[('name', 'names')],
        required_by=dict(version='name'),
        supports_check_mode=True,
    )
    vault.run(run)


if __name__ == '__main__':
    main()
