#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: certificate
short_description: Create, import, renew, delete, recover and purge a certificate in Azure Key Vault
version_added: 0.1.0
description:
  - Makes a certificate in an Azure Key Vault match the task. A repeat run reports C(changed=false) and sends no write.
  - With O(state=present) and no certificate of that name, the module creates one from the policy the task states
    (O(subject), O(dns_names), O(key_type)...; the service fills in what is left out), or imports O(certificate) /
    O(certificate_file).
  - When the certificate exists, the module compares the policy fields the task states with the certificate's policy.
    Fields that are left out are not managed. Fields that are baked into the issued certificate (O(subject), the
    subject alternative names, O(key_type), O(key_size), O(curve), O(exportable), O(ekus), O(key_usage),
    O(validity_in_months), O(content_type)) make a new version with the updated policy when they differ. Fields that
    only steer later versions (O(reuse_key), O(issuer), O(lifetime_actions), and the issuer's certificate type and
    transparency given in O(policy)) update the policy in place. O(enabled) and O(tags) are updated on the current
    version in place.
  - "Fields are compared as follows: O(subject) as a distinguished name (attribute names in any case, spaces around
    separators ignored); O(dns_names) and O(emails) as sets in any case; O(ip_addresses) as sets of addresses; user
    principal names and URIs (from O(policy)), O(ekus), O(key_usage) and O(lifetime_actions) as sets; O(key_type),
    O(curve) and O(issuer) in any case; O(key_size), O(exportable), O(reuse_key), O(validity_in_months) and
    O(content_type) as values."
  - Creating a version is a long-running operation in the vault. The module waits for it (see O(wait) and
    O(wait_timeout)). An operation that is still pending when the module runs, because an earlier run did not wait for
    it or another host started it at the same time, is waited for (or reported with O(wait=false)), never duplicated.
    After waiting, the module compares the new version with the task; when it only reports the operation, it compares
    nothing else.
    The vault answers a second creation request while one is pending with a conflict; the module then waits for the
    pending operation instead, so that several hosts asking for the same certificate at the same time end with one
    new version.
  - With O(issuer=Unknown) the vault makes a key pair and a certificate signing request; the module returns the
    request in RV(operation.csr) for an external certificate authority to sign, and the version stays pending until
    the signed certificate is merged. O(signed_certificate) or O(signed_certificate_file) merges it, after checking
    that it holds the public key of the pending request; a repeat run finds the certificate in the current version and
    changes nothing.
  - O(renew_before_expiry_days) and O(renew_at_percentage) make a new version when the current one is close to its
    expiry at the time the module runs; O(force) makes one on every run.
  - O(certificate) or O(certificate_file) imports a PEM bundle or a PKCS#12 file once. The module compares the SHA-1
    thumbprint of the given certificate with the current version's and imports only when they differ.
  - With O(state=absent) the module deletes the certificate (soft delete, so it stays recoverable for the vault's
    retention period), together with its key and backing secret, and with O(purge=true) purges it. A name that belongs
    to a deleted but recoverable certificate cannot be reused; O(recover=true) brings it back.
  - Private keys and passwords never appear in the output, in diff mode or in error messages.
author:
  - keyvault.azure contributors (@keyvault-azure)
requirements:
  - azure-identity >= 1.15.0
  - azure-keyvault-certificates >= 4.8.0
  - cryptography >= 3.1 (installed with azure-identity)
notes:
  - "Access-policy permissions needed: certificates C(get) always (to read the certificate, its policy and a pending
    operation, and to wait for one); certificates C(create) to create a certificate or a new version (including
    renewals and O(force)); C(import) for O(certificate) and O(certificate_file); C(update) to update the policy,
    O(enabled) or O(tags) in place; C(create) to merge O(signed_certificate) or O(signed_certificate_file) (the
    MergeCertificate operation needs it, not C(update)); C(delete) for O(state=absent); C(purge) for O(purge=true);
    C(recover) for O(recover=true)."
  - "O(renew_before_expiry_days) and O(renew_at_percentage) act when the module runs. To let the vault renew a
    certificate by itself, use O(lifetime_actions) with C(action: AutoRenew)."
  - The vault offers no conditional write, so concurrent creators converge through the conflict answer only while
    the first creation is pending. Create a certificate once per play (C(run_once)) where that matters.
seealso:
  - module: keyvault.azure.certificate_info
  - plugin: keyvault.azure.certificate
    plugin_type: lookup
  - name: About Azure Key Vault certificates
    description: Certificate policies, issuers, renewal and the backing key and secret.
    link: https://learn.microsoft.com/azure/key-vault/certificates/about-certificates
extends_documentation_fragment:
  - keyvault.azure.connection
  - keyvault.azure.auth
  - keyvault.azure.attributes
  - keyvault.azure.attributes.action_group
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - ansible.builtin.action_common_attributes.actiongroups
options:
  name:
    description:
      - Name of the certificate, 1-127 letters, digits and hyphens. Its key and backing secret get the same name.
    type: str
    required: true
  state:
    description:
      - V(present) makes sure the certificate exists with the stated policy, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  subject:
    description:
      - The X.500 distinguished name of the certificate, attribute=value pairs separated by commas (or semicolons), for
        example V(CN=www.example.com, O=Contoso).
      - A new certificate needs a subject or at least one subject alternative name.
    type: str
  dns_names:
    description:
      - DNS names in the subject alternative name extension. V([]) removes them.
    type: list
    elements: str
  ip_addresses:
    description:
      - IPv4 and IPv6 addresses in the subject alternative name extension. V([]) removes them.
    type: list
    elements: str
  emails:
    description:
      - E-mail addresses in the subject alternative name extension. V([]) removes them.
    type: list
    elements: str
  validity_in_months:
    description:
      - How long a new version is valid, 1 to 1200 months. The service's default is 12.
    type: int
  key_type:
    description:
      - The key type. V(RSA-HSM) and V(EC-HSM) keep the key in a hardware security module (Premium vaults only) and
        cannot be exportable.
    type: str
    choices: [RSA, RSA-HSM, EC, EC-HSM]
  key_size:
    description:
      - Key size in bits, V(2048), V(3072) or V(4096) for RSA (the service's default is 2048); for EC it follows from
        O(curve).
    type: int
  curve:
    description:
      - The elliptic curve of an EC key. The service's default is V(P-256).
    type: str
    choices: [P-256, P-384, P-521, P-256K]
  exportable:
    description:
      - Whether the private key is part of the certificate's backing secret, so that hosts can fetch it. The service's
        default is V(true) (V(false) for HSM keys).
    type: bool
  reuse_key:
    description:
      - Whether a new version keeps the key of the previous one. The service's default is V(false).
    type: bool
  content_type:
    description:
      - The format of the backing secret that holds the certificate and its key; V(PKCS12) (the service's default) or
        V(PEM) (the unencrypted PKCS#8 key followed by the certificates).
      - Azure's own names for them, the MIME types V(application/x-pkcs12) and V(application/x-pem-file), are accepted
        too and mean the same. Results report the MIME type (in RV(certificate.policy)), as the vault, the
        backing secret's C(content_type) and the Azure CLI do.
      - With O(certificate) or O(certificate_file), the format the material is imported in (the module converts it);
        by default the format of the existing certificate, or else the format of the given material.
    type: str
    choices: [PEM, PKCS12, application/x-pem-file, application/x-pkcs12]
  issuer:
    description:
      - V(Self) for a self-signed certificate (the service's default), V(Unknown) to get a certificate signing request
        (see RV(operation.csr)), or the name of an issuer configured in the vault (such as one for DigiCert or GlobalSign).
    type: str
  ekus:
    description:
      - Extended key usages, as object identifiers or as one of the names V(serverAuth), V(clientAuth),
        V(codeSigning), V(emailProtection), V(timeStamping), V(OCSPSigning). The service's default is serverAuth and
        clientAuth.
    type: list
    elements: str
  key_usage:
    description:
      - Key usages. The service's default is V(digitalSignature) and V(keyEncipherment).
    type: list
    elements: str
    choices: [digitalSignature, nonRepudiation, keyEncipherment, dataEncipherment, keyAgreement, keyCertSign, cRLSign,
              encipherOnly, decipherOnly]
  lifetime_actions:
    description:
      - What the vault does by itself as a version ages. The service's default is to renew at 80% of the lifetime
        (e-mail the contacts for an V(Unknown) issuer). The vault accepts one action.
    type: list
    elements: dict
    suboptions:
      action:
        description:
          - V(AutoRenew) makes a new version, V(EmailContacts) e-mails the vault's certificate contacts.
        type: str
        required: true
        choices: [AutoRenew, EmailContacts]
      days_before_expiry:
        description:
          - Act this many days before the version expires, at most 27 days for each month of O(validity_in_months).
            Mutually exclusive with O(lifetime_actions[].lifetime_percentage).
        type: int
      lifetime_percentage:
        description:
          - Act when this percentage (1-99) of the lifetime has passed. Mutually exclusive with
            O(lifetime_actions[].days_before_expiry).
        type: int
  policy:
    description:
      - A certificate policy for what the options above do not cover (user principal names, URIs, the issuer's
        certificate type or certificate transparency), in the REST API's shape (C(key_props), C(secret_props),
        C(x509_props) with C(sans), C(lifetime_actions), C(issuer)) or the Azure CLI's (C(keyProperties),
        C(secretProperties), C(x509CertificateProperties) with C(subjectAlternativeNames), C(lifetimeActions),
        C(issuerParameters)), for example the output of C(az keyvault certificate get-default-policy).
      - The flat names of the Python SDK's C(CertificatePolicy), which azure.azcollection's certificate module uses
        (C(issuer_name), C(key_curve_name), C(enhanced_key_usage), C(san_dns_names), C(san_emails),
        C(san_user_principal_names), C(lifetime_actions) entries with C(action) and C(lifetime_percentage) or
        C(days_before_expiry)...), are accepted too.
      - The individual options take precedence over the same field in this dictionary. Read-only members (C(id),
        C(attributes)) are ignored; unknown members are an error.
    type: dict
  enabled:
    description:
      - Whether the current version is enabled. A new version is enabled unless this says otherwise, or it carries over
        the current version's setting.
    type: bool
  tags:
    description:
      - Tags of the current version. When set, the version ends up with exactly these tags; V({}) removes all tags.
        A new version carries over the current tags unless this is set.
    type: dict
  renew_before_expiry_days:
    description:
      - Make a new version when the current one expires within this many days.
      - Mutually exclusive with O(certificate), O(certificate_file), O(signed_certificate) and O(signed_certificate_file).
    type: int
  renew_at_percentage:
    description:
      - Make a new version when this percentage (1-99) of the current version's lifetime has passed.
      - Mutually exclusive with O(certificate), O(certificate_file), O(signed_certificate) and O(signed_certificate_file).
    type: int
  force:
    description:
      - Make a new version on every run, even when nothing differs. The module is then not idempotent.
      - Mutually exclusive with O(certificate), O(certificate_file), O(signed_certificate) and O(signed_certificate_file).
    type: bool
    default: false
  certificate:
    description:
      - A certificate with its private key to import, as a PEM bundle (the private key and the certificates, in any
        order) or as base64-encoded PKCS#12.
      - Mutually exclusive with O(certificate_file).
      - The subject, subject alternative names, key, EKUs, key usages and validity come from the certificate itself,
        so the options and O(policy) fields for them cannot be used with an import.
      - Key Vault does not import an expired certificate; the module refuses one before sending anything.
      - The alias C(cert_data) is azure.azcollection's name for this option.
    type: str
    aliases: [cert_data]
  certificate_file:
    description:
      - Path, on the managed host, of a PEM bundle or a PKCS#12 file (binary or base64) to import. See O(certificate).
      - Mutually exclusive with O(certificate).
    type: path
  password:
    description:
      - Password of an encrypted private key in O(certificate) or O(certificate_file), or of the PKCS#12 file.
    type: str
  signed_certificate:
    description:
      - The certificate an external certificate authority signed for the pending request of an O(issuer=Unknown)
        certificate (RV(operation.csr)), with its chain if the authority gave one. The module merges it into the pending
        version, which completes that version.
      - As PEM (CERTIFICATE blocks, or a PKCS7 block), or as base64-encoded DER (one certificate, or a PKCS#7 bundle
        such as a C(.p7b) file). A private key is refused; the request's key never leaves the vault. The value is kept
        out of the output like a secret, in case a private key comes along by mistake.
      - Before the merge the module checks that one of the given certificates holds the public key of the pending
        request, and fails naming both keys when none does.
      - When no request is pending, the current version must already hold this certificate; the task then changes
        nothing (or only what the other options state). Otherwise the task fails before any write.
      - O(enabled) and O(tags) are set with the merge. The policy options are compared with the merged version as with
        any other version.
      - Mutually exclusive with O(signed_certificate_file), O(certificate), O(certificate_file), O(force),
        O(renew_before_expiry_days) and O(renew_at_percentage).
    type: str
  signed_certificate_file:
    description:
      - Path, on the managed host, of the signed certificate and its chain, as PEM, DER or base64 text. See
        O(signed_certificate).
      - Mutually exclusive with O(signed_certificate), O(certificate), O(certificate_file), O(force),
        O(renew_before_expiry_days) and O(renew_at_percentage).
    type: path
  wait:
    description:
      - Wait until a creation operation completes. With V(false) the module returns as soon as the operation is
        started (or found pending), with RV(certificate.pending=true) and the operation in RV(operation).
      - In check mode the module never waits.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for a creation operation. When it has not completed by then, the module fails; the operation
        carries on in the vault and a later run waits for it.
    type: int
    default: 300
  recover:
    description:
      - With O(state=present), recover the certificate when it is deleted but still recoverable, then bring it in line
        with the task. Without it, such a certificate makes the task fail.
    type: bool
    default: false
  purge:
    description:
      - With O(state=absent), also purge the deleted certificate, so that it cannot be recovered and its name can be
        reused at once. Also purges a certificate that was deleted earlier.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: A self-signed certificate for the web servers (a repeat run changes nothing)
  keyvault.azure.certificate:
    vault_url: https://myvault.vault.azure.net
    name: web-tls
    subject: CN=www.example.com
    dns_names: [www.example.com, example.com]
    content_type: PEM
    validity_in_months: 12
    tags:
      app: shop

- name: An EC key, renewed by the module when less than 30 days are left
  keyvault.azure.certificate:
    vault_url: https://myvault.vault.azure.net
    name: api-tls
    subject: CN=api.example.com
    key_type: EC
    curve: P-384
    renew_before_expiry_days: 30

- name: Let the vault renew by itself at 75% of the lifetime
  keyvault.azure.certificate:
    vault_url: https://myvault.vault.azure.net
    name: web-tls
    subject: CN=www.example.com
    lifetime_actions:
      - action: AutoRenew
        lifetime_percentage: 75

- name: Get a certificate signing request for an external certificate authority
  keyvault.azure.certificate:
    vault_url: https://myvault.vault.azure.net
    name: partner-tls
    subject: CN=partner.example.com
    issuer: Unknown
  register: request

- name: Save the request for the certificate authority
  ansible.builtin.copy:
    content: "{{ request.operation.csr }}"
    dest: /tmp/partner-tls.csr
    mode: "0644"
  when: request.operation is not none

- name: Complete it with the certificate the authority signed (a repeat run changes nothing)
  keyvault.azure.certificate:
    vault_url: https://myvault.vault.azure.net
    name: partner-tls
    subject: CN=partner.example.com
    issuer: Unknown
    signed_certificate_file: /tmp/partner-tls.crt

- name: Import a PKCS#12 file once (idempotent by thumbprint)
  keyvault.azure.certificate:
    vault_url: https://myvault.vault.azure.net
    name: legacy-tls
    certificate_file: /etc/pki/legacy.pfx
    password: "{{ legacy_pfx_password }}"

- name: Start a creation and come back for it later
  keyvault.azure.certificate:
    vault_url: https://myvault.vault.azure.net
    name: slow-ca-tls
    subject: CN=slow.example.com
    issuer: my-digicert-issuer
    wait: false

- name: A policy from the Azure CLI, with a user principal name the options do not cover
  keyvault.azure.certificate:
    vault_url: https://myvault.vault.azure.net
    name: user-auth
    policy:
      x509CertificateProperties:
        subject: CN=alice
        subjectAlternativeNames:
          upns: [alice@example.com]
        ekus: [1.3.6.1.5.5.7.3.2]

- name: Delete a certificate and purge it so that the name can be reused
  keyvault.azure.certificate:
    vault_url: https://myvault.vault.azure.net
    name: old-tls
    state: absent
    purge: true
"""

RETURN = r"""
certificate:
  description:
    - The certificate's current version after the task (predicted in check mode). Empty after O(state=absent).
    - In check mode, values of a version still to be created (its id, version, thumbprint, dates) are V(null).
  returned: always
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
      description: SHA-1 thumbprint of the X.509 certificate, in upper-case hexadecimal. V(null) while pending.
      type: str
      sample: 5A7B0C3E43A2F1AC1D4E0A1E2F7C4B0D9E8F6A21
    x5t:
      description: The same thumbprint, base64url-encoded as the vault reports it.
      type: str
      sample: WnsMPkOi8awdTgoeL3xLDZ6PaiE
    subject:
      description: Subject of the X.509 certificate (RFC 4514). V(null) while pending.
      type: str
      sample: CN=www.example.com
    sans:
      description: Subject alternative names of the X.509 certificate, by kind (dns_names, ip_addresses, emails, upns, uris).
      type: dict
      sample: {dns_names: [www.example.com, example.com]}
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
      description: The vault's deletion recovery level for the certificate.
      type: str
      sample: Recoverable+Purgeable
    recoverable_days:
      description: Days a deleted certificate stays recoverable.
      type: int
      sample: 90
    secret_id:
      description: Id of the backing secret version, which holds the certificate with its private key.
      type: str
      sample: https://myvault.vault.azure.net/secrets/web-tls/0e5ca05ab3e54e7c96f5d97a5d2ebd4f
    key_id:
      description: Id of the key version.
      type: str
      sample: https://myvault.vault.azure.net/keys/web-tls/0e5ca05ab3e54e7c96f5d97a5d2ebd4f
    pending:
      description: Whether the version is still being created (it has no X.509 certificate yet).
      type: bool
      sample: false
    policy:
      description:
        - The certificate's policy, with the option names of this module, plus C(upns) and C(uris) (subject alternative
          names), C(certificate_type) and C(certificate_transparency) (of the issuer).
        - C(content_type) is the MIME type, V(application/x-pkcs12) or V(application/x-pem-file), whichever name the
          task used.
      type: dict
      sample:
        subject: CN=www.example.com
        dns_names: [www.example.com]
        ip_addresses: null
        emails: null
        upns: null
        uris: null
        key_type: RSA
        key_size: 2048
        curve: null
        exportable: true
        reuse_key: false
        ekus: [1.3.6.1.5.5.7.3.1, 1.3.6.1.5.5.7.3.2]
        key_usage: [digitalSignature, keyEncipherment]
        validity_in_months: 12
        content_type: application/x-pem-file
        issuer: Self
        certificate_type: null
        certificate_transparency: null
        lifetime_actions: [{action: AutoRenew, lifetime_percentage: 80}]
reasons:
  description: Why the task makes a new version (or imports one), in words. Empty when it does not.
  returned: always
  type: list
  elements: str
  sample: ["it expires on 2026-02-01T10:20:30Z, within renew_before_expiry_days=30"]
operation:
  description:
    - The creation operation, when one is still pending after the task (O(wait=false), an V(Unknown) issuer, check
      mode), when the task waited for one that another run or host had started, or when it completed one with
      O(signed_certificate) or O(signed_certificate_file) (then V(completed); in check mode as it is before the merge).
  returned: when a creation operation was involved, else V(null)
  type: dict
  contains:
    status:
      description: V(inProgress), V(completed), V(failed) or V(cancelled).
      type: str
      sample: inProgress
    status_details:
      description: What the vault says about the status.
      type: str
      sample: Pending certificate created. Please Perform Merge to complete the request.
    issuer:
      description: The issuer the request went to.
      type: str
      sample: Unknown
    csr:
      description: The certificate signing request, PEM-encoded.
      type: str
      sample: "-----BEGIN CERTIFICATE REQUEST-----\nMIIC...\n-----END CERTIFICATE REQUEST-----\n"
    request_id:
      description: Id of the request.
      type: str
      sample: 1f6e2b7c9a0d4e3f8b5a6c7d8e9f0a1b
    cancellation_requested:
      description: Whether cancellation was requested.
      type: bool
      sample: false
    error:
      description: The error of a failed operation (C(code), C(message)).
      type: dict
      sample: null
    started_by_this_task:
      description: Whether this task started the operation (V(false) when it found it pending).
      type: bool
      sample: true
retries:
  description:
    - How many requests the task sent again, after throttling (HTTP 429), a server error or a broken connection.
      O(warn_on_retry=true) adds a warning for each.
  returned: always
  type: int
  sample: 0
"""

import time

try:
    from azure.keyvault.certificates import CertificatePolicy, LifetimeAction
except ImportError:
    # The module wrapper reports the missing library before any of these is needed.
    pass

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.keyvault.azure.plugins.module_utils._cert_creation import CertificateCreation, is_unknown_issuer
from ansible_collections.keyvault.azure.plugins.module_utils._cert_material import (
    CRYPTOGRAPHY_IMPORT_ERROR,
    HAS_CRYPTOGRAPHY,
    build_import_payload,
    certificate_der,
    chain_for_request,
    describe_signed,
    load_material,
    load_signed_certificates,
    thumbprint,
)
from ansible_collections.keyvault.azure.plugins.module_utils._cert_policy import (
    DESCRIBED_BY_IMPORT,
    KEY_USAGES,
    check_lifetime_fits_validity,
    desired_policy,
    empty_policy,
    has_subject_or_name,
    import_policy,
    merged_policy,
    policy_from_sdk,
    sdk_policy_arguments,
)
from ansible_collections.keyvault.azure.plugins.module_utils._cert_state import (
    diff_view,
    operation_to_result,
    plan_present,
    properties_after,
    renewal_reason,
    state_after,
    state_from_certificate,
    to_result,
)
from ansible_collections.keyvault.azure.plugins.module_utils._identifiers import KeyVaultInputError, check_object_name
from ansible_collections.keyvault.azure.plugins.module_utils._module import KeyVaultModule, SoftDeletable
from ansible_collections.keyvault.azure.plugins.module_utils._tags import normalize_tags

POLICY_OPTIONS = ('subject', 'dns_names', 'ip_addresses', 'emails', 'validity_in_months', 'key_type', 'key_size', 'curve', 'exportable',
                  'reuse_key', 'content_type', 'issuer', 'ekus', 'key_usage', 'lifetime_actions')


class CertificateTask(object):
    """One run of the module against one certificate."""

    def __init__(self, vault):
        self.vault = vault
        self.params = vault.params
        self.client = vault.certificate_client()
        self.name = check_object_name(self.params['name'], 'certificate')
        self.label = "certificate '%s'" % self.name
        self.where = 'vault %s' % vault.vault_url
        self.soft_delete = SoftDeletable(vault, self.call, self.client, 'certificate', self.name, self.label)
        self.creation = CertificateCreation(self.call, self.client, self.name, self.label, self.where,
                                            wait=self.params['wait'] and not vault.check_mode, wait_timeout=self.params['wait_timeout'])

    def call(self, permission, function, *args, **kwargs):
        return self.vault.call(permission, self.label, function, *args, **kwargs)

    # what the task asks for

    def desired(self):
        params = self.params
        stated = dict((option, params[option]) for option in POLICY_OPTIONS)
        if stated['lifetime_actions'] is not None:
            stated['lifetime_actions'] = [dict((key, value) for key, value in action.items() if value is not None)
                                          for action in stated['lifetime_actions']]
        policy = desired_policy(params['policy'], **stated)
        properties = {'enabled': params['enabled'], 'tags': normalize_tags(params['tags'])}
        return policy, properties

    def material(self, policy):
        """The LoadedMaterial of certificate / certificate_file, or None."""
        params = self.params
        if params['certificate'] is None and params['certificate_file'] is None:
            if params['password'] is not None:
                raise KeyVaultInputError('password needs certificate or certificate_file')
            return None
        stated = [field for field in DESCRIBED_BY_IMPORT if policy[field] is not None]
        if stated:
            raise KeyVaultInputError('%s cannot be set for an import: they come from the imported certificate' % ', '.join(stated))
        if params['certificate'] is not None:
            return load_material(params['certificate'].encode('utf-8'), params['password'], 'certificate')
        source = 'certificate_file %s' % params['certificate_file']
        return load_material(read_file(params['certificate_file'], source), params['password'], source)

    def signed_input(self):
        """(the certificates of signed_certificate / signed_certificate_file, the option's name for messages), or (None, None)."""
        params = self.params
        if params['signed_certificate'] is not None:
            return load_signed_certificates(params['signed_certificate'].encode('utf-8'), 'signed_certificate'), 'signed_certificate'
        if params['signed_certificate_file'] is None:
            return None, None
        source = 'signed_certificate_file %s' % params['signed_certificate_file']
        return load_signed_certificates(read_file(params['signed_certificate_file'], source), source), source

    # state: present

    def present(self):
        policy, properties = self.desired()
        material = self.material(policy)
        signed, signed_source = self.signed_input()
        certificate, recovered = self.current_or_recovered()
        current = state_or_none(certificate)
        awaited = None
        merged_from = None
        if certificate is not None and not certificate.cer:
            outcome = self.creation.follow_pending(certificate)
            if outcome is not None and outcome.pending and signed is not None:
                merged_from = current
                current, awaited = self.merge(signed, signed_source, properties, current, outcome.operation)
            elif outcome is not None and outcome.pending:
                return pending_result(recovered, outcome)
            elif outcome is not None:
                current, awaited = state_or_none(outcome.certificate), outcome.operation
        if signed is not None and merged_from is None:
            self.check_holds_signed(signed, signed_source, current)
        # At most twice: a second pass compares what another run's creation made, which this run waited for.
        for may_await_other in (True, False):
            result, new_version = self.converge(policy, properties, material, current, recovered, merged_from)
            if new_version is None:
                break
            outcome = self.creation.create(self.sdk_policy(new_version['policy']), new_version['enabled'], new_version['tags'], may_await_other)
            if outcome.pending:
                return pending_result(recovered or outcome.started_here, outcome)
            if outcome.started_here:
                result['certificate'] = to_result(state_from_certificate(outcome.certificate))
                break
            current, awaited = state_or_none(outcome.certificate), outcome.operation
        if awaited is not None and result['operation'] is None:
            result['operation'] = operation_to_result(awaited, started_here=False)
        return result

    def current_or_recovered(self):
        """(current KeyVaultCertificate or None, whether the task recovers a deleted one)."""
        certificate = self.creation.read_current()
        if certificate is not None:
            return certificate, False
        deleted = self.soft_delete.recover_deleted(self.params['recover'])
        if deleted is None:
            return None, False
        return (deleted if self.vault.check_mode else self.creation.read_current()), True

    def converge(self, policy, properties, material, current, recovered, merged_from=None):
        """The result of bringing ``current`` (a CertificateState or None) in line, and the version still to create (or None).

        Updates and imports are carried out here; a version to create is returned as the policy to
        send (the stated fields over the current policy) and the enabled/tags it gets.
        ``merged_from`` is the pending version this run completed with a signed certificate (its
        state before the merge), which the diff shows as before.
        """
        params = self.params
        import_payload = None
        import_thumbprint = None
        if material is not None:
            # Unless stated, an import keeps the format the certificate has, or else takes the material's.
            current_content_type = (current.policy or {}).get('content_type') if current is not None else None
            import_payload = build_import_payload(material, policy['content_type'] or current_content_type or material.content_type)
            import_thumbprint = import_payload.description['thumbprint']
        renewal = None
        if current is not None and current.issued and material is None:
            renewal = renewal_reason(current, int(time.time()), params['renew_before_expiry_days'], params['renew_at_percentage'])
        plan = plan_present(policy, properties, current, renewal=renewal, force=params['force'], import_thumbprint=import_thumbprint)
        stated = dict(policy, content_type=import_payload.content_type) if import_payload is not None else policy
        after = state_after(plan, stated, properties, current, self.name, import_payload.description if import_payload is not None else None)
        if plan.action == 'create' and not has_subject_or_name(after.policy):
            raise KeyVaultInputError('%s does not exist in %s; subject or dns_names (or another subject alternative name) is needed to '
                                     'create it' % (self.label, self.where))
        if plan.action in ('create', 'new_version') or (plan.action == 'update' and plan.policy_fields):
            # Only now is the validity known that a task leaving validity_in_months out gets (the current or the default one).
            check_lifetime_fits_validity(after.policy)
        diff = {'before': diff_view(None, lifecycle='deleted') if recovered else diff_view(merged_from if merged_from is not None else current),
                'after': diff_view(after, new_version=plan.action in ('create', 'new_version', 'import'))}
        reasons = (['the signed certificate completes the pending request'] if merged_from is not None else []) + plan.reasons
        result = dict(changed=recovered or merged_from is not None or plan.action != 'none', diff=diff, certificate=to_result(after),
                      operation=None, reasons=reasons)
        if plan.action in ('create', 'new_version') and not params['wait']:
            result['certificate']['pending'] = True
        if self.vault.check_mode or plan.action == 'none':
            return result, None
        if plan.action == 'update':
            result['certificate'] = to_result(self.update(plan, policy, properties, current))
            return result, None
        if plan.action == 'import':
            result['certificate'] = to_result(state_from_certificate(self.import_certificate(import_payload, policy, after, current)))
            return result, None
        # With the stated fields over the current policy; the service fills in the rest for a new certificate.
        sent_policy = merged_policy(policy, current.policy or empty_policy()) if current is not None else policy
        return result, {'policy': sent_policy, 'enabled': after.enabled, 'tags': after.tags}

    # completing a pending request

    def merge(self, signed, source, properties, pending, operation):
        """(the version once ``signed`` completes ``pending``, the operation): predicted in check mode.

        The certificate must hold the public key of the pending request, checked here rather than
        left to the vault, so that a wrong certificate fails naming both keys before any write.
        """
        if not is_unknown_issuer(operation.issuer_name):
            raise KeyVaultInputError('%s cannot complete the pending creation of %s in %s: it goes to issuer %s, which issues the certificate '
                                     'itself; only a request for issuer Unknown takes a signed certificate' % (
                                         source, self.label, self.where, operation.issuer_name))
        chain = chain_for_request(signed, operation.csr, '%s for %s' % (source, self.label))
        if self.vault.check_mode:
            described = describe_signed(chain[0])
            predicted = dict((field, described[field]) for field in ('thumbprint', 'x5t', 'subject', 'sans', 'not_before', 'expires'))
            return pending.replace(issued=True, **dict(predicted, **properties_after(properties, pending))), operation
        merged = self.creation.merge([certificate_der(certificate) for certificate in chain], enabled=properties['enabled'], tags=properties['tags'])
        return state_from_certificate(merged), self.creation.read_operation()

    def check_holds_signed(self, signed, source, current):
        """With no request pending, the signed certificate must be the one the current version already holds."""
        if current is not None and current.issued and current.thumbprint in [thumbprint(certificate_der(c)) for c in signed]:
            return
        if current is None:
            found = 'the certificate does not exist'
        elif current.issued:
            found = 'the current version holds another certificate (thumbprint %s)' % current.thumbprint
        else:
            found = 'the current version was never issued'
        raise KeyVaultInputError('%s does not match %s in %s: no request is pending to merge it into and %s; create the request with '
                                 'issuer: Unknown first' % (source, self.label, self.where, found))

    # writing

    def sdk_policy(self, policy):
        arguments = sdk_policy_arguments(policy)
        if 'lifetime_actions' in arguments:
            arguments['lifetime_actions'] = [LifetimeAction(action['action'], lifetime_percentage=action.get('lifetime_percentage'),
                                                            days_before_expiry=action.get('days_before_expiry'))
                                             for action in arguments['lifetime_actions']]
        return CertificatePolicy(**arguments)

    def update(self, plan, policy, properties, current):
        state = current
        if plan.policy_fields:
            updated = self.call('certificates/update', self.client.update_certificate_policy, self.name,
                                self.sdk_policy(merged_policy(policy, current.policy or empty_policy())))
            state = state.replace(policy=policy_from_sdk(updated))
        if plan.property_fields:
            changes = dict((field, properties[field]) for field in plan.property_fields)
            updated = self.call('certificates/update', self.client.update_certificate_properties, self.name, current.version, **changes)
            state = state_from_certificate(updated)
        return state

    def import_certificate(self, import_payload, policy, after, current):
        base = current.policy if current is not None and current.policy else empty_policy()
        sent_policy = import_policy(dict(merged_policy(policy, base), content_type=import_payload.content_type), import_payload.description['key_type'])
        return self.call('certificates/import', self.client.import_certificate, self.name, import_payload.value, enabled=after.enabled,
                         tags=after.tags, policy=self.sdk_policy(sent_policy))

    # state: absent

    def absent(self):
        changed, before, after = self.soft_delete.converge_absent(self.creation.read_current() is not None, self.params['purge'])
        return absent_result(changed, before, after)


def state_or_none(certificate):
    return state_from_certificate(certificate) if certificate is not None else None


def pending_result(changed, outcome):
    """The result while a creation is pending (or found pending): the certificate as it is and the operation."""
    state = state_or_none(outcome.certificate)
    view = diff_view(state)
    return dict(changed=changed, certificate=to_result(state), operation=operation_to_result(outcome.operation, started_here=outcome.started_here),
                diff={'before': view, 'after': view}, reasons=[])


def absent_result(changed, before, after):
    return dict(changed=changed, certificate={}, operation=None, reasons=[],
                diff={'before': diff_view(None, lifecycle=before), 'after': diff_view(None, lifecycle=after)})


def read_file(path, source):
    """The bytes of a file on the managed host that an option names; ``source`` names the option in messages."""
    try:
        with open(path, 'rb') as material_file:
            return material_file.read()
    except (IOError, OSError) as error:
        raise KeyVaultInputError('%s cannot be read: %s' % (source, error.strerror or error))


def check_options(params):
    if params['renew_before_expiry_days'] is not None and params['renew_before_expiry_days'] < 1:
        raise KeyVaultInputError('renew_before_expiry_days must be at least 1, got %d' % params['renew_before_expiry_days'])
    if params['renew_at_percentage'] is not None and not 1 <= params['renew_at_percentage'] <= 99:
        raise KeyVaultInputError('renew_at_percentage must be between 1 and 99, got %d' % params['renew_at_percentage'])
    if params['wait_timeout'] < 1:
        raise KeyVaultInputError('wait_timeout must be at least 1, got %d' % params['wait_timeout'])


def run(vault):
    if not HAS_CRYPTOGRAPHY:
        vault.fail_json(missing_required_lib('cryptography'), exception=CRYPTOGRAPHY_IMPORT_ERROR)
    check_options(vault.params)
    task = CertificateTask(vault)
    vault.exit_json(**(task.absent() if vault.params['state'] == 'absent' else task.present()))


def main():
    exclusive_with_renewal = [(source, option) for source in ('certificate', 'certificate_file', 'signed_certificate', 'signed_certificate_file')
                              for option in ('force', 'renew_before_expiry_days', 'renew_at_percentage')]
    exclusive_with_merge = [(signed, source) for signed in ('signed_certificate', 'signed_certificate_file')
                            for source in ('certificate', 'certificate_file')]
    vault = KeyVaultModule(
        argument_spec=dict(
            name=dict(type='str', required=True),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            subject=dict(type='str'),
            dns_names=dict(type='list', elements='str'),
            ip_addresses=dict(type='list', elements='str'),
            emails=dict(type='list', elements='str'),
            validity_in_months=dict(type='int'),
            key_type=dict(type='str', choices=['RSA', 'RSA-HSM', 'EC', 'EC-HSM'], no_log=False),
            key_size=dict(type='int', no_log=False),
            curve=dict(type='str', choices=['P-256', 'P-384', 'P-521', 'P-256K']),
            exportable=dict(type='bool'),
            reuse_key=dict(type='bool', no_log=False),
            content_type=dict(type='str', choices=['PEM', 'PKCS12', 'application/x-pem-file', 'application/x-pkcs12']),
            issuer=dict(type='str'),
            ekus=dict(type='list', elements='str'),
            key_usage=dict(type='list', elements='str', choices=list(KEY_USAGES), no_log=False),
            lifetime_actions=dict(
                type='list', elements='dict',
                options=dict(
                    action=dict(type='str', required=True, choices=['AutoRenew', 'EmailContacts']),
                    days_before_expiry=dict(type='int'),
                    lifetime_percentage=dict(type='int'),
                ),
                mutually_exclusive=[('days_before_expiry', 'lifetime_percentage')],
                required_one_of=[('days_before_expiry', 'lifetime_percentage')],
            ),
            policy=dict(type='dict'),
            enabled=dict(type='bool'),
            tags=dict(type='dict'),
            renew_before_expiry_days=dict(type='int'),
            renew_at_percentage=dict(type='int'),
            force=dict(type='bool', default=False),
            certificate=dict(type='str', no_log=True, aliases=['cert_data']),
            certificate_file=dict(type='path'),
            password=dict(type='str', no_log=True),
            # Not a secret, but a bundle pasted with its private key by mistake must stay out of the output too.
            signed_certificate=dict(type='str', no_log=True),
            signed_certificate_file=dict(type='path'),
            wait=dict(type='bool', default=True),
            wait_timeout=dict(type='int', default=300),
            recover=dict(type='bool', default=False),
            purge=dict(type='bool', default=False),
        ),
        mutually_exclusive=[('certificate', 'certificate_file'), ('signed_certificate', 'signed_certificate_file')] + exclusive_with_renewal +
        exclusive_with_merge,
        supports_check_mode=True,
    )
    vault.run(run)


if __name__ == '__main__':
    main()
