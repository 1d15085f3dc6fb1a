#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: secrets
short_description: Converge a whole list of secrets in Azure Key Vault in one task
version_added: 0.2.0
description:
  - Makes every secret of O(secrets) match its definition, like one M(keyvault.azure.secret) task per item, but in one task
    (one module run, one credential and token, and the items read and written concurrently, O(concurrency) at a time).
  - Each item takes the options of M(keyvault.azure.secret) and means the same by them; the module plans each item
    with the same comparison and writes only what differs, so a repeat run reports C(changed=false) and sends no write.
  - The task's own O(state), O(overwrite), O(content_type), O(tags), O(enabled), O(not_before), O(expires), O(recover)
    and O(purge) apply to every item that does not set that option itself. An item's O(secrets[].tags) replace the
    task's O(tags), they are not merged.
  - An item that fails (a refused permission, a deleted secret without O(recover)...) does not stop the others. The task
    then fails after all items are done, naming every failed item with its reason; RV(results) and C(changed) still say
    what was written.
  - With O(exclusive_tags), secrets that carry all these tags and that the list does not name are deleted (soft delete,
    never purged, so they stay recoverable for the vault's retention period). Check mode and diff mode list them first.
  - Values are never returned, shown in diff mode (a marker says whether a value changes), or quoted in messages.
  - Hosts of one C(ansible-playbook) run that converge the same secrets take turns per secret, also with
    M(keyvault.azure.secret) tasks, so the same value is written once.
author:
  - keyvault.azure contributors (@keyvault-azure)
requirements:
  - azure-identity >= 1.15.0
  - azure-keyvault-secrets >= 4.8.0
notes:
  - "Access-policy permissions needed: those of M(keyvault.azure.secret) for what the items do (secrets C(get), plus C(set)
    to write, C(delete) for O(secrets[].state=absent), C(purge), C(recover)); with O(exclusive_tags) also C(list) and C(delete)."
  - Bad input (an unknown option in an item, an item with both O(secrets[].value) and O(secrets[].value_file), the same
    name twice, an invalid name or date) fails the task before any request, naming the item.
seealso:
  - module: keyvault.azure.secret
  - module: keyvault.azure.secret_info
extends_documentation_fragment:
  - keyvault.azure.connection
  - keyvault.azure.auth
  - keyvault.azure.attributes
  - keyvault.azure.attributes.action_group
options:
  secrets:
    description:
      - The secrets to converge, each a dictionary with the options below. Names must be unique (Key Vault names ignore case).
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - Name of the secret, 1-127 letters, digits and hyphens.
        type: str
        required: true
      value:
        description:
          - The secret value, as O(keyvault.azure.secret#module:value). Mutually exclusive with O(secrets[].value_file).
        type: str
      value_file:
        description:
          - Path of a UTF-8 text file on the managed host whose whole content is the value, as
            O(keyvault.azure.secret#module:value_file).
        type: path
      state:
        description:
          - V(present) or V(absent), as O(keyvault.azure.secret#module:state). Default O(state).
        type: str
        choices: [present, absent]
      overwrite:
        description:
          - As O(keyvault.azure.secret#module:overwrite). Default O(overwrite).
        type: bool
      content_type:
        description:
          - As O(keyvault.azure.secret#module:content_type). Default O(content_type).
        type: str
      tags:
        description:
          - As O(keyvault.azure.secret#module:tags). Default O(tags).
        type: dict
      enabled:
        description:
          - As O(keyvault.azure.secret#module:enabled). Default O(enabled).
        type: bool
      not_before:
        description:
          - As O(keyvault.azure.secret#module:not_before). Default O(not_before).
        type: str
      expires:
        description:
          - As O(keyvault.azure.secret#module:expires). Default O(expires).
        type: str
      recover:
        description:
          - As O(keyvault.azure.secret#module:recover). Default O(recover).
        type: bool
      purge:
        description:
          - As O(keyvault.azure.secret#module:purge). Default O(purge).
        type: bool
  state:
    description:
      - The O(secrets[].state) of items that do not set one.
    type: str
    choices: [present, absent]
    default: present
  overwrite:
    description:
      - The O(secrets[].overwrite) of items that do not set it. With V(false), an existing secret keeps its value.
    type: bool
    default: true
  content_type:
    description:
      - The O(secrets[].content_type) of items that do not set one.
    type: str
  tags:
    description:
      - The O(secrets[].tags) of items that do not set any.
    type: dict
  enabled:
    description:
      - The O(secrets[].enabled) of items that do not set it.
    type: bool
  not_before:
    description:
      - The O(secrets[].not_before) of items that do not set it.
    type: str
  expires:
    description:
      - The O(secrets[].expires) of items that do not set it.
    type: str
  recover:
    description:
      - The O(secrets[].recover) of items that do not set it.
    type: bool
    default: false
  purge:
    description:
      - The O(secrets[].purge) of items that do not set it.
    type: bool
    default: false
  exclusive_tags:
    description:
      - Delete the secrets that carry all these tags (with these values) and that O(secrets) does not name, so that the
        list is the whole truth about them, for example the tag C(managed-by) with the value C(ansible). Secrets without these tags are never
        touched, nor secrets that back a certificate.
      - The deletion is a soft delete, never a purge. Check mode and diff mode show what would be deleted.
      - Off when not set. An empty dictionary is refused, and so is an empty O(secrets) list with this option (it would
        delete every secret carrying the tags).
    type: dict
  concurrency:
    description:
      - How many secrets are read and written at the same time. Throttling (HTTP 429) is retried with the vault's
        C(Retry-After), see O(retries).
    type: int
    default: 8
"""

EXAMPLES = r"""
- name: Store the application's secrets (a repeat run changes nothing)
  keyvault.azure.secrets:
    vault_url: https://myvault.vault.azure.net
    tags:
      app: shop
      managed-by: ansible
    secrets:
      - name: db-password
        value: "{{ vault_db_password }}"
      - name: payment-api-key
        value: "{{ vault_payment_api_key }}"
        expires: "2027-01-31"
      - name: tls-passphrase
        value_file: /etc/shop/passphrase
        content_type: text/plain
      - name: old-token
        state: absent

- name: The list is the whole truth about the secrets tagged managed-by=ansible; others tagged so are deleted (soft delete)
  keyvault.azure.secrets:
    vault_url: https://myvault.vault.azure.net
    tags: {managed-by: ansible}
    exclusive_tags: {managed-by: ansible}
    secrets: "{{ shop_secrets | dict2items(key_name='name', value_key='value') }}"

- name: Generate passwords once; later runs keep them
  keyvault.azure.secrets:
    vault_url: https://myvault.vault.azure.net
    overwrite: false
    secrets:
      - name: redis-password
        value: "{{ lookup('ansible.builtin.password', '/dev/null', length=32) }}"
      - name: queue-password
        value: "{{ lookup('ansible.builtin.password', '/dev/null', length=32) }}"
"""

RETURN = r"""
results:
  description:
    - One entry per item of O(secrets), in order, followed by one per secret removed through O(exclusive_tags).
      Never holds a value.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name of the secret.
      type: str
      sample: db-password
    state:
      description: V(present) or V(absent), what the item asked for (V(absent) for a secret removed through O(exclusive_tags)).
      type: str
      sample: present
    changed:
      description: Whether the secret was changed (in check mode, would be).
      type: bool
      sample: true
    version:
      description: The current version after the task; V(null) after O(secrets[].state=absent), and in check mode for a version still to be created.
      type: str
      sample: 4387e9f3d6e14c459867679a90fd0f79
    reasons:
      description: Why the secret changed, as RV(keyvault.azure.secret#module:reasons); for a removed secret, that it carries O(exclusive_tags).
      type: list
      elements: str
      sample: [the value differs]
    failed:
      description: Present and V(true) when this item failed.
      type: bool
      returned: for a failed item
      sample: true
    msg:
      description: Why the item failed, one line.
      type: str
      returned: for a failed item
      sample: "access to secret 'db-password' in vault https://myvault.vault.azure.net was denied: ..."
retries:
  description:
    - How many requests the task sent again, as RV(keyvault.azure.secret#module:retries).
  returned: always
  type: int
  sample: 0
"""

from ansible_collections.keyvault.azure.plugins.module_utils._identifiers import KeyVaultInputError
from ansible_collections.keyvault.azure.plugins.module_utils._module import KeyVaultModule
from ansible_collections.keyvault.azure.plugins.module_utils._secret_batch import (
    ITEM_ARGUMENT_SPEC,
    check_exclusive_tags,
    check_items,
    converge,
    remove_unlisted,
)


def run(vault):
    params = vault.params
    check_items(params['secrets'])
    check_exclusive_tags(params['exclusive_tags'], params['secrets'])
    if params['concurrency'] < 1:
        raise KeyVaultInputError('concurrency must be at least 1, got %d' % params['concurrency'])
    results, diffs, failures = converge(vault, params['secrets'], params['concurrency'])
    if params['exclusive_tags']:
        removed, removed_diffs, removal_failures = remove_unlisted(vault, params['secrets'], params['exclusive_tags'], params['concurrency'])
        results.extend(removed)
        diffs.extend(removed_diffs)
        failures.extend(removal_failures)
    changed = any(result['changed'] for result in results)
    if failures:
        vault.fail_json('%d of %d secrets failed: %s' % (len(failures), len(results), '; '.join(failures)), changed=changed, results=results)
    vault.exit_json(changed=changed, diff=diffs, results=results)


def main():
    vault = KeyVaultModule(
        argument_spec=dict(
            secrets=dict(type='list', elements='dict', required=True, options=ITEM_ARGUMENT_SPEC,
                         mutually_exclusive=[('value', 'value_file')], no_log=False),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            overwrite=dict(type='bool', default=True),
            content_type=dict(type='str'),
            tags=dict(type='dict'),
            enabled=dict(type='bool'),
            not_before=dict(type='str'),
            expires=dict(type='str'),
            recover=dict(type='bool', default=False),
            purge=dict(type='bool', default=False),
            exclusive_tags=dict(type='dict'),
            concurrency=dict(type='int', default=8),
        ),
        supports_check_mode=True,
    )
    vault.run(run)


if __name__ == '__main__':
    main()
