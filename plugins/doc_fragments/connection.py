# -*- coding: utf-8 -*-
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment(object):

    # How every plugin reaches a vault. The argument spec in
    # plugins/module_utils/_options.py mirrors these entries; a unit test keeps them equal.
    DOCUMENTATION = r"""
options:
  vault_url:
    description:
      - URL of the key vault, for example V(https://myvault.vault.azure.net).
      - Only the scheme, host and port are used; the URL must use C(https).
      - Mutually exclusive with O(vault_name).
      - Modules fall back to the environment variable E(ANSIBLE_KEYVAULT_URL).
    type: str
  vault_name:
    description:
      - Name of the key vault. The URL is built from the name and the DNS suffix of O(cloud).
      - Mutually exclusive with O(vault_url).
      - Modules fall back to the environment variable E(ANSIBLE_KEYVAULT_NAME).
    type: str
  cloud:
    description:
      - The Azure cloud the vault lives in. It chooses the vault DNS suffix used with O(vault_name)
        and the Microsoft Entra authority used by O(auth_source=service_principal),
        O(auth_source=workload_identity) and O(auth_source=auto).
      - When not set, V(AzureCloud) is used, and a O(vault_url) on any domain is accepted.
        When set together with O(vault_url), the URL's host must end with the cloud's vault DNS suffix.
      - Modules fall back to the environment variable E(ANSIBLE_KEYVAULT_CLOUD).
    type: str
    choices: [AzureCloud, AzureUSGovernment, AzureChinaCloud]
  api_version:
    description:
      - Pins the Key Vault REST API version, for example V(7.5). By default the newest version the
        installed Azure SDK knows is used.
      - Modules fall back to the environment variable E(ANSIBLE_KEYVAULT_API_VERSION).
    type: str
  timeout:
    description:
      - Seconds to wait for a connection to the vault and for each response.
      - The token requests of the credential (managed identity, workload identity, service principal) wait as long,
        and are retried at most O(retries) times; the Azure CLI (O(auth_source=cli)) must answer within this time.
      - Modules fall back to the environment variable E(ANSIBLE_KEYVAULT_TIMEOUT).
    type: int
    default: 30
  retries:
    description:
      - How many times a request is retried after a throttling answer (HTTP 429), a server error
        (HTTP 408, 500, 502, 503, 504) or a failed connection. V(0) disables retries.
      - Retries wait for the time the vault asks for in its C(Retry-After) header, or else back off
        exponentially (see O(retry_backoff)).
      - A write whose response is lost (the connection broke or timed out after it was sent) is not sent again
        blindly, since the vault may have carried it out. The module reads the object again and writes once more
        only when the write did not land and the connection broke.
      - Modules fall back to the environment variable E(ANSIBLE_KEYVAULT_RETRIES).
    type: int
    default: 4
  retry_backoff:
    description:
      - Backoff factor in seconds between retries that come without a C(Retry-After) header.
        The wait before retry number N (from the second on) is O(retry_backoff) * 2^(N-1) seconds.
      - Modules fall back to the environment variable E(ANSIBLE_KEYVAULT_RETRY_BACKOFF).
    type: float
    default: 0.8
  warn_on_retry:
    description:
      - Emit a warning for every retried request, naming the request and why it was retried.
      - Modules fall back to the environment variable E(ANSIBLE_KEYVAULT_WARN_ON_RETRY).
    type: bool
    default: false
  validate_certs:
    description:
      - Whether to verify the vault's TLS certificate. Only turn this off for a throw-away test vault;
        prefer O(ca_cert).
      - Modules fall back to the environment variable E(ANSIBLE_KEYVAULT_VALIDATE_CERTS).
    type: bool
    default: true
  ca_cert:
    description:
      - Path to a PEM bundle of the certificate authorities trusted for the vault's TLS certificate,
        instead of the system's trust store. For a module, the path is on the managed host.
      - Modules fall back to the environment variable E(ANSIBLE_KEYVAULT_CA_CERT).
    type: path
  verify_challenge_resource:
    description:
      - Whether the resource named in the vault's authentication challenge must match the domain of
        the vault URL, as the Azure SDK checks by default.
      - Turn this off only for a vault that is not on an Azure domain, such as the local vault
        emulator on V(https://localhost).
      - Modules fall back to the environment variable E(ANSIBLE_KEYVAULT_VERIFY_CHALLENGE_RESOURCE).
    type: bool
    default: true
  proxy:
    description:
      - URL of an HTTP(S) proxy for the requests to the vault and to Microsoft Entra, for example
        V(http://proxy.example.com:3128).
      - When not set, the usual E(HTTPS_PROXY), E(HTTP_PROXY) and E(NO_PROXY) environment variables apply.
      - Modules fall back to the environment variable E(ANSIBLE_KEYVAULT_PROXY).
    type: str
notes:
  - Modules take each connection and authentication option from the task (or from C(module_defaults) for the
    C(group/keyvault.azure.all) action group) and, when it is not set there, from its E(ANSIBLE_KEYVAULT_*)
    environment variable on the managed host, then use the documented default.
"""

    # Extra sources lookups (and other controller-side plugins) read the same options from.
    PLUGINS = r"""
options:
  vault_url:
    env:
      - name: ANSIBLE_KEYVAULT_URL
    ini:
      - section: keyvault_azure
        key: vault_url
    vars:
      - name: ansible_keyvault_vault_url
  vault_name:
    env:
      - name: ANSIBLE_KEYVAULT_NAME
    ini:
      - section: keyvault_azure
        key: vault_name
    vars:
      - name: ansible_keyvault_vault_name
  cloud:
    env:
      - name: ANSIBLE_KEYVAULT_CLOUD
    ini:
      - section: keyvault_azure
        key: cloud
    vars:
      - name: ansible_keyvault_cloud
  api_version:
    env:
      - name: ANSIBLE_KEYVAULT_API_VERSION
    ini:
      - section: keyvault_azure
        key: api_version
    vars:
      - name: ansible_keyvault_api_version
  timeout:
    env:
      - name: ANSIBLE_KEYVAULT_TIMEOUT
    ini:
      - section: keyvault_azure
        key: timeout
    vars:
      - name: ansible_keyvault_timeout
  retries:
    env:
      - name: ANSIBLE_KEYVAULT_RETRIES
    ini:
      - section: keyvault_azure
        key: retries
    vars:
      - name: ansible_keyvault_retries
  retry_backoff:
    env:
      - name: ANSIBLE_KEYVAULT_RETRY_BACKOFF
    ini:
      - section: keyvault_azure
        key: retry_backoff
    vars:
      - name: ansible_keyvault_retry_backoff
  warn_on_retry:
    env:
      - name: ANSIBLE_KEYVAULT_WARN_ON_RETRY
    ini:
      - section: keyvault_azure
        key: warn_on_retry
    vars:
      - name: ansible_keyvault_warn_on_retry
  validate_certs:
    env:
      - name: ANSIBLE_KEYVAULT_VALIDATE_CERTS
    ini:
      - section: keyvault_azure
        key: validate_certs
    vars:
      - name: ansible_keyvault_validate_certs
  ca_cert:
    env:
      - name: ANSIBLE_KEYVAULT_CA_CERT
    ini:
      - section: keyvault_azure
        key: ca_cert
    vars:
      - name: ansible_keyvault_ca_cert
  verify_challenge_resource:
    env:
      - name: ANSIBLE_KEYVAULT_VERIFY_CHALLENGE_RESOURCE
    ini:
      - section: keyvault_azure
        key: verify_challenge_resource
    vars:
      - name: ansible_keyvault_verify_challenge_resource
  proxy:
    env:
      - name: ANSIBLE_KEYVAULT_PROXY
    ini:
      - section: keyvault_azure
        key: proxy
    vars:
      - name: ansible_keyvault_proxy
notes:
  - Lookups take each connection and authentication option from, in order of precedence, the lookup's own
    keyword arguments, the Ansible variable C(ansible_keyvault_<option>), the environment variable
    E(ANSIBLE_KEYVAULT_*) of the controller, the C([keyvault_azure]) section of C(ansible.cfg), and last the
    documented default.
"""
