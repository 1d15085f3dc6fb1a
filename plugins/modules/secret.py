#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: secret
short_description: Set, update, delete, recover and purge a secret in Azure Key Vault
version_added: 0.1.0
description:
  - Makes a secret in an Azure Key Vault match the task. A repeat run reports C(changed=false) and sends no write.
  - With O(state=present) the module reads the current version of the secret and compares the value and the
    attributes the task sets (O(content_type), O(tags), O(enabled), O(not_before), O(expires)). A different value
    creates a new version carrying the attributes; different attributes alone update the current version in place.
    Attributes the task does not set are left as they are (and carried over to a new version).
  - With O(state=absent) the module deletes the secret (soft delete, so it stays recoverable for the vault's
    retention period) and, with O(purge=true), purges it for good. A secret that does not exist is left alone.
  - A name that belongs to a deleted but recoverable secret cannot be reused. O(state=present) then recovers the
    secret when O(recover=true) and brings it in line with the task, or fails with a message that says what to do.
  - The value is never shown, neither in the output, nor in diff mode (a marker says whether it changes), nor in
    error messages.
author:
  - keyvault.azure contributors (@keyvault-azure)
requirements:
  - azure-identity >= 1.15.0
  - azure-keyvault-secrets >= 4.8.0
notes:
  - "Access-policy permissions needed: secrets C(get) to read the current version; C(set) to write a version or
    update attributes; C(delete) for O(state=absent); C(purge) for O(purge=true); C(recover) for O(recover=true);
    C(list) to look at a disabled secret's attributes."
  - The service does not return the value of a disabled version. When the current version is disabled and stays
    disabled, a given value is not compared (the module warns); with O(enabled=true) the module enables the version
    first and then compares the value.
  - O(expires) and O(not_before) cannot be removed once set, because the service keeps an attribute a request leaves out.
seealso:
  - module: keyvault.azure.secret_info
  - plugin: keyvault.azure.secret
    plugin_type: lookup
  - name: About Azure Key Vault secrets
    description: What the service does with secrets, versions and soft delete.
    link: https://learn.microsoft.com/azure/key-vault/secrets/about-secrets
extends_documentation_fragment:
  - keyvault.azure.connection
  - keyvault.azure.auth
  - keyvault.azure.attributes
  - keyvault.azure.attributes.action_group
options:
  name:
    description:
      - Name of the secret, 1-127 letters, digits and hyphens.
    type: str
    required: true
  state:
    description:
      - V(present) makes sure the secret exists with the given value and attributes.
      - V(absent) deletes it (and purges it with O(purge=true)).
    type: str
    choices: [present, absent]
    default: present
  value:
    description:
      - The secret value. Needed to create a secret; when the secret exists and this is not set, only its attributes
        are managed.
      - Mutually exclusive with O(value_file).
    type: str
  value_file:
    description:
      - Path of a UTF-8 text file, on the managed host, whose whole content (including any final newline) is the value.
      - Mutually exclusive with O(value).
    type: path
  overwrite:
    description:
      - With V(false), an existing secret keeps its value, whatever O(value) says; the value is only used to create the
        secret. Useful for generated passwords, for example with the C(ansible.builtin.password) lookup.
      - Attributes are managed either way.
    type: bool
    default: true
  content_type:
    description:
      - A hint for what the value is, for example V(text/plain) or V(application/json).
    type: str
  tags:
    description:
      - Tags of the secret. When set, the secret ends up with exactly these tags; V({}) removes all tags.
      - Values are stored as strings.
    type: dict
  enabled:
    description:
      - Whether the secret can be read. A new secret is enabled unless this says otherwise.
    type: bool
  not_before:
    description:
      - The secret is not valid before this moment. An ISO 8601 date or date and time (UTC unless a zone is given),
        for example V(2030-01-31) or V(2030-01-31T12:00:00Z), or seconds since the epoch.
    type: str
  expires:
    description:
      - The secret expires at this moment. Same formats as O(not_before).
    type: str
  recover:
    description:
      - With O(state=present), recover the secret when it is deleted but still recoverable, then bring it in line
        with the task. Without it, such a secret makes the task fail.
    type: bool
    default: false
  purge:
    description:
      - With O(state=absent), also purge the deleted secret, so that it cannot be recovered and its name can be
        reused at once. Also purges a secret that was deleted earlier.
    type: bool
    default: false
  return_value:
    description:
      - Return the value of the secret after the task in RV(value). The task result is then hidden from the output
        as with C(no_log), but stays available to O(ignore:register).
      - Useful with O(overwrite=false), to use a password that was generated earlier.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Store the database password (a repeat run changes nothing)
  keyvault.azure.secret:
    vault_url: https://myvault.vault.azure.net
    name: db-password
    value: "{{ vault_db_password }}"
    content_type: text/plain
    tags:
      app: shop
      owner: dba-team

- name: Generate a password once and keep it on later runs
  keyvault.azure.secret:
    vault_url: https://myvault.vault.azure.net
    name: api-key
    value: "{{ lookup('ansible.builtin.password', '/dev/null', length=32, chars=['ascii_letters', 'digits']) }}"
    overwrite: false
    return_value: true
  register: api_key

- name: Disable a secret and let it expire at the end of the year
  keyvault.azure.secret:
    vault_url: https://myvault.vault.azure.net
    name: legacy-token
    enabled: false
    expires: "2030-12-31T23:59:59Z"

- name: Bring back a secret that was deleted by mistake
  keyvault.azure.secret:
    vault_url: https://myvault.vault.azure.net
    name: db-password
    recover: true

- name: Delete a secret and purge it so that the name can be reused
  keyvault.azure.secret:
    vault_url: https://myvault.vault.azure.net
    name: old-secret
    state: absent
    purge: true

- name: Set the connection once for every module of the collection
  module_defaults:
    group/keyvault.azure.all:
      vault_name: myvault
      auth_source: managed_identity
      client_id: 00000000-0000-0000-0000-000000000000
  block:
    - name: Store a secret from a file on the host
      keyvault.azure.secret:
        name: tls-passphrase
        value_file: /etc/myapp/passphrase
"""

RETURN = r"""
secret:
  description:
    - The secret after the task (predicted in check mode), without its value. Empty after O(state=absent).
    - In check mode, RV(secret.id) and RV(secret.version) of a version still to be created are V(null).
  returned: always
  type: dict
  contains:
    name:
      description: Name of the secret.
      type: str
      sample: db-password
    id:
      description: Id of the current version.
      type: str
      sample: https://myvault.vault.azure.net/secrets/db-password/4387e9f3d6e14c459867679a90fd0f79
    version:
      description: The current version.
      type: str
      sample: 4387e9f3d6e14c459867679a90fd0f79
    content_type:
      description: Content type of the current version.
      type: str
      sample: text/plain
    tags:
      description: Tags of the current version.
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
      description: Attributes of the current version. Times are ISO 8601 in UTC.
      type: dict
      contains:
        enabled:
          description: Whether the version can be read.
          type: bool
          sample: true
        not_before:
          description: Start of validity, if set.
          type: str
          sample: null
        expires:
          description: Expiry, if set.
          type: str
          sample: "2030-12-31T23:59:59Z"
        created:
          description: When the version was created.
          type: str
          sample: "2026-01-15T10:20:30Z"
        updated:
          description: When the version was last updated.
          type: str
          sample: "2026-01-15T10:20:30Z"
        recovery_level:
          description: The vault's deletion recovery level for the secret.
          type: str
          sample: Recoverable+Purgeable
        recoverable_days:
          description: Days a deleted secret stays recoverable.
          type: int
          sample: 90
reasons:
  description:
    - Why the task changed the secret, or would in check mode, for example V(the secret does not exist), V(the value differs),
      V(tags, expires differ), V(the secret exists) (with O(state=absent)). Empty when nothing changes. Never holds a value.
  returned: always
  type: list
  elements: str
  sample: [the value differs, tags differs]
value:
  description:
    - The value of the secret after the task. The task's output is hidden when this is returned.
  returned: when O(return_value=true) and the value is readable (not for a disabled secret)
  type: str
retries:
  description:
    - How many requests the task sent again, after throttling (HTTP 429), a server error, or a connection that broke
      before a write landed. O(warn_on_retry=true) adds a warning for each.
  returned: always
  type: int
  sample: 0
"""

from ansible_collections.keyvault.azure.plugins.module_utils._module import KeyVaultModule
from ansible_collections.keyvault.azure.plugins.module_utils._secret_converge import SecretTask


def run(vault):
    task = SecretTask(vault, vault.params)
    vault.exit_json(**(task.absent() if vault.params['state'] == 'absent' else task.present()))


def main():
    vault = KeyVaultModule(
        argument_spec=dict(
            name=dict(type='str', required=True),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            value=dict(type='str', no_log=True),
            value_file=dict(type='path'),
            overwrite=dict(type='bool', default=True),
            content_type=dict(type='str'),
            tags=dict(type='dict'),
            enabled=dict(type='bool'),
            not_before=dict(type='str'),
            expires=dict(type='str'),
            recover=dict(type='bool', default=False),
            purge=dict(type='bool', default=False),
            return_value=dict(type='bool', default=False),
        ),
        mutually_exclusive=[('value', 'value_file')],
        supports_check_mode=True,
    )
    vault.run(run)


if __name__ == '__main__':
    main()
