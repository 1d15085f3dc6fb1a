# -*- coding: utf-8 -*-
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment(object):

    # Who the plugins authenticate as. The argument spec in plugins/module_utils/_options.py
    # mirrors these entries; a unit test keeps them equal.
    DOCUMENTATION = r"""
options:
  auth_source:
    description:
      - How to get a Microsoft Entra token for the vault. Every source is an C(azure-identity) credential.
      - V(managed_identity) uses the managed identity of the host the plugin runs on (the Azure
        Instance Metadata Service on a VM, or App Service, Arc, Cloud Shell...), either the system-assigned identity
        or a user-assigned one chosen with one of O(client_id), O(object_id) or O(resource_id).
      - V(auto) tries azure-identity's C(DefaultAzureCredential) chain (environment, workload identity,
        managed identity, Azure CLI, Azure PowerShell, Azure Developer CLI...). O(client_id) selects a
        user-assigned managed identity.
      - V(cli) uses the account signed in to the Azure CLI (C(az login)), optionally in O(tenant_id).
      - V(service_principal) signs in as an application with O(tenant_id), O(client_id) and either
        O(client_secret) or O(client_certificate_path).
      - V(workload_identity) exchanges a federated token file (Kubernetes workload identity) using
        O(tenant_id), O(client_id) and O(federated_token_file), each defaulting to azure-identity's
        E(AZURE_TENANT_ID), E(AZURE_CLIENT_ID) and E(AZURE_FEDERATED_TOKEN_FILE).
      - V(environment) uses azure-identity's C(EnvironmentCredential), configured only through its
        E(AZURE_*) environment variables.
      - An option that the chosen source does not use is an error, so that a typo cannot silently
        authenticate as someone else.
      - Modules fall back to the environment variable E(ANSIBLE_KEYVAULT_AUTH_SOURCE).
    type: str
    default: managed_identity
    choices: [managed_identity, auto, cli, service_principal, workload_identity, environment]
  client_id:
    description:
      - With O(auth_source=managed_identity) or O(auth_source=auto), the client ID of a user-assigned
        managed identity.
      - With O(auth_source=service_principal) or O(auth_source=workload_identity), the application (client) ID.
      - Mutually exclusive with O(object_id) and O(resource_id).
      - Modules fall back to the environment variable E(ANSIBLE_KEYVAULT_CLIENT_ID).
    type: str
  object_id:
    description:
      - The object (principal) ID of a user-assigned managed identity. Only with O(auth_source=managed_identity).
      - Mutually exclusive with O(client_id) and O(resource_id).
      - Modules fall back to the environment variable E(ANSIBLE_KEYVAULT_OBJECT_ID).
    type: str
  resource_id:
    description:
      - The Azure resource ID of a user-assigned managed identity. Only with O(auth_source=managed_identity).
      - Mutually exclusive with O(client_id) and O(object_id).
      - Modules fall back to the environment variable E(ANSIBLE_KEYVAULT_RESOURCE_ID).
    type: str
  tenant_id:
    description:
      - The Microsoft Entra tenant (directory) ID. Required with O(auth_source=service_principal);
        used by O(auth_source=cli) and O(auth_source=workload_identity).
      - Modules fall back to the environment variable E(ANSIBLE_KEYVAULT_TENANT_ID).
    type: str
  client_secret:
    description:
      - The application's client secret. Only with O(auth_source=service_principal).
      - Mutually exclusive with O(client_certificate_path).
      - Modules fall back to the environment variable E(ANSIBLE_KEYVAULT_CLIENT_SECRET).
    type: str
  client_certificate_path:
    description:
      - Path to a PEM or PKCS#12 file holding the application's certificate and private key.
        Only with O(auth_source=service_principal).
      - Mutually exclusive with O(client_secret).
      - Modules fall back to the environment variable E(ANSIBLE_KEYVAULT_CLIENT_CERTIFICATE_PATH).
    type: path
  client_certificate_password:
    description:
      - Password of the file in O(client_certificate_path), if it is encrypted.
      - Modules fall back to the environment variable E(ANSIBLE_KEYVAULT_CLIENT_CERTIFICATE_PASSWORD).
    type: str
  federated_token_file:
    description:
      - Path to the federated token file for O(auth_source=workload_identity).
      - Modules fall back to the environment variable E(ANSIBLE_KEYVAULT_FEDERATED_TOKEN_FILE).
    type: path
"""

    # Extra sources lookups (and other controller-side plugins) read the same options from.
    PLUGINS = r"""
options:
  auth_source:
    env:
      - name: ANSIBLE_KEYVAULT_AUTH_SOURCE
    ini:
      - section: keyvault_azure
        key: auth_source
    vars:
      - name: ansible_keyvault_auth_source
  client_id:
    env:
      - name: ANSIBLE_KEYVAULT_CLIENT_ID
    ini:
      - section: keyvault_azure
        key: client_id
    vars:
      - name: ansible_keyvault_client_id
  object_id:
    env:
      - name: ANSIBLE_KEYVAULT_OBJECT_ID
    ini:
      - section: keyvault_azure
        key: object_id
    vars:
      - name: ansible_keyvault_object_id
  resource_id:
    env:
      - name: ANSIBLE_KEYVAULT_RESOURCE_ID
    ini:
      - section: keyvault_azure
        key: resource_id
    vars:
      - name: ansible_keyvault_resource_id
  tenant_id:
    env:
      - name: ANSIBLE_KEYVAULT_TENANT_ID
    ini:
      - section: keyvault_azure
        key: tenant_id
    vars:
      - name: ansible_keyvault_tenant_id
  client_secret:
    env:
      - name: ANSIBLE_KEYVAULT_CLIENT_SECRET
    ini:
      - section: keyvault_azure
        key: client_secret
    vars:
      - name: ansible_keyvault_client_secret
  client_certificate_path:
    env:
      - name: ANSIBLE_KEYVAULT_CLIENT_CERTIFICATE_PATH
    ini:
      - section: keyvault_azure
        key: client_certificate_path
    vars:
      - name: ansible_keyvault_client_certificate_path
  client_certificate_password:
    env:
      - name: ANSIBLE_KEYVAULT_CLIENT_CERTIFICATE_PASSWORD
    ini:
      - section: keyvault_azure
        key: client_certificate_password
    vars:
      - name: ansible_keyvault_client_certificate_password
  federated_token_file:
    env:
      - name: ANSIBLE_KEYVAULT_FEDERATED_TOKEN_FILE
    ini:
      - section: keyvault_azure
        key: federated_token_file
    vars:
      - name: ansible_keyvault_federated_token_file
"""
