# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection on a fleet of simulated Azure VMs, over SSH, each VM authenticating with its own managed identity.

Nothing on the VMs tells the Azure SDK where IMDS is: it asks http://169.254.169.254 as on Azure.
"""

import concurrent.futures
import hashlib
import json
import os
import secrets
import stat

import pytest

import fleet_harness

IDENTITY_ENDPOINT_VARIABLES = {"AZURE_POD_IDENTITY_AUTHORITY_HOST", "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "MSI_SECRET",
                               "AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_FEDERATED_TOKEN_FILE"}

# The tutorial's script (DefaultAzureCredential, SecretClient.get_secret), printing what identity it used and a
# digest of the value instead of the value.
TUTORIAL_SCRIPT = """
import base64, hashlib, json, os, sys
from azure.identity import DefaultAzureCredential
from azure.keyvault.secrets import SecretClient

vault_url, secret_name = sys.argv[1:3]
credential = DefaultAzureCredential()
token = credential.get_token("https://vault.azure.net/.default").token
claims = token.split(".")[1]
claims = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
client = SecretClient(vault_url=vault_url, credential=credential, verify_challenge_resource=False,
                      connection_verify=os.environ["ANSIBLE_KEYVAULT_CA_CERT"])
value = client.get_secret(secret_name).value
print(json.dumps({"identity": claims["xms_mirid"], "sha256": hashlib.sha256(value.encode()).hexdigest()}))
"""

# A token for the user-assigned identity with this client id, or the error azure-identity reports.
SELECT_IDENTITY_SCRIPT = """
import base64, json, sys
from azure.identity import ManagedIdentityCredential

try:
    token = ManagedIdentityCredential(client_id=sys.argv[1]).get_token("https://vault.azure.net/.default").token
except Exception as error:
    print(json.dumps({"error": type(error).__name__, "message": str(error)}))
else:
    claims = token.split(".")[1]
    print(json.dumps({"object_id": json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))["oid"]}))
"""


def on_every_vm(fleet, command, input_text=None):
    """``{vm name: CompletedProcess}`` of ``command`` run on all VMs at once."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(fleet.vms)) as pool:
        futures = {vm.name: pool.submit(fleet.ssh, vm.name, command, input_text) for vm in fleet.vms}
    return {name: future.result() for name, future in futures.items()}


def digest(value):
    return hashlib.sha256(value.encode()).hexdigest()


def without_secret_get(fleet):
    """The VM whose identity may not read secrets (see conftest.py)."""
    return next(vm.name for vm in fleet.vms if "get" not in vm.permissions["secrets"])


def with_deployer(fleet):
    return next(vm.name for vm in fleet.vms if "deployer" in vm.user_assigned)


@pytest.fixture(scope="module")
def app_secrets(fleet):
    """One application secret per VM, app-<vm>, stored by the operator."""
    values = {vm.name: secrets.token_urlsafe(24) for vm in fleet.vms}
    client = fleet_harness.secret_client(fleet)
    for name, value in values.items():
        client.set_secret(f"app-{name}", value)
    return values


def test_every_vm_is_a_machine_of_its_own_without_an_identity_endpoint_setting(fleet):
    results = on_every_vm(fleet, "hostname; ls -A /srv; env")
    for name, completed in results.items():
        assert completed.returncode == 0, completed.stderr
        lines = completed.stdout.splitlines()
        assert lines[0] == name
        variables = {line.split("=", 1)[0] for line in lines[1:] if "=" in line}
        assert not variables & IDENTITY_ENDPOINT_VARIABLES, name
        assert "ANSIBLE_KEYVAULT_URL" in variables


def test_the_tutorial_script_reads_each_vm_secret_with_the_vm_identity(fleet, app_secrets):
    results = on_every_vm(fleet, f"{fleet_harness.VM_PYTHON} - {fleet.vault_url} app-$(hostname)", TUTORIAL_SCRIPT)
    for name, completed in results.items():
        if name == without_secret_get(fleet):
            assert completed.returncode != 0
            assert "does not have secrets get permission" in completed.stderr
            continue
        assert completed.returncode == 0, completed.stderr
        assert json.loads(completed.stdout) == {"identity": fleet.identity(name)["resource_id"], "sha256": digest(app_secrets[name])}


def test_a_vm_gets_tokens_only_for_the_identities_assigned_to_it(fleet):
    deployer = fleet.identity("deployer")
    others = [vm.name for vm in fleet.vms if vm.name != with_deployer(fleet)]
    for vm_name, client_id, expected in (
            (with_deployer(fleet), deployer["client_id"], {"object_id": deployer["object_id"]}),
            (others[0], deployer["client_id"], None),
            (with_deployer(fleet), fleet.identity(others[0])["client_id"], None)):
        completed = fleet.ssh(vm_name, f"{fleet_harness.VM_PYTHON} - {client_id}", SELECT_IDENTITY_SCRIPT)
        assert completed.returncode == 0, completed.stderr
        answer = json.loads(completed.stdout)
        if expected:
            assert answer == expected
        else:
            assert answer["error"] == "CredentialUnavailableError"
            assert "Identity not found" in answer["message"]


def failure_messages(result):
    """The message of a failed task result, and of each failed item of a loop."""
    return [result.get("msg", "")] + [item.get("msg", "") for item in result.get("results", []) if item.get("failed")]


def test_the_tutorial_play_reads_each_vm_secret_with_the_vm_identity_over_ssh(fleet, app_secrets):
    fleet.reset_counters()
    extra_vars = {"app_env_file": "/srv/shop/secrets.env", "app_secrets": {"APP_SECRET": "app-{{ inventory_hostname }}"}}
    result = fleet.run_playbook(fleet_harness.APP_SECRETS_PLAYBOOK, forks=len(fleet.vms), extra_vars=extra_vars)
    assert result.rc == 2, result.output
    for name, value in app_secrets.items():
        env_file = fleet.vm_root(name, "/srv/shop/secrets.env")
        if name == without_secret_get(fleet):
            assert result.recap[name]["failed"] == 1, result.output
            message = failure_messages(result.result("Read the application's secrets as this VM", name))[-1]
            # It says which secret, that access was denied and why, naming the VM's own identity.
            assert f"app-{name}" in message and "denied" in message and "get permission" in message, message
            assert f"oid={fleet.identity(name)['object_id']}" in message, message
            assert not os.path.exists(env_file)
            continue
        assert result.recap[name]["failed"] == 0, result.output
        with open(env_file, encoding="utf-8") as handle:
            assert handle.read() == f"APP_SECRET={value}\n"
        assert stat.S_IMODE(os.stat(env_file).st_mode) == 0o600
        assert value not in result.output
    assert not os.path.exists("/srv/shop"), "a VM wrote to this machine's own /srv"
    counters = fleet.counters()
    # Each VM read once with its own identity; "anonymous" are the SDK's first, unauthenticated requests (the challenge).
    reads = {identity: operations.get("GetSecret", 0) for identity, operations in counters["identities"].items() if identity != "anonymous"}
    assert reads == {vm.name: 1 for vm in fleet.vms}
    assert counters["statuses"]["GetSecret"] == {"401": len(fleet.vms), "200": len(fleet.vms) - 1, "403": 1}
    assert set(counters["imds"]["identities"]) == {vm.name for vm in fleet.vms}


def test_preparing_a_prepared_vm_changes_nothing(fleet):
    first = fleet.vms[0].name
    result = fleet.run_playbook(fleet_harness.PREPARE_PLAYBOOK, limit=first,
                                extra_vars={"keyvault_venv": fleet_harness.VM_VENV, "keyvault_wheels": fleet_harness.WHEELS_ARCHIVE})
    assert result.rc == 0, result.output
    assert result.recap[first]["changed"] == 0
