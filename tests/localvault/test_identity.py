"""The managed-identity (IMDS) endpoint of the local vault, raw and through azure-identity."""

import base64
import json
import time
import urllib.parse

import pytest
from azure.core.exceptions import HttpResponseError
from azure.identity import CredentialUnavailableError, ManagedIdentityCredential

VAULT_SCOPE = "https://vault.azure.net/.default"


def token_request(localvault, headers=None, **query):
    query.setdefault("api-version", "2018-02-01")
    query.setdefault("resource", "https://vault.azure.net")
    target = f"{localvault.imds_url}/metadata/identity/oauth2/token?{urllib.parse.urlencode(query)}"
    return localvault.request("GET", target, headers={"Metadata": "true"} if headers is None else headers)


def claims_of(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_without_a_selector_the_system_assigned_identity_gets_the_token(localvault):
    status, headers, body = token_request(localvault)
    vm = localvault.identities["vm"]
    assert status == 200
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert body["token_type"] == "Bearer"
    assert body["resource"] == "https://vault.azure.net"
    assert body["client_id"] == vm["client_id"]
    claims = claims_of(body["access_token"])
    assert claims["oid"] == vm["object_id"] and claims["appid"] == vm["client_id"]
    assert claims["aud"] == "https://vault.azure.net"
    assert claims["tid"] == localvault.connection["tenant_id"]


def test_numbers_are_strings_as_in_the_real_endpoint(localvault):
    _status, _headers, body = token_request(localvault)
    for key in ("expires_in", "expires_on", "not_before", "ext_expires_in"):
        assert isinstance(body[key], str) and body[key].isdigit()
    assert abs(int(body["expires_on"]) - (time.time() + int(body["expires_in"]))) < 5


@pytest.mark.parametrize("selector, attribute", [("client_id", "client_id"), ("object_id", "object_id"), ("msi_res_id", "resource_id")])
def test_a_user_assigned_identity_is_selected_by_each_selector(localvault, selector, attribute):
    operator = localvault.identities["operator"]
    status, _headers, body = token_request(localvault, **{selector: operator[attribute]})
    assert status == 200
    assert claims_of(body["access_token"])["oid"] == operator["object_id"]


@pytest.mark.parametrize("selector", ["client_id", "object_id", "msi_res_id"])
def test_an_identity_that_is_not_assigned_is_not_found(localvault, selector):
    status, _headers, body = token_request(localvault, **{selector: "00000000-1111-2222-3333-444444444444"})
    assert status == 400
    assert body == {"error": "invalid_request", "error_description": "Identity not found"}


@pytest.mark.parametrize("headers", [{}, {"Metadata": "false"}])
def test_the_metadata_header_is_required(localvault, headers):
    status, _headers, body = token_request(localvault, headers=headers)
    assert status == 400
    assert body == {"error": "invalid_request", "error_description": "Required metadata header not specified"}


def test_resource_and_api_version_are_required(localvault):
    base = f"{localvault.imds_url}/metadata/identity/oauth2/token"
    for query in ("resource=https://vault.azure.net", "api-version=2018-02-01"):
        status, _headers, body = localvault.request("GET", f"{base}?{query}", headers={"Metadata": "true"})
        assert status == 400 and body["error"] == "invalid_request"


def test_other_paths_are_not_served(localvault):
    status, _headers, _body = localvault.request("GET", f"{localvault.imds_url}/metadata/instance?api-version=2021-02-01", headers={"Metadata": "true"})
    assert status == 404


def test_azure_identity_gets_tokens_for_each_kind_of_selector(localvault, vault_env):  # pylint: disable=unused-argument
    operator = localvault.identities["operator"]
    credentials = [
        ManagedIdentityCredential(),
        ManagedIdentityCredential(client_id=operator["client_id"]),
        ManagedIdentityCredential(identity_config={"object_id": operator["object_id"]}),
        ManagedIdentityCredential(identity_config={"resource_id": operator["resource_id"]}),
    ]
    object_ids = [claims_of(credential.get_token(VAULT_SCOPE).token)["oid"] for credential in credentials]
    assert object_ids == [localvault.identities["vm"]["object_id"]] + [operator["object_id"]] * 3


def test_azure_identity_reports_an_unknown_identity_as_unavailable(vault_env):  # pylint: disable=unused-argument
    credential = ManagedIdentityCredential(client_id="00000000-1111-2222-3333-444444444444")
    with pytest.raises(CredentialUnavailableError, match="Identity not found"):
        credential.get_token(VAULT_SCOPE)


def test_configured_identities_are_published_and_enforced(localvault_factory, monkeypatch):
    config = {"deletion_delay_seconds": 0, "identities": [
        {"name": "reader", "permissions": {"secrets": ["get"], "certificates": ["get", "list"]}},
        {"name": "admin", "permissions": {"secrets": ["all"]}},
    ]}
    vault = localvault_factory(config=config)
    for name, value in vault.env.items():
        monkeypatch.setenv(name, value)
    assert set(vault.identities) == {"vm", "operator", "reader", "admin"}
    assert vault.identities["reader"]["permissions"] == {"secrets": ["get"], "certificates": ["get", "list"]}
    assert vault.identities["reader"]["system_assigned"] is False
    assert vault.identities["admin"]["permissions"]["secrets"] == ["get", "list", "set", "delete", "recover", "backup", "restore", "purge"]
    vault.secret_client("admin").set_secret("configured", "value")
    reader = vault.secret_client("reader")
    assert reader.get_secret("configured").value == "value"
    with pytest.raises(HttpResponseError) as caught:
        list(reader.list_properties_of_secrets())
    assert caught.value.status_code == 403
    assert "does not have secrets list permission" in caught.value.message
