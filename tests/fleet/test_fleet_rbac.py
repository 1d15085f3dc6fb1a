# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet on a vault with the Azure RBAC permission model: each VM's identity holds Key Vault Secrets User on its own
application secret only, reads it over SSH with its own managed identity, and is refused any other VM's."""

import os
import secrets
import stat

import pytest

import fleet_harness

OWN_SECRET = "rbac-app-{vm}"


@pytest.fixture(scope="module")
def rbac_fleet(fleet):
    """The session's fleet, switched to RBAC with one role assignment per VM for this module, then back."""
    fleet.set_authorization({"permission_model": "rbac", "role_assignments": fleet_harness.own_secret_assignments(fleet, OWN_SECRET)})
    try:
        yield fleet
    finally:
        fleet.reset_authorization()


@pytest.fixture(scope="module")
def own_secrets(rbac_fleet):
    """Each VM's secret, stored by the operator under its role at the vault."""
    values = {vm.name: secrets.token_urlsafe(24) for vm in rbac_fleet.vms}
    client = fleet_harness.secret_client(rbac_fleet)
    for name, value in values.items():
        client.set_secret(OWN_SECRET.format(vm=name), value)
    return values


def test_each_vm_reads_its_own_secret_and_is_refused_another_vms(rbac_fleet, own_secrets):
    fleet = rbac_fleet
    fleet.reset_counters()
    own = {"app_env_file": "/srv/rbac/own.env", "app_secrets": {"APP_SECRET": OWN_SECRET.format(vm="{{ inventory_hostname }}")}}
    result = fleet.run_playbook(fleet_harness.APP_SECRETS_PLAYBOOK, forks=len(fleet.vms), extra_vars=own)
    # Every VM reads, the one whose access policy lacks secrets get (conftest.py) too: under RBAC only roles count.
    assert result.rc == 0, result.output
    for name, value in own_secrets.items():
        env_file = fleet.vm_root(name, "/srv/rbac/own.env")
        with open(env_file, encoding="utf-8") as handle:
            assert handle.read() == f"APP_SECRET={value}\n"
        assert stat.S_IMODE(os.stat(env_file).st_mode) == 0o600
        assert value not in result.output

    next_vm = fleet_harness.neighbours(fleet)
    other = {"app_env_file": "/srv/rbac/other.env", "vm_neighbours": next_vm,
             "app_secrets": {"OTHER_SECRET": OWN_SECRET.format(vm="{{ vm_neighbours[inventory_hostname] }}")}}
    result = fleet.run_playbook(fleet_harness.APP_SECRETS_PLAYBOOK, forks=len(fleet.vms), extra_vars=other)
    assert result.rc == 2, result.output
    for name in own_secrets:
        assert result.recap[name]["failed"] == 1, result.output
        read = result.result("Read the application's secrets as this VM", name)
        # One task reads all the names (secret_info names); its message is that of the one secret it could not read.
        message = read["msg"]
        secret = OWN_SECRET.format(vm=next_vm[name])
        assert message.startswith(f"access to secret '{secret}' in vault {fleet.vault_url.rstrip('/')} was denied by Azure RBAC: the "
                                  f"system-assigned managed identity has no role assignment at the vault or secrets/{secret} that grants "
                                  "the data action Microsoft.KeyVault/vaults/secrets/getSecret/action; the built-in role Key Vault Secrets "
                                  "User grants it (the vault said: "), message
        # The vault's own words name the VM's identity and the other VM's secret.
        assert f"oid={fleet.identity(name)['object_id']};" in message and f"/secrets/{secret}'" in message, message
        assert own_secrets[next_vm[name]] not in result.output
        assert not os.path.exists(fleet.vm_root(name, "/srv/rbac/other.env"))

    counters = fleet.counters()
    reads = {identity: operations.get("GetSecret", 0) for identity, operations in counters["identities"].items() if identity != "anonymous"}
    assert reads == {vm.name: 2 for vm in fleet.vms}
    assert {status: count for status, count in counters["statuses"]["GetSecret"].items() if status != "401"} == {
        "200": len(fleet.vms), "403": len(fleet.vms)}
