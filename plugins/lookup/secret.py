# -*- coding: utf-8 -*-
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: secret
short_description: Read secret values from Azure Key Vault
version_added: 0.1.0
description:
  - Returns the value of each secret named in the terms, in the order of the terms.
  - A term is a secret name (the current version), V(name/version), or a full secret id such as
    V(https://othervault.vault.azure.net/secrets/name/version), which may point at another vault.
  - Several terms are fetched concurrently, with one credential (and one client per vault).
  - The values are marked unsafe, so Ansible never templates them; a secret containing C({{ }}) stays as it is.
  - The lookup runs on the controller, so it authenticates as the controller (for example with the managed identity
    of the VM Ansible runs on). To read secrets with each managed host's own identity, use M(keyvault.azure.secret_info).
author:
  - keyvault.azure contributors (@keyvault-azure)
requirements:
  - azure-identity >= 1.15.0
  - azure-keyvault-secrets >= 4.8.0
notes:
  - "Access-policy permissions needed: secrets C(get)."
seealso:
  - module: keyvault.azure.secret_info
  - module: keyvault.azure.secret
extends_documentation_fragment:
  - keyvault.azure.connection
  - keyvault.azure.connection.plugins
  - keyvault.azure.auth
  - keyvault.azure.auth.plugins
  - keyvault.azure.lookup
  - keyvault.azure.read_failures
options:
  _terms:
    description: Secret names, V(name/version) pairs or secret ids.
    type: list
    elements: str
    required: true
  version:
    description:
      - Version to read for every term that does not name one.
    type: str
  value_cache:
    description:
      - Keep each value this lookup reads for the rest of the C(ansible-playbook) run, so that the same secret looked
        up for many hosts (or by many tasks) is read from the vault once. 50 hosts reading the same 10 secrets then
        make 10 vault reads instead of 500.
      - A value is shared only between lookups that read the same vault, secret and version with the same identity
        and connection options. Failures (missing, denied, deleted) are not kept.
      - "The trade-offs: the values are written to files of the run's cache (see O(token_cache) for where: 0600 files
        in a 0700 directory of the user running Ansible, in memory under C(/dev/shm) or E(XDG_RUNTIME_DIR) when the
        system has them, else on disk in the temporary directory) until the run ends; anyone who can read that user's
        files (or root) can read them meanwhile. A secret changed during the run, by a task of the same play or by
        someone else, is seen by later lookups of the run with its old value: set O(version) or turn the cache off
        where that matters."
    type: bool
    default: false
    env:
      - name: ANSIBLE_KEYVAULT_VALUE_CACHE
    ini:
      - section: keyvault_azure
        key: value_cache
    vars:
      - name: ansible_keyvault_value_cache
  as_json:
    description:
      - Decode each value as JSON and return the structure (a dictionary, a list...), for secrets that hold structured
        data. A value that is not JSON fails the lookup.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Use a secret in a template (on an Azure VM, with its system-assigned managed identity)
  ansible.builtin.template:
    src: app.conf.j2
    dest: /etc/myapp/app.conf
    mode: "0600"
  vars:
    db_password: "{{ lookup('keyvault.azure.secret', 'db-password', vault_url='https://myvault.vault.azure.net') }}"

- name: Read several secrets at once (fetched concurrently)
  ansible.builtin.set_fact:
    app_secrets: "{{ query('keyvault.azure.secret', 'db-password', 'api-key', 'smtp-password') }}"
  no_log: true

- name: A secret that may not exist yet, with a fallback
  ansible.builtin.debug:
    msg: "{{ lookup('keyvault.azure.secret', 'feature-flag', on_missing='skip', default='off') }}"

- name: Every host reads the same secrets; read each from the vault once per run, not once per host
  ansible.builtin.set_fact:
    app_secrets: "{{ query('keyvault.azure.secret', 'db-password', 'api-key', value_cache=true) }}"
  no_log: true

- name: A structured secret, decoded from JSON
  ansible.builtin.set_fact:
    db: "{{ lookup('keyvault.azure.secret', 'db-connection', as_json=true) }}"
  no_log: true

- name: A pinned version, and a secret from another vault by its id
  ansible.builtin.set_fact:
    pinned: "{{ lookup('keyvault.azure.secret', 'db-password/4387e9f3d6e14c459867679a90fd0f79') }}"
    shared: "{{ lookup('keyvault.azure.secret', 'https://sharedvault.vault.azure.net/secrets/license-key') }}"
  no_log: true

# The connection can also come from variables, for example in group_vars/all.yml:
#   ansible_keyvault_vault_url: https://myvault.vault.azure.net
#   ansible_keyvault_client_id: 00000000-0000-0000-0000-000000000000
# from the environment (ANSIBLE_KEYVAULT_URL=...), or from ansible.cfg:
#   [keyvault_azure]
#   vault_url = https://myvault.vault.azure.net
"""

RETURN = r"""
_raw:
  description:
    - The values of the secrets, one per term (fewer when terms are skipped), marked unsafe.
    - With O(as_json=true), the decoded structures.
  type: list
  elements: raw
"""

import json

from ansible_collections.keyvault.azure.plugins.module_utils._batch import deleted_or
from ansible_collections.keyvault.azure.plugins.module_utils._errors import KeyVaultError, vault_call
from ansible_collections.keyvault.azure.plugins.plugin_utils._lookup_base import KeyVaultLookupBase, client_layer, reference_label
from ansible_collections.keyvault.azure.plugins.plugin_utils._shared_tokens import this_run


class LookupModule(KeyVaultLookupBase):

    def run(self, terms, variables=None, **kwargs):
        options, references = self.prepare(terms, variables, kwargs, 'secrets')
        as_json = self.get_option('as_json')
        run_cache = this_run().cache if self.get_option('value_cache') else None

        def fetch(reference):
            if run_cache is None:
                value = read_secret_value(options, reference)
            else:
                key = [options.client_key(), reference.vault_url, reference.name, reference.version]
                value = run_cache.shared('secret-value', key, lambda: {'value': read_secret_value(options, reference)})['value']
            if as_json:
                return decode_json(value, reference)
            return value

        return self.read_all(options, references, fetch)


def read_secret_value(options, reference):
    label = reference_label('secret', reference)
    client = vault_call(options, reference.vault_url, 'secrets/get', label, client_layer().get_secret_client, options, reference.vault_url)
    try:
        return vault_call(options, reference.vault_url, 'secrets/get', label, client.get_secret, reference.name, reference.version).value
    except KeyVaultError as error:
        if error.kind != 'not_found' or reference.version:
            raise
        raise deleted_or(error, options, reference, label, 'secrets/get', client.get_deleted_secret)


def decode_json(value, reference):
    try:
        return json.loads(value)
    except ValueError as error:
        # Only the position of the problem is reported: the decoder's message could quote the value.
        raise KeyVaultError('invalid', '%s in vault %s is not valid JSON (error at line %d column %d)' % (
            reference_label('secret', reference), reference.vault_url, getattr(error, 'lineno', 0), getattr(error, 'colno', 0)))
