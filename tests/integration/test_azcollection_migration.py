# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tasks written for azure.azcollection's key vault modules run with their module names changed (and, for certificates, the state)."""

import datetime

import yaml

from playbook_helpers import unique_name

SECRET_VALUE = 'My_Pass_Sec-migrated-7c21'

# azure_rm_keyvaultsecret and azure_rm_keyvaultsecret_info tasks with their own option names; only the module names differ.
PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Create a secret
      keyvault.azure.secret:
        secret_name: "{{ secret_name }}"
        secret_value: %(value)s
        keyvault_uri: "{{ vault_uri }}"
        content_type: text/plain
        secret_valid_from: "2026-01-01T00:00:00Z"
        secret_expiry: "2030-12-31T23:59:59Z"
        tags:
          testing: testing
          delete: never

    - name: Create a secret again
      keyvault.azure.secret:
        secret_name: "{{ secret_name }}"
        secret_value: %(value)s
        keyvault_uri: "{{ vault_uri }}"
        content_type: text/plain
        secret_valid_from: "2026-01-01T00:00:00Z"
        secret_expiry: "2030-12-31T23:59:59Z"
        tags:
          testing: testing
          delete: never

    - name: Get latest version of specific secret
      keyvault.azure.secret_info:
        vault_uri: "{{ vault_uri }}"
        name: "{{ secret_name }}"
      register: facts

    - name: Keep what was read, without the value
      ansible.builtin.set_fact:
        read_back: "{{ facts.secret }}"
        value_matches: "{{ facts.value == '%(value)s' }}"

    - name: Delete a secret
      keyvault.azure.secret:
        secret_name: "{{ secret_name }}"
        keyvault_uri: "{{ vault_uri }}"
        state: absent

    - name: Get deleted secret
      keyvault.azure.secret_info:
        vault_uri: "{{ vault_uri }}"
        name: "{{ secret_name }}"
        show_deleted_secret: true
""" % {'value': SECRET_VALUE}


def test_azure_rm_keyvaultsecret_tasks_run_with_only_the_module_name_changed(playbook, localvault, vault, tmp_path):
    name = unique_name('migrated')
    path = tmp_path / 'migrated.yml'
    path.write_text(PLAYBOOK)
    # The vault comes only from the tasks' keyvault_uri / vault_uri.
    run = playbook(str(path), extra_vars={'secret_name': name, 'vault_uri': localvault.vault_url}, env={'ANSIBLE_KEYVAULT_URL': None},
                   verbosity=3)
    assert run.rc == 0, run.output[-3000:]
    assert [run.result(task)['changed'] for task in ('Create a secret', 'Create a secret again', 'Delete a secret')] == [True, False, True]
    kept = run.result('Keep what was read, without the value')['ansible_facts']
    created = kept['read_back']
    assert kept['value_matches'] is True
    assert (created['name'], created['content_type'], created['tags']) == (name, 'text/plain', {'testing': 'testing', 'delete': 'never'})
    assert (created['not_before'], created['expires']) == ('2026-01-01T00:00:00Z', '2030-12-31T23:59:59Z')
    deleted = vault.get_deleted_secret(name)
    assert deleted.properties.expires_on == datetime.datetime(2030, 12, 31, 23, 59, 59, tzinfo=datetime.timezone.utc)
    assert run.result('Get deleted secret')['secret']['recovery_id'] == deleted.recovery_id
    assert SECRET_VALUE not in run.output


# azure_rm_keyvaultcertificate's own example of generating a certificate: the module name changes, and state: generate
# becomes present; its vault_uri and its policy in the Python SDK's names stay as they are.
CERTIFICATE_TASK = """
- name: Generate a keyvault certificate
  keyvault.azure.certificate:
    vault_uri: "{{ vault_uri }}"
    name: "{{ certificate_name }}"
    policy:
      subject: CN=migrated.example.test
      issuer_name: self
      exportable: true
      key_type: RSA
      key_size: 2048
      san_emails:
        - ops@example.test
      content_type: application/x-pkcs12
      validity_in_months: 36
      lifetime_actions:
        - action: EmailContacts
          days_before_expiry: 10
    enabled: true
    state: present
"""


def test_azure_rm_keyvaultcertificate_policy_converges(playbook, localvault, certificate_vault):
    name = unique_name('migrated-cert')
    task = yaml.safe_load(CERTIFICATE_TASK)[0]
    run = playbook([task, dict(task, name='Generate it again')], extra_vars={'certificate_name': name, 'vault_uri': localvault.vault_url},
                   env={'ANSIBLE_KEYVAULT_URL': None})
    assert run.rc == 0, run.output[-3000:]
    assert [run.result(step)['changed'] for step in ('Generate a keyvault certificate', 'Generate it again')] == [True, False]
    policy = certificate_vault.get_certificate(name).policy
    assert (policy.subject, policy.san_emails, policy.validity_in_months, policy.content_type) == (
        'CN=migrated.example.test', ['ops@example.test'], 36, 'application/x-pkcs12')
    assert [(action.action, action.days_before_expiry) for action in policy.lifetime_actions] == [('EmailContacts', 10)]
