"""Challenge-based authentication, token checks and access-policy permissions of the local vault."""

import base64
import json
import time
import uuid

import pytest
from azure.core.exceptions import HttpResponseError
from azure.keyvault.secrets import SecretClient

MISSING_TOKEN = {"code": "Unauthorized", "message": "AKV10000: Request is missing a Bearer or PoP token."}


def unique(prefix="auth"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def url(localvault, path, api_version="2026-04-01"):
    return f"{localvault.vault_url.rstrip('/')}{path}?api-version={api_version}"


def challenge(localvault):
    return f'Bearer authorization="https://login.windows.net/{localvault.connection["tenant_id"]}", resource="https://vault.azure.net"'


@pytest.mark.parametrize("body", [b"", b"{broken json", b'{"value": 5}'])
def test_an_unauthenticated_request_gets_the_challenge_before_its_body_is_read(localvault, body):
    status, headers, answer = localvault.request("PUT", url(localvault, f"/secrets/{unique()}"), body)
    assert status == 401
    assert answer == {"error": MISSING_TOKEN}
    assert headers["WWW-Authenticate"] == challenge(localvault)


def test_the_challenge_comes_before_api_version_and_name_checks(localvault):
    status, _headers, answer = localvault.request("GET", url(localvault, "/secrets/bad_name", api_version="1.0"))
    assert status == 401
    assert answer == {"error": MISSING_TOKEN}


@pytest.mark.parametrize("authorization", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer not-a-token", "Bearer a.b.c"])
def test_malformed_authorization_is_unauthorized(localvault, authorization):
    status, headers, answer = localvault.request("GET", url(localvault, "/secrets"), headers={"Authorization": authorization})
    assert status == 401
    assert answer["error"]["code"] == "Unauthorized"
    assert headers["WWW-Authenticate"] == challenge(localvault)


def _with_changed_claims(token, **changes):
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"{header}.{forged}.{signature}"


def test_a_token_with_altered_claims_is_refused(localvault):
    forged = _with_changed_claims(localvault.token("vm"), oid=localvault.identities["operator"]["object_id"])
    status, _headers, answer = localvault.request("GET", url(localvault, "/secrets"), headers={"Authorization": f"Bearer {forged}"})
    assert status == 401
    assert answer["error"]["code"] == "Unauthorized"


def test_a_token_for_another_audience_is_refused_as_the_service_does(localvault):
    token = localvault.token(resource="https://management.azure.com/")
    status, _headers, answer = localvault.request("GET", url(localvault, "/secrets"), headers={"Authorization": f"Bearer {token}"})
    assert status == 401
    assert answer["error"]["message"] == "AKV10022: Invalid audience. Expected https://vault.azure.net, found: https://management.azure.com/."


def test_an_expired_token_is_refused_and_the_sdk_fetches_a_new_one(localvault, secret_client, clean_controls):
    with clean_controls.changed_settings(token_lifetime_seconds=2):
        client = secret_client()
        name = unique()
        client.set_secret(name, "value")
        stale = localvault.token()
        time.sleep(2.2)
        status, headers, answer = localvault.request("GET", url(localvault, f"/secrets/{name}/"), headers={"Authorization": f"Bearer {stale}"})
        assert status == 401
        assert answer["error"]["code"] == "Unauthorized"
        assert "expired" in answer["error"]["message"]
        assert headers["WWW-Authenticate"] == challenge(localvault)
        tokens_before = clean_controls.counters()["imds"]["identities"]["operator"]
        assert client.get_secret(name).value == "value"
        assert clean_controls.counters()["imds"]["identities"]["operator"] > tokens_before


def test_the_sdk_needs_verify_challenge_resource_off_for_a_loopback_vault(localvault, vault_env):  # pylint: disable=unused-argument
    client = SecretClient(localvault.vault_url, localvault.credential(), connection_verify=localvault.ca_bundle)
    with pytest.raises(ValueError, match="verify_challenge_resource"):
        client.get_secret(unique())


def test_the_vm_identity_reads_and_lists_but_nothing_else(secret_client):
    name = unique()
    operator = secret_client("operator")
    operator.set_secret(name, "for the vm")
    vm = secret_client("vm")
    assert vm.get_secret(name).value == "for the vm"
    assert name in {item.name for item in vm.list_properties_of_secrets()}
    assert len(list(vm.list_properties_of_secret_versions(name))) == 1


@pytest.mark.parametrize("operation, permission", [
    (lambda client, name: client.set_secret(name, "value"), "set"),
    (lambda client, name: client.update_secret_properties(name, enabled=False), "set"),
    (lambda client, name: client.begin_delete_secret(name), "delete"),
    (lambda client, name: client.backup_secret(name), "backup"),
    (lambda client, name: client.restore_secret_backup(b"blob"), "restore"),
    (lambda client, name: client.purge_deleted_secret(name), "purge"),
    (lambda client, name: client.begin_recover_deleted_secret(name), "recover"),
])
def test_the_vm_identity_is_forbidden_what_its_policy_lacks(localvault, secret_client, operation, permission):
    name = unique()
    secret_client("operator").set_secret(name, "value")
    with pytest.raises(HttpResponseError) as caught:
        operation(secret_client("vm"), name)
    vm = localvault.identities["vm"]
    assert caught.value.status_code == 403
    assert caught.value.error.code == "Forbidden"
    assert caught.value.error.message == (
        f"The user, group or application 'appid={vm['client_id']};oid={vm['object_id']};numgroups=0;"
        f"iss=https://sts.windows.net/{localvault.connection['tenant_id']}/' does not have secrets {permission} permission on key vault "
        "'localvault;location=local'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287")
    assert caught.value.error.innererror["code"] == "ForbiddenByPolicy"


def test_permission_is_checked_before_the_body(localvault):
    token = localvault.token("vm")
    status, _headers, answer = localvault.request("PUT", url(localvault, f"/secrets/{unique()}"), b"{broken", headers={"Authorization": f"Bearer {token}"})
    assert status == 403
    assert answer["error"]["code"] == "Forbidden"
