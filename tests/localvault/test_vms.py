"""VMs in the configuration: the IMDS endpoint answers each caller with the identities of the VM it calls from.

The VMs here sit on loopback addresses (127.0.0.0/8 all reach the vault on 127.0.0.1), so a request
comes from a VM when its socket is bound to that VM's address.
"""

import base64
import http.client
import json
import urllib.parse

import pytest

from localvault import config as vault_config
from localvault.vms import normalized_address

FLEET_CONFIG = {
    "deletion_delay_seconds": 0,
    "identities": [
        {"name": "web01", "system_assigned": True, "permissions": {"secrets": ["get"]}},
        {"name": "web02", "system_assigned": True, "permissions": {"secrets": ["get", "list"]}},
        {"name": "deployer", "permissions": {"certificates": ["all"]}},
        {"name": "auditor", "permissions": {"secrets": ["list"]}},
    ],
    "vms": [
        {"name": "web01", "addresses": ["127.0.0.2"], "system_assigned_identity": "web01", "user_assigned_identities": ["deployer"]},
        {"name": "web02", "addresses": ["127.0.0.3", "::ffff:127.0.0.13"], "system_assigned_identity": "web02"},
        {"name": "one-user-assigned", "addresses": ["127.0.0.4"], "user_assigned_identities": ["deployer"]},
        {"name": "two-user-assigned", "addresses": ["127.0.0.5"], "user_assigned_identities": ["deployer", "auditor"]},
        {"name": "no-identity", "addresses": ["127.0.0.6"]},
    ],
}
HOST = "127.0.0.1"
MULTIPLE = "Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request"


@pytest.fixture(scope="module")
def fleet_vault(localvault, tmp_path_factory):
    # One vault for the module; the session vault's class starts it ("conftest" is not importable by name in a full run).
    vault = type(localvault)(tmp_path_factory.mktemp("fleet-vault"), config=FLEET_CONFIG).start()
    yield vault
    vault.stop()


def token_request(vault, source, headers=None, **query):
    """``(status, body)`` of an IMDS token request sent from the address ``source``."""
    query = dict({"api-version": "2018-02-01", "resource": "https://vault.azure.net"}, **query)
    port = int(vault.imds_url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection(HOST, port, timeout=10, source_address=(source, 0))
    try:
        connection.request("GET", "/metadata/identity/oauth2/token?" + urllib.parse.urlencode(query),
                           headers={"Metadata": "true"} if headers is None else headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def token_owner(body):
    payload = body["access_token"].split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["oid"]


def test_a_vm_asking_without_a_selector_gets_its_system_assigned_identity(fleet_vault):
    for source, name in (("127.0.0.2", "web01"), ("127.0.0.3", "web02")):
        status, body = token_request(fleet_vault, source)
        assert status == 200
        assert token_owner(body) == fleet_vault.identities[name]["object_id"]
        assert body["client_id"] == fleet_vault.identities[name]["client_id"]


@pytest.mark.parametrize("selector, attribute", [("client_id", "client_id"), ("object_id", "object_id"), ("msi_res_id", "resource_id")])
def test_a_vm_selects_its_user_assigned_identity_by_each_selector(fleet_vault, selector, attribute):
    deployer = fleet_vault.identities["deployer"]
    status, body = token_request(fleet_vault, "127.0.0.2", **{selector: deployer[attribute]})
    assert status == 200
    assert token_owner(body) == deployer["object_id"]


@pytest.mark.parametrize("identity", ["web02", "auditor", "vm", "operator"])
def test_an_identity_not_assigned_to_the_calling_vm_is_not_found(fleet_vault, identity):
    for selector, attribute in (("client_id", "client_id"), ("object_id", "object_id"), ("msi_res_id", "resource_id")):
        status, body = token_request(fleet_vault, "127.0.0.2", **{selector: fleet_vault.identities[identity][attribute]})
        assert (status, body) == (400, {"error": "invalid_request", "error_description": "Identity not found"})


def test_a_vm_without_a_system_assigned_identity_answers_as_imds_does(fleet_vault):
    status, body = token_request(fleet_vault, "127.0.0.4")
    assert status == 200
    assert token_owner(body) == fleet_vault.identities["deployer"]["object_id"]
    assert token_request(fleet_vault, "127.0.0.5") == (400, {"error": "invalid_request", "error_description": MULTIPLE})
    status, body = token_request(fleet_vault, "127.0.0.5", client_id=fleet_vault.identities["auditor"]["client_id"])
    assert status == 200 and token_owner(body) == fleet_vault.identities["auditor"]["object_id"]
    assert token_request(fleet_vault, "127.0.0.6") == (400, {"error": "invalid_request", "error_description": "Identity not found"})


def test_the_metadata_header_is_checked_first_for_vms_too(fleet_vault):
    # azure-identity's availability probe sends no Metadata header and only needs an answer from IMDS.
    for source in ("127.0.0.2", "127.0.0.6"):
        status, body = token_request(fleet_vault, source, headers={})
        assert (status, body["error_description"]) == (400, "Required metadata header not specified")


def test_callers_that_are_not_vms_keep_the_vault_identities(fleet_vault):
    status, body = token_request(fleet_vault, HOST)
    assert status == 200 and token_owner(body) == fleet_vault.identities["vm"]["object_id"]
    for name in ("operator", "deployer", "auditor"):
        status, body = token_request(fleet_vault, HOST, client_id=fleet_vault.identities[name]["client_id"])
        assert status == 200 and token_owner(body) == fleet_vault.identities[name]["object_id"]
    for name in ("web01", "web02"):
        status, body = token_request(fleet_vault, HOST, client_id=fleet_vault.identities[name]["client_id"])
        assert (status, body["error_description"]) == (400, "Identity not found")


def test_connection_json_lists_the_vms(fleet_vault, localvault):
    assert fleet_vault.connection["vms"] == [
        {"name": "web01", "addresses": ["127.0.0.2"], "system_assigned_identity": "web01", "user_assigned_identities": ["deployer"]},
        {"name": "web02", "addresses": ["127.0.0.3", "127.0.0.13"], "system_assigned_identity": "web02", "user_assigned_identities": []},
        {"name": "one-user-assigned", "addresses": ["127.0.0.4"], "system_assigned_identity": None, "user_assigned_identities": ["deployer"]},
        {"name": "two-user-assigned", "addresses": ["127.0.0.5"], "system_assigned_identity": None,
         "user_assigned_identities": ["deployer", "auditor"]},
        {"name": "no-identity", "addresses": ["127.0.0.6"], "system_assigned_identity": None, "user_assigned_identities": []},
    ]
    assert fleet_vault.identities["web01"]["system_assigned"] is True
    assert localvault.connection["vms"] == []


def test_a_vm_token_carries_the_access_policy_of_the_vm_identity(fleet_vault):
    _status, operator = token_request(fleet_vault, HOST, client_id=fleet_vault.identities["operator"]["client_id"])
    secret_url = fleet_vault.vault_url + "secrets/app-web01?api-version=7.5"
    status, _headers, _body = fleet_vault.request("PUT", secret_url, {"value": "s3cret"},
                                                  headers={"Authorization": "Bearer " + operator["access_token"]})
    assert status == 200
    _status, web01 = token_request(fleet_vault, "127.0.0.2")
    authorization = {"Authorization": "Bearer " + web01["access_token"]}
    status, _headers, body = fleet_vault.request("GET", secret_url, headers=authorization)
    assert (status, body["value"]) == (200, "s3cret")
    status, _headers, body = fleet_vault.request("GET", fleet_vault.vault_url + "secrets?api-version=7.5", headers=authorization)
    assert status == 403
    assert f"oid={fleet_vault.identities['web01']['object_id']}" in body["error"]["message"]
    assert "does not have secrets list permission" in body["error"]["message"]


def test_imds_requests_are_counted_per_identity_of_the_vm(fleet_vault):
    fleet_vault.reset()
    token_request(fleet_vault, "127.0.0.3")
    token_request(fleet_vault, "127.0.0.6")
    assert fleet_vault.counters()["imds"]["identities"] == {"web02": 1, "unknown": 1}


def test_ipv4_mapped_addresses_are_the_ipv4_address():
    assert normalized_address("::ffff:198.18.0.11") == "198.18.0.11"
    assert normalized_address("2001:DB8::1") == "2001:db8::1"
    with pytest.raises(ValueError):
        normalized_address("web01")


def config_with(identities=(), vms=()):
    return vault_config.from_dict({"identities": list(identities), "vms": list(vms)})


SYSTEM = [{"name": "a", "system_assigned": True}, {"name": "b", "system_assigned": True}]


@pytest.mark.parametrize("identities, vms, message", [
    ([], [{"name": "x", "addresses": []}], "VM x: addresses must be a non-empty list of IP addresses"),
    ([], [{"name": "x", "addresses": ["web01.example"]}], "VM x: 'web01.example' does not appear to be an IPv4 or IPv6 address"),
    ([], [{"name": "x", "addresses": ["127.0.0.2"], "colour": "blue"}], "VM x: unknown keys colour"),
    ([], [{"addresses": ["127.0.0.2"]}], "name must be a non-empty string"),
    ([], [{"name": "x", "addresses": ["127.0.0.2"]}, {"name": "x", "addresses": ["127.0.0.3"]}], "two VMs are named x"),
    ([], [{"name": "x", "addresses": ["127.0.0.2"]}, {"name": "y", "addresses": ["::ffff:127.0.0.2"]}],
     "VMs x and y share the address 127.0.0.2"),
    ([], [{"name": "x", "addresses": ["127.0.0.2"], "system_assigned_identity": "nobody"}], "VM x: there is no identity named nobody"),
    ([], [{"name": "x", "addresses": ["127.0.0.2"], "system_assigned_identity": "operator"}],
     "VM x: operator is a user-assigned identity and cannot be in system_assigned_identity"),
    ([], [{"name": "x", "addresses": ["127.0.0.2"], "user_assigned_identities": ["vm"]}],
     "VM x: vm is a system-assigned identity and cannot be in user_assigned_identities"),
    ([], [{"name": "x", "addresses": ["127.0.0.2"], "user_assigned_identities": "operator"}],
     "VM x: user_assigned_identities must be a list of identity names"),
    (SYSTEM, [{"name": "x", "addresses": ["127.0.0.2"], "system_assigned_identity": "a"},
              {"name": "y", "addresses": ["127.0.0.3"], "system_assigned_identity": "a"}],
     "the system-assigned identity a belongs to VM x and cannot also be VM y's"),
    (SYSTEM, [{"name": "x", "addresses": ["127.0.0.2"], "system_assigned_identity": "a"}],
     "only one system-assigned identity may be left without a VM, found: vm, b"),
    (SYSTEM, [], "only one identity may be system-assigned, found: vm, a, b"),
])
def test_an_invalid_vm_configuration_is_refused(identities, vms, message):
    with pytest.raises(vault_config.ConfigError) as caught:
        config_with(identities, vms)
    assert str(caught.value) == message


def test_every_vm_may_have_its_own_system_assigned_identity():
    config = config_with(SYSTEM, [{"name": "x", "addresses": ["127.0.0.2"], "system_assigned_identity": "a"},
                                  {"name": "y", "addresses": ["127.0.0.3"], "system_assigned_identity": "b"}])
    assert [(vm.name, vm.system_assigned.name) for vm in config.vms] == [("x", "a"), ("y", "b")]
    assert config.vms[0].system_assigned.resource_id.endswith("/Microsoft.Compute/virtualMachines/a")
