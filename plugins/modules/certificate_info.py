#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: certificate_info
short_description: Read certificates, their versions, policies and key material from Azure Key Vault
version_added: 0.1.0
description:
  - With O(name), returns one certificate (its current version, or O(version)) with its metadata and policy, and on
    request its PEM certificate (O(include_pem)), the issuer chain (O(include_chain)) and its private key
    (O(include_private_key)), ready to be written to files on the managed host.
  - The private key comes from the certificate's backing secret. When it is returned, the task result is hidden from
    the output, as with C(no_log), but stays available to O(ignore:register).
  - With O(name) and O(list_versions=true), lists the versions of the certificate.
  - Without O(name), lists the certificates of the vault, optionally only those carrying O(tags).
  - With O(deleted=true), returns the deleted certificate O(name), or lists the deleted certificates.
  - Lists never include key material.
author:
  - keyvault.azure contributors (@keyvault-azure)
requirements:
  - azure-identity >= 1.15.0
  - azure-keyvault-certificates >= 4.8.0
  - azure-keyvault-secrets >= 4.8.0 (for O(include_chain) and O(include_private_key))
  - cryptography >= 3.1 (installed with azure-identity)
notes:
  - "Access-policy permissions needed: certificates C(get) to read one certificate (with O(include_pem)) or one deleted
    certificate; certificates C(list) for every list; in addition secrets C(get) for O(include_chain) and
    O(include_private_key), which read the backing secret."
  - A certificate whose key is not exportable has no private key in its backing secret; O(include_private_key) then fails.
seealso:
  - module: keyvault.azure.certificate
  - plugin: keyvault.azure.certificate
    plugin_type: lookup
extends_documentation_fragment:
  - keyvault.azure.connection
  - keyvault.azure.auth
  - keyvault.azure.attributes.info_module
  - keyvault.azure.attributes.action_group
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - ansible.builtin.action_common_attributes.actiongroups
options:
  name:
    description:
      - Name of the certificate to read. Without it the module lists certificates.
    type: str
  version:
    description:
      - The version to read instead of the current one. Needs O(name).
    type: str
  list_versions:
    description:
      - List the versions of the certificate O(name) instead of reading one.
    type: bool
    default: false
  deleted:
    description:
      - Look at deleted certificates, that is the deleted certificate O(name), or all deleted certificates without O(name).
      - The alias C(show_deleted_certificate) is azure.azcollection's name for this option.
    type: bool
    aliases: [show_deleted_certificate]
    default: false
  include_pending:
    description:
      - Also list certificates whose only version is still being created.
    type: bool
    default: false
  tags:
    description:
      - Only list certificates (or versions, or deleted certificates) that carry all these tags with these values.
    type: dict
  include_pem:
    description:
      - Return the X.509 certificate of the version read with O(name) in RV(pem).
    type: bool
    default: false
  include_chain:
    description:
      - Return the issuer certificates stored with the version read with O(name) in RV(chain_pem) (an empty string for a
        self-signed certificate).
    type: bool
    default: false
  include_private_key:
    description:
      - Return the private key of the version read with O(name) in RV(private_key), and hide the task result.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Fetch the web certificate with its key, with this host's own managed identity
  keyvault.azure.certificate_info:
    vault_url: https://myvault.vault.azure.net
    client_id: "{{ host_identity_client_id }}"
    name: web-tls
    include_pem: true
    include_chain: true
    include_private_key: true
  register: web_tls

- name: Install the certificate followed by its chain
  ansible.builtin.copy:
    content: "{{ web_tls.pem }}{{ web_tls.chain_pem }}"
    dest: /etc/nginx/tls/web.crt
    mode: "0644"

- name: Install the private key
  ansible.builtin.copy:
    content: "{{ web_tls.private_key }}"
    dest: /etc/nginx/tls/web.key
    owner: root
    mode: "0600"
  no_log: true

- name: When does the certificate expire?
  keyvault.azure.certificate_info:
    vault_url: https://myvault.vault.azure.net
    name: web-tls
  register: info

- name: Show it
  ansible.builtin.debug:
    msg: "{{ info.certificate.expires }} ({{ info.certificate.policy.subject }})"

- name: List the certificates of one application
  keyvault.azure.certificate_info:
    vault_url: https://myvault.vault.azure.net
    tags:
      app: shop
  register: shop_certificates

- name: List deleted certificates that can still be recovered
  keyvault.azure.certificate_info:
    vault_url: https://myvault.vault.azure.net
    deleted: true
  register: deleted_certificates
"""

RETURN = r"""
certificate:
  description:
    - The certificate version read with O(name), with its policy, shaped like RV(keyvault.azure.certificate#module:certificate).
    - For a deleted certificate, also when it was deleted and when it will be purged.
  returned: when O(name) is set and O(list_versions=false)
  type: dict
  contains:
    name:
      description: Name of the certificate.
      type: str
      sample: web-tls
    id:
      description: Id of the version.
      type: str
      sample: https://myvault.vault.azure.net/certificates/web-tls/0e5ca05ab3e54e7c96f5d97a5d2ebd4f
    version:
      description: The version.
      type: str
      sample: 0e5ca05ab3e54e7c96f5d97a5d2ebd4f
    thumbprint:
      description: SHA-1 thumbprint in upper-case hexadecimal.
      type: str
      sample: 5A7B0C3E43A2F1AC1D4E0A1E2F7C4B0D9E8F6A21
    x5t:
      description: The same thumbprint, base64url-encoded.
      type: str
      sample: WnsMPkOi8awdTgoeL3xLDZ6PaiE
    subject:
      description: Subject of the X.509 certificate (RFC 4514).
      type: str
      sample: CN=www.example.com
    sans:
      description: Subject alternative names by kind (dns_names, ip_addresses, emails, upns, uris).
      type: dict
      sample: {dns_names: [www.example.com]}
    not_before:
      description: Start of validity, ISO 8601 in UTC.
      type: str
      sample: "2026-01-15T10:10:30Z"
    expires:
      description: End of validity, ISO 8601 in UTC.
      type: str
      sample: "2027-01-15T10:20:30Z"
    enabled:
      description: Whether the version is enabled.
      type: bool
      sample: true
    tags:
      description: Tags of the version.
      type: dict
      sample: {app: shop}
    created:
      description: When the version was created.
      type: str
      sample: "2026-01-15T10:20:30Z"
    updated:
      description: When the version was last updated.
      type: str
      sample: "2026-01-15T10:20:30Z"
    recovery_level:
      description: The vault's deletion recovery level.
      type: str
      sample: Recoverable+Purgeable
    recoverable_days:
      description: Days a deleted certificate stays recoverable.
      type: int
      sample: 90
    secret_id:
      description: Id of the backing secret version.
      type: str
      sample: https://myvault.vault.azure.net/secrets/web-tls/0e5ca05ab3e54e7c96f5d97a5d2ebd4f
    key_id:
      description: Id of the key version.
      type: str
      sample: https://myvault.vault.azure.net/keys/web-tls/0e5ca05ab3e54e7c96f5d97a5d2ebd4f
    pending:
      description: Whether the version is still being created.
      type: bool
      sample: false
    policy:
      description: The certificate's policy, as returned by M(keyvault.azure.certificate).
      type: dict
      sample: {subject: CN=www.example.com, key_type: RSA, key_size: 2048, content_type: application/x-pem-file, issuer: Self,
               validity_in_months: 12}
    recovery_id:
      description: Id to recover the deleted certificate with.
      type: str
      returned: for a deleted certificate
      sample: https://myvault.vault.azure.net/deletedcertificates/web-tls
    deleted_on:
      description: When the certificate was deleted.
      type: str
      returned: for a deleted certificate
      sample: "2026-01-16T08:00:00Z"
    scheduled_purge_date:
      description: When the service purges the deleted certificate.
      type: str
      returned: for a deleted certificate
      sample: "2026-04-16T08:00:00Z"
pem:
  description: The X.509 certificate, PEM-encoded.
  returned: when O(include_pem=true)
  type: str
  sample: "-----BEGIN CERTIFICATE-----\nMIIC...\n-----END CERTIFICATE-----\n"
chain_pem:
  description: The issuer certificates stored with the version, PEM-encoded one after the other, from the one that signed
    the certificate upwards. An empty string for a self-signed certificate.
  returned: when O(include_chain=true)
  type: str
  sample: ""
private_key:
  description: The private key, as unencrypted PKCS#8 PEM. The task's output is hidden when this is returned.
  returned: when O(include_private_key=true)
  type: str
certificates:
  description:
    - The certificates, versions or deleted certificates listed, each shaped like RV(certificate), without policy and
      without C(subject), C(sans), C(secret_id) and C(key_id), which lists do not carry.
    - Versions are sorted from the oldest to the newest; certificates by name.
  returned: when O(name) is not set, or O(list_versions=true)
  type: list
  elements: dict
  sample:
    - name: web-tls
      id: https://myvault.vault.azure.net/certificates/web-tls
      version: null
      thumbprint: 5A7B0C3E43A2F1AC1D4E0A1E2F7C4B0D9E8F6A21
      enabled: true
      expires: "2027-01-15T10:20:30Z"
      tags: {app: shop}
retries:
  description:
    - How many requests the task sent again, after throttling (HTTP 429), a server error or a broken connection.
      O(warn_on_retry=true) adds a warning for each.
  returned: always
  type: int
  sample: 0
"""

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.keyvault.azure.plugins.module_utils._cert_material import (
    CRYPTOGRAPHY_IMPORT_ERROR,
    HAS_CRYPTOGRAPHY,
    der_to_pem,
    split_backing_secret,
)
from ansible_collections.keyvault.azure.plugins.module_utils._cert_policy import policy_from_sdk
from ansible_collections.keyvault.azure.plugins.module_utils._cert_state import state_from_certificate, to_result, state_from_properties
from ansible_collections.keyvault.azure.plugins.module_utils._errors import KeyVaultError
from ansible_collections.keyvault.azure.plugins.module_utils._identifiers import KeyVaultInputError, check_object_name, check_version
from ansible_collections.keyvault.azure.plugins.module_utils._module import KeyVaultModule, by_name, check_listing_options, listed_results
from ansible_collections.keyvault.azure.plugins.module_utils._tags import normalize_tags

MATERIAL_OPTIONS = ('include_pem', 'include_chain', 'include_private_key')


def check_combination(params):
    asked_material = [option for option in MATERIAL_OPTIONS if params[option]]
    check_listing_options(params)
    if asked_material and (not params['name'] or params['list_versions'] or params['deleted']):
        raise KeyVaultInputError('%s only work%s when reading one certificate with name' % (
            ', '.join(asked_material), 's' if len(asked_material) == 1 else ''))
    if params['name'] is not None:
        check_object_name(params['name'], 'certificate')
    if params['version'] is not None:
        check_version(params['version'], 'certificate')


def add_material(vault, certificate, label, result):
    """Put the PEM certificate, chain and private key the task asks for into ``result``."""
    params = vault.params
    if params['include_pem']:
        if not certificate.cer:
            raise KeyVaultError('not_found', '%s in vault %s is still being created and has no certificate yet' % (label, vault.vault_url))
        result['pem'] = der_to_pem(certificate.cer)
    if not (params['include_chain'] or params['include_private_key']):
        return
    secret_label = 'the backing secret of %s' % label
    secret = vault.call('secrets/get', secret_label, vault.secret_client().get_secret, certificate.name, certificate.properties.version)
    private_key, certificates = split_backing_secret(secret.value, secret.properties.content_type, secret_label)
    if params['include_chain']:
        result['chain_pem'] = ''.join(certificates[1:])
    if params['include_private_key']:
        if private_key is None:
            raise KeyVaultError('not_found', '%s in vault %s holds no private key: the key of %s is not exportable' % (
                secret_label, vault.vault_url, label))
        result['private_key'] = private_key


def read(vault):
    """The module's result for the task's combination of options."""
    params = vault.params
    check_combination(params)
    client = vault.certificate_client()
    wanted_tags = normalize_tags(params['tags']) or {}
    name = params['name']
    label = "certificate '%s'" % name if name else 'certificates'

    if params['deleted'] and name:
        deleted = vault.call('certificates/get', 'deleted ' + label, client.get_deleted_certificate, name)
        return dict(certificate=to_result(state_from_certificate(deleted), deleted=deleted))
    if params['deleted']:
        return dict(certificates=listed_results(vault, 'certificates/list', 'deleted certificates',
                                                lambda: client.list_deleted_certificates(include_pending=params['include_pending']), wanted_tags,
                                                lambda d: to_result(state_from_properties(d.properties), deleted=d), by_name,
                                                properties_of=lambda d: d.properties))
    if params['list_versions']:
        # Versions made in the same second keep the order the vault lists them in (sorted() is stable).
        return dict(certificates=listed_results(vault, 'certificates/list', 'versions of ' + label,
                                                lambda: client.list_properties_of_certificate_versions(name), wanted_tags,
                                                lambda p: to_result(state_from_properties(p)), lambda d: d['created'] or ''))
    if name:
        if params['version']:
            label = "certificate '%s' version %s" % (name, params['version'])
            certificate = vault.call('certificates/get', label, client.get_certificate_version, name, params['version'])
            state = state_from_certificate(certificate)
            if state.policy is None:
                # The service may leave the policy, which belongs to the certificate, out of a version read on its own
                # (CertificateBundle.policy is optional in the REST API's certificates OpenAPI description).
                state = state.replace(policy=policy_from_sdk(vault.call('certificates/get', label, client.get_certificate_policy, name)))
        else:
            certificate = vault.call('certificates/get', label, client.get_certificate, name)
            state = state_from_certificate(certificate)
        result = dict(certificate=to_result(state))
        add_material(vault, certificate, label, result)
        return result
    return dict(certificates=listed_results(vault, 'certificates/list', label,
                                            lambda: client.list_properties_of_certificates(include_pending=params['include_pending']), wanted_tags,
                                            lambda p: to_result(state_from_properties(p)), by_name))


def run(vault):
    if not HAS_CRYPTOGRAPHY:
        vault.fail_json(missing_required_lib('cryptography'), exception=CRYPTOGRAPHY_IMPORT_ERROR)
    vault.exit_json(**read(vault))


def main():
    vault = KeyVaultModule(
        argument_spec=dict(
            name=dict(type='str'),
            version=dict(type='str'),
            list_versions=dict(type='bool', default=False),
            deleted=dict(type='bool', default=False, aliases=['show_deleted_certificate']),
            include_pending=dict(type='bool', default=False),
            tags=dict(type='dict'),
            include_pem=dict(type='bool', default=False),
            include_chain=dict(type='bool', default=False),
            include_private_key=dict(type='bool', default=False, no_log=False),
        ),
        required_by=dict(version='name'),
        supports_check_mode=True,
    )
    vault.run(run)


if __name__ == '__main__':
    main()
