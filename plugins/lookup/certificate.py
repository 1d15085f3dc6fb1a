# -*- coding: utf-8 -*-
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: certificate
short_description: Read certificates (and their chain and private key) from Azure Key Vault as PEM
version_added: 0.1.0
description:
  - Returns, for each certificate named in the terms and in the order of the terms, the PEM text O(part) asks for
    (the certificate, its issuer chain, both, or its private key), or all of them as a dictionary.
  - A term is a certificate name (the current version), V(name/version), or a full certificate id such as
    V(https://othervault.vault.azure.net/certificates/name/version), which may point at another vault.
  - Several terms are fetched concurrently, with one credential (and one client per vault).
  - The results are marked unsafe, so Ansible never templates them.
  - The lookup runs on the controller and authenticates as the controller. To fetch a certificate with each managed
    host's own identity, use M(keyvault.azure.certificate_info).
author:
  - keyvault.azure contributors (@keyvault-azure)
requirements:
  - azure-identity >= 1.15.0
  - azure-keyvault-certificates >= 4.8.0
  - azure-keyvault-secrets >= 4.8.0
  - cryptography >= 3.1 (installed with azure-identity)
notes:
  - "Access-policy permissions needed: certificates C(get) for O(part=certificate); secrets C(get) for every other
    O(part), which reads the certificate's backing secret (and needs no certificate permission)."
seealso:
  - module: keyvault.azure.certificate_info
  - module: keyvault.azure.certificate
extends_documentation_fragment:
  - keyvault.azure.connection
  - keyvault.azure.connection.plugins
  - keyvault.azure.auth
  - keyvault.azure.auth.plugins
  - keyvault.azure.lookup
  - keyvault.azure.read_failures
options:
  _terms:
    description: Certificate names, V(name/version) pairs or certificate ids.
    type: list
    elements: str
    required: true
  version:
    description:
      - Version to read for every term that does not name one.
    type: str
  part:
    description:
      - V(certificate) returns the X.509 certificate.
      - V(chain) returns the issuer certificates stored with it (an empty string for a self-signed certificate).
      - V(fullchain) returns the certificate followed by its issuer certificates, as web servers want it.
      - V(private_key) returns the private key as unencrypted PKCS#8 PEM. It fails for a key that is not exportable.
      - V(all) returns a dictionary with the keys C(certificate), C(chain), C(fullchain) and C(private_key) (V(null)
        for a key that is not exportable), from one read.
    type: str
    choices: [certificate, chain, fullchain, private_key, all]
    default: certificate
"""

EXAMPLES = r"""
- name: Install the web certificate with its chain (the controller's identity reads it)
  ansible.builtin.copy:
    content: "{{ lookup('keyvault.azure.certificate', 'web-tls', part='fullchain', vault_url='https://myvault.vault.azure.net') }}"
    dest: /etc/nginx/tls/web.crt
    mode: "0644"

- name: Install its private key
  ansible.builtin.copy:
    content: "{{ lookup('keyvault.azure.certificate', 'web-tls', part='private_key', vault_url='https://myvault.vault.azure.net') }}"
    dest: /etc/nginx/tls/web.key
    mode: "0600"
  no_log: true

- name: Everything from one read, for a template
  ansible.builtin.template:
    src: haproxy.pem.j2
    dest: /etc/haproxy/site.pem
    mode: "0600"
  vars:
    site: "{{ lookup('keyvault.azure.certificate', 'web-tls', part='all') }}"
  no_log: true

- name: Trust the certificates of two services (public parts only, certificates get permission)
  ansible.builtin.copy:
    content: "{{ query('keyvault.azure.certificate', 'billing-tls', 'orders-tls') | join('') }}"
    dest: /etc/pki/trust/services.pem
    mode: "0644"
"""

RETURN = r"""
_raw:
  description:
    - One entry per term (fewer when terms are skipped), marked unsafe. PEM text, or with O(part=all) a dictionary.
  type: list
  elements: raw
"""

from ansible.errors import AnsibleLookupError
from ansible.module_utils.basic import missing_required_lib

from ansible_collections.keyvault.azure.plugins.module_utils._cert_material import HAS_CRYPTOGRAPHY, der_to_pem, split_backing_secret
from ansible_collections.keyvault.azure.plugins.module_utils._batch import deleted_or
from ansible_collections.keyvault.azure.plugins.module_utils._errors import KeyVaultError, vault_call
from ansible_collections.keyvault.azure.plugins.plugin_utils._lookup_base import KeyVaultLookupBase, client_layer, reference_label


class LookupModule(KeyVaultLookupBase):

    def run(self, terms, variables=None, **kwargs):
        client_layer()
        if not HAS_CRYPTOGRAPHY:
            raise AnsibleLookupError(missing_required_lib('cryptography'))
        options, references = self.prepare(terms, variables, kwargs, 'certificates')
        part = self.get_option('part')
        return self.read_all(options, references, lambda reference: read_part(options, reference, part))


def read_part(options, reference, part):
    label = reference_label('certificate', reference)
    try:
        if part == 'certificate':
            return read_certificate_pem(options, reference, label)
        return backing_secret_parts(options, reference, label, part)
    except KeyVaultError as error:
        if error.kind != 'not_found' or reference.version:
            raise
        client = client_layer().get_certificate_client(options, reference.vault_url)
        raise deleted_or(error, options, reference, label, 'certificates/get', client.get_deleted_certificate)


def read_certificate_pem(options, reference, label):
    client = vault_call(options, reference.vault_url, 'certificates/get', label, client_layer().get_certificate_client, options, reference.vault_url)
    if reference.version:
        certificate = vault_call(options, reference.vault_url, 'certificates/get', label, client.get_certificate_version,
                                 reference.name, reference.version)
    else:
        certificate = vault_call(options, reference.vault_url, 'certificates/get', label, client.get_certificate, reference.name)
    if not certificate.cer:
        raise KeyVaultError('not_found', '%s in vault %s is still being created and has no certificate yet' % (label, reference.vault_url))
    return der_to_pem(certificate.cer)


def backing_secret_parts(options, reference, label, part):
    """``part`` of the certificate's backing secret, which holds the certificate, its chain and the key."""
    client = vault_call(options, reference.vault_url, 'secrets/get', label, client_layer().get_secret_client, options, reference.vault_url)
    secret = vault_call(options, reference.vault_url, 'secrets/get', label, client.get_secret, reference.name, reference.version)
    if not secret.properties.managed:
        raise KeyVaultError('not_found', '%s was not found in vault %s: %s is a plain secret, not the backing secret of a certificate' % (
            label, reference.vault_url, reference.name))
    private_key, certificates = split_backing_secret(secret.value, secret.properties.content_type, 'the backing secret of %s' % label)
    parts = {
        'certificate': certificates[0],
        'chain': ''.join(certificates[1:]),
        'fullchain': ''.join(certificates),
        'private_key': private_key,
    }
    if part == 'all':
        return parts
    if part == 'private_key' and private_key is None:
        raise KeyVaultError('invalid', 'the backing secret of %s in vault %s holds no private key: the key is not exportable' % (
            label, reference.vault_url))
    return parts[part]
