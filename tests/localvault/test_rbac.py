"""Azure RBAC in the local vault: each built-in role grants exactly its data actions, at the vault or at one object,
refusals are the service's ForbiddenByRbac answer, and the permission model and assignments change at run time."""

import uuid

import pytest
from azure.core.exceptions import HttpResponseError
from azure.identity import ManagedIdentityCredential
from azure.keyvault.certificates import CertificateClient, CertificatePolicy

from localvault import config as vault_config
from localvault import rbac
from localvault.errors import KeyVaultError
from localvault.server import build_router

# The operations of the data plane, grouped by what the built-in roles' documented data actions let through.
SECRET_METADATA = {"GetSecrets", "GetDeletedSecrets", "GetSecretVersions", "GetDeletedSecret"}
SECRET_VALUE = {"GetSecret"}
SECRET_WRITES = {"SetSecret", "UpdateSecret", "DeleteSecret", "BackupSecret", "RestoreSecret", "PurgeDeletedSecret", "RecoverDeletedSecret"}
CERTIFICATE_READS = {"GetCertificates", "GetDeletedCertificates", "GetCertificate", "GetCertificateVersions", "GetCertificatePolicy",
                     "GetCertificateOperation", "GetDeletedCertificate"}
CERTIFICATE_WRITES = {"CreateCertificate", "MergeCertificate", "ImportCertificate", "UpdateCertificate", "UpdateCertificatePolicy",
                      "UpdateCertificateOperation", "DeleteCertificateOperation", "DeleteCertificate", "BackupCertificate",
                      "RestoreCertificate", "PurgeDeletedCertificate", "RecoverDeletedCertificate"}
ISSUER_READS = {"GetCertificateIssuers", "GetCertificateIssuer"}
ISSUER_WRITES = {"SetCertificateIssuer", "UpdateCertificateIssuer", "DeleteCertificateIssuer"}
CONTACTS = {"GetCertificateContacts", "SetCertificateContacts", "DeleteCertificateContacts"}
EVERY_OPERATION = (SECRET_METADATA | SECRET_VALUE | SECRET_WRITES | CERTIFICATE_READS | CERTIFICATE_WRITES | ISSUER_READS | ISSUER_WRITES
                   | CONTACTS)

# Role -> the operations it allows when assigned at the vault.
AT_THE_VAULT = {
    "Key Vault Administrator": EVERY_OPERATION,
    "Key Vault Reader": SECRET_METADATA | CERTIFICATE_READS | ISSUER_READS,
    "Key Vault Secrets Officer": SECRET_METADATA | SECRET_VALUE | SECRET_WRITES,
    "Key Vault Secrets User": SECRET_METADATA | SECRET_VALUE,
    "Key Vault Certificates Officer": CERTIFICATE_READS | CERTIFICATE_WRITES | ISSUER_READS | ISSUER_WRITES | CONTACTS,
    "Key Vault Certificate User": CERTIFICATE_READS | SECRET_METADATA | SECRET_VALUE,
}
# Operations checked at the vault even though some of them name an object (lists, restore, issuers, contacts).
VAULT_LEVEL = {"GetSecrets", "GetDeletedSecrets", "RestoreSecret", "GetCertificates", "GetDeletedCertificates", "RestoreCertificate"} \
    | ISSUER_READS | ISSUER_WRITES | CONTACTS

CALLER = vault_config.default_identities()[0]


def unique(prefix="rbac"):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def authorization(role, scope):
    return rbac.parse("rbac", [{"identity": CALLER.name, "role": role, "scope": scope}], vault_config.default_identities())


def allowed(grant, operation, name):
    try:
        rbac.authorize(grant, operation, name, CALLER, "/vault", "localvault", "https://sts.windows.net/tenant/")
    except KeyVaultError as refusal:
        assert refusal.status == 403 and refusal.inner_code == "ForbiddenByRbac"
        return False
    return True


def test_every_operation_the_vault_serves_has_a_data_action():
    assert set(build_router().operations()) == set(rbac.OPERATION_ACTIONS) == EVERY_OPERATION


@pytest.mark.parametrize("role", sorted(AT_THE_VAULT))
def test_a_role_at_the_vault_allows_exactly_its_operations_on_every_object(role):
    grant = authorization(role, "/")
    for operation in sorted(EVERY_OPERATION):
        assert allowed(grant, operation, "anything") == (operation in AT_THE_VAULT[role]), operation


@pytest.mark.parametrize("role", sorted(AT_THE_VAULT))
@pytest.mark.parametrize("collection", ["secrets", "certificates"])
def test_a_role_on_one_object_allows_its_operations_on_that_object_only(role, collection):
    grant = authorization(role, f"{collection}/app")
    for operation in sorted(EVERY_OPERATION):
        checked_on_this_object = operation not in VAULT_LEVEL and rbac.OPERATION_ACTIONS[operation][1] == collection
        expected = checked_on_this_object and operation in AT_THE_VAULT[role]
        assert allowed(grant, operation, "app") == expected, operation
        # Object names are case-insensitive, as in the service.
        assert allowed(grant, operation, "APP") == expected, operation
        assert not allowed(grant, operation, "other"), operation


def test_assignments_of_another_identity_or_no_assignment_allow_nothing():
    others = rbac.parse("rbac", [{"identity": "operator", "role": "Key Vault Administrator", "scope": "/"}], vault_config.default_identities())
    assert not any(allowed(grant, operation, "app") for grant in (others, rbac.Authorization("rbac")) for operation in EVERY_OPERATION)


def test_roles_are_named_by_name_in_any_case_or_by_id():
    assignments = [{"identity": "vm", "role": "key vault secrets user", "scope": "secrets/a"},
                   {"identity": "vm", "role": "4633458b-17de-408a-b874-0445c86b69e6", "scope": "/"}]
    parsed = rbac.parse("rbac", assignments, vault_config.default_identities())
    assert [item.describe() for item in parsed.role_assignments] == [
        {"identity": "vm", "role": "Key Vault Secrets User", "scope": "secrets/a"}, {"identity": "vm", "role": "Key Vault Secrets User", "scope": "/"}]


@pytest.mark.parametrize("changes, message", [
    ({"permission_model": "RBAC"}, "permission_model must be one of access_policies, rbac, got 'RBAC'"),
    ({"role_assignments": {"identity": "vm"}}, "role_assignments must be a list"),
    ({"role_assignments": [{"identity": "vm", "role": "Key Vault Secrets User"}]}, "role_assignments[0]: scope must be given as a non-empty string"),
    ({"role_assignments": [{"identity": "nobody", "role": "Key Vault Reader", "scope": "/"}]},
     "role_assignments[0]: there is no identity named nobody; known: operator, vm"),
    ({"role_assignments": [{"identity": "vm", "role": "Key Vault Contributor", "scope": "/"}]},
     "role_assignments[0]: unknown role 'Key Vault Contributor'; the built-in Key Vault data-plane roles are: Key Vault Administrator, "),
    ({"role_assignments": [{"identity": "vm", "role": "Key Vault Reader", "scope": "keys/k"}]},
     "role_assignments[0]: scope must be \"/\" (the vault), \"secrets/NAME\" or \"certificates/NAME\", got 'keys/k'"),
    ({"role_assignments": [{"identity": "vm", "role": "Key Vault Reader", "scope": "secrets/bad_name"}]}, "got 'secrets/bad_name'"),
    ({"role_assignments": [{"identity": "vm", "role": "Key Vault Reader", "scope": "/", "condition": "x"}]},
     "role_assignments[0]: unknown keys condition; known: identity, role, scope"),
])
def test_the_configuration_file_refuses_a_bad_model_or_assignment_naming_it(changes, message):
    with pytest.raises(vault_config.ConfigError) as refused:
        vault_config.from_dict(changes)
    assert message in str(refused.value)


def raw_get(vault, identity, path):
    token = vault.token(identity)
    return vault.request("GET", f"{vault.vault_url.rstrip('/')}{path}?api-version=2026-04-01", headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def rbac_vault(localvault_factory):
    configuration = dict(vault_config_for_tests(), permission_model="rbac", identities=[
        {"name": "app-reader"}, {"name": "cert-reader"}, {"name": "admin"}], role_assignments=[
        {"identity": "app-reader", "role": "Key Vault Secrets User", "scope": "secrets/app"},
        {"identity": "cert-reader", "role": "Key Vault Certificate User", "scope": "certificates/web"},
        {"identity": "admin", "role": "Key Vault Administrator", "scope": "/"}])
    return localvault_factory(config=configuration)


def vault_config_for_tests():
    return {"deletion_delay_seconds": 0, "recovery_delay_seconds": 0, "certificate_creation_delay_seconds": 0, "soft_delete_retention_days": 7}


def use_environment(vault, monkeypatch):
    """The vault's client environment in ``os.environ``, so that ManagedIdentityCredential finds its IMDS."""
    for name, value in vault.env.items():
        monkeypatch.setenv(name, value)


def client(vault, identity, kind):
    credential = ManagedIdentityCredential(client_id=vault.identities[identity]["client_id"])
    return kind(vault.vault_url, credential, verify_challenge_resource=False, connection_verify=vault.ca_bundle)


def test_an_rbac_vault_grants_per_scope_and_refuses_as_the_service_does(rbac_vault, monkeypatch):
    from azure.keyvault.secrets import SecretClient  # pylint: disable=import-outside-toplevel
    use_environment(rbac_vault, monkeypatch)
    admin = client(rbac_vault, "admin", SecretClient)
    admin.set_secret("app", "app value")
    admin.set_secret("other", "other value")
    # Access policies no longer count: the default operator identity has every permission but no role.
    with pytest.raises(HttpResponseError) as refused:
        client(rbac_vault, "operator", SecretClient).get_secret("app")
    assert refused.value.status_code == 403

    reader = client(rbac_vault, "app-reader", SecretClient)
    assert reader.get_secret("app").value == "app value"
    assert len(list(reader.list_properties_of_secret_versions("app"))) == 1

    status, _headers, body = raw_get(rbac_vault, "app-reader", "/secrets/other")
    identity = rbac_vault.identities["app-reader"]
    vault_resource = "/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/localvault/providers/microsoft.keyvault/vaults/localvault"
    assert status == 403
    assert body == {"error": {"code": "Forbidden", "innererror": {"code": "ForbiddenByRbac"}, "message": (
        "Caller is not authorized to perform action on resource.\r\n"
        "If role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\n"
        f"Caller: appid={identity['client_id']};oid={identity['object_id']};iss=https://sts.windows.net/{rbac_vault.connection['tenant_id']}/\r\n"
        "Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'\r\n"
        f"Resource: '{vault_resource}/secrets/other'\r\n"
        "Assignment: (not found)\r\n"
        "DenyAssignmentId: null\r\n"
        "DecisionReason: 'DeniedWithNoValidRBAC' \r\n"
        "Vault: localvault;location=local\r\n")}}
    # A list needs the action at the vault, so a role on one secret does not list it.
    status, _headers, body = raw_get(rbac_vault, "app-reader", "/secrets")
    assert status == 403
    assert "Action: 'Microsoft.KeyVault/vaults/secrets/readMetadata/action'\r\n" in body["error"]["message"]
    assert f"Resource: '{vault_resource}'\r\n" in body["error"]["message"]
    with pytest.raises(HttpResponseError) as refused:
        reader.set_secret("app", "changed")
    assert "Action: 'Microsoft.KeyVault/vaults/secrets/setSecret/action'" in refused.value.message


def test_a_role_on_a_certificate_reads_it_but_not_its_secret(rbac_vault, monkeypatch):
    from azure.keyvault.secrets import SecretClient  # pylint: disable=import-outside-toplevel
    use_environment(rbac_vault, monkeypatch)
    client(rbac_vault, "admin", CertificateClient).begin_create_certificate("web", CertificatePolicy.get_default()).result()
    reader = client(rbac_vault, "cert-reader", CertificateClient)
    assert reader.get_certificate("web").name == "web"
    assert reader.get_certificate_policy("web").subject == "CN=DefaultPolicy"
    # The certificate's secret is the object secrets/web, a scope of its own (Azure/azure-sdk-for-python#19919).
    with pytest.raises(HttpResponseError) as refused:
        client(rbac_vault, "cert-reader", SecretClient).get_secret("web")
    assert "Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'" in refused.value.message
    with pytest.raises(HttpResponseError) as refused:
        list(reader.list_properties_of_certificates())
    assert "Action: 'Microsoft.KeyVault/vaults/certificates/read'" in refused.value.message


def test_the_operator_switches_the_permission_model_and_assignments_at_run_time(localvault_factory, monkeypatch):
    from azure.keyvault.secrets import SecretClient  # pylint: disable=import-outside-toplevel
    vault = localvault_factory(config=dict(vault_config_for_tests(), identities=[{"name": "app"}]))
    use_environment(vault, monkeypatch)
    name = unique()
    client(vault, "operator", SecretClient).set_secret(name, "value")
    assert vault.control("GET", "authorization") == {"permission_model": "access_policies", "role_assignments": []}
    assignment = {"identity": "app", "role": "Key Vault Secrets User", "scope": f"secrets/{name}"}
    assert vault.control("POST", "authorization", {"permission_model": "rbac", "role_assignments": [assignment]}) == {
        "permission_model": "rbac", "role_assignments": [assignment]}
    assert client(vault, "app", SecretClient).get_secret(name).value == "value"
    with pytest.raises(HttpResponseError) as refused:
        client(vault, "operator", SecretClient).get_secret(name)
    assert refused.value.error.code == "Forbidden" and "ForbiddenByRbac" in str(refused.value)
    # Assignments given replace the current ones; the model stays.
    assert vault.control("POST", "authorization", {"role_assignments": []}) == {"permission_model": "rbac", "role_assignments": []}
    status, _headers, body = raw_get(vault, "app", f"/secrets/{name}")
    assert status == 403 and body["error"]["innererror"] == {"code": "ForbiddenByRbac"}
    status, _headers, body = vault.request("POST", vault.connection["controls_url"] + "/authorization", {"role_assignments": [
        {"identity": "app", "role": "Key Vault Superuser", "scope": "/"}]})
    assert status == 400 and body["error"].startswith("role_assignments[0]: unknown role 'Key Vault Superuser'")
    status, _headers, body = vault.request("POST", vault.connection["controls_url"] + "/authorization", {"permission_model": "rbac", "x": 1})
    assert status == 400 and "permission_model and/or role_assignments" in body["error"]
    assert vault.control("DELETE", "authorization") == {"permission_model": "access_policies", "role_assignments": []}
    assert client(vault, "operator", SecretClient).get_secret(name).value == "value"
