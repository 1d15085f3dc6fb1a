# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/certificate_rollout.yml across the simulated VM fleet, over SSH, each VM fetching with its own identity.

The certificate is created once on the control node (the operator, which is no VM), every VM installs that
version and "restarts" its service; a second run changes nothing anywhere and writes nothing to the vault.
"""

import importlib.util
import os
import stat

from cryptography import x509
from cryptography.hazmat.primitives import serialization

import fleet_harness

# playbook_helpers is no package of tests/fleet; loading it by path keeps tests/integration off sys.path.
_HELPERS_SPEC = importlib.util.spec_from_file_location(
    "fleet_playbook_helpers", os.path.join(fleet_harness.REPO_ROOT, "tests", "integration", "playbook_helpers.py"))
playbook_helpers = importlib.util.module_from_spec(_HELPERS_SPEC)
_HELPERS_SPEC.loader.exec_module(playbook_helpers)

CERTIFICATE = "fleet-tls"
CERTIFICATE_DIR = "/srv/ssl"
RESTART_LOG = f"{CERTIFICATE_DIR}/restarts.log"
CREATE_TASK = "Create the certificate, or renew it when it is close to its expiry (once, centrally)"
INSTALL_TASKS = ("Install the certificate followed by its chain", "Install the private key, readable by its owner only")


def without_secret_get(fleet):
    """The VM whose identity may not read secrets, hence not the certificate's key (see conftest.py)."""
    return next(vm.name for vm in fleet.vms if "get" not in vm.permissions["secrets"])


def restarts(fleet, vm_name):
    try:
        with open(fleet.vm_root(vm_name, RESTART_LOG), encoding="utf-8") as handle:
            return len(handle.read().splitlines())
    except FileNotFoundError:
        return 0


def operations_between(before, after, identity):
    old = before["identities"].get(identity, {})
    new = after["identities"].get(identity, {})
    return {operation: new[operation] - old.get(operation, 0) for operation in new if new[operation] != old.get(operation, 0)}


def writes_between(before, after):
    """Write requests of any identity (including unauthenticated ones) between two counters snapshots."""
    return {operation: after["operations"].get(operation, 0) - before["operations"].get(operation, 0)
            for operation in playbook_helpers.WRITE_OPERATIONS if after["operations"].get(operation, 0) != before["operations"].get(operation, 0)}


def test_rollout_over_ssh_installs_one_version_everywhere_with_each_vm_identity_then_changes_nothing(fleet):
    excluded = without_secret_get(fleet)
    targets = [vm.name for vm in fleet.vms if vm.name != excluded]
    extra_vars = {
        # vm07's identity cannot read the key; the playbook's host pattern leaves it out, as an operator would.
        "rollout_hosts": f"fleet:!{excluded}",
        "certificate_name": CERTIFICATE,
        "certificate_dir": CERTIFICATE_DIR,
        # The control node is no VM: the vault answers it with its own identities, of which the operator may create certificates.
        "certificate_manager_client_id": fleet.identity("operator")["client_id"],
        # The VMs run no web server: the "restart" leaves a line in the VM's own /srv, to count them.
        "certificate_restart_command": ["sh", "-c", f"echo restarted >> {RESTART_LOG}"],
    }

    before_first = fleet.counters()
    first = fleet.run_playbook(fleet_harness.ROLLOUT_PLAYBOOK, extra_vars=extra_vars, forks=10)
    after_first = fleet.counters()
    assert first.rc == 0, first.output[-4000:]
    assert sorted(first.recap) == sorted(targets), first.output[-4000:]
    assert len(first.tasks[CREATE_TASK]) == 1 and next(iter(first.tasks[CREATE_TASK].values()))["changed"]
    version_id = next(iter(first.tasks[CREATE_TASK].values()))["certificate"]["version"]

    client = fleet_harness.certificate_client(fleet)
    [version] = list(client.list_properties_of_certificate_versions(CERTIFICATE))
    assert version.version == version_id
    issued = client.get_certificate_version(CERTIFICATE, version_id)
    key_pem = None
    for name in targets:
        assert first.recap[name]["failed"] == 0 and first.recap[name]["changed"] > 0, (name, first.recap[name])
        for task in INSTALL_TASKS:
            assert first.result(task, name)["changed"], (name, task)
        with open(fleet.vm_root(name, f"{CERTIFICATE_DIR}/{CERTIFICATE}.crt"), "rb") as handle:
            installed = x509.load_pem_x509_certificates(handle.read())
        assert installed[0].public_bytes(serialization.Encoding.DER) == bytes(issued.cer), name
        key_path = fleet.vm_root(name, f"{CERTIFICATE_DIR}/{CERTIFICATE}.key")
        assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600, name
        with open(key_path, "rb") as handle:
            key_text = handle.read()
        key = serialization.load_pem_private_key(key_text, None)
        assert key.public_key().public_numbers() == installed[0].public_key().public_numbers(), name
        assert key_pem in (None, key_text), f"{name} installed another key than the other VMs"
        key_pem = key_text
        assert restarts(fleet, name) == 1, name
        # Its own identity fetched the certificate and its key (the backing secret), nothing else.
        assert operations_between(before_first, after_first, name) == {"GetCertificate": 1, "GetSecret": 1}, name
        assert after_first["imds"]["identities"].get(name, 0) > before_first["imds"]["identities"].get(name, 0), name
    assert not os.path.exists(fleet.vm_root(excluded, CERTIFICATE_DIR))
    assert operations_between(before_first, after_first, excluded) == {}
    assert writes_between(before_first, after_first) == {"CreateCertificate": 1}
    assert playbook_helpers.writes_between(before_first, after_first, "operator") == {"CreateCertificate": 1}
    assert not os.path.exists(os.path.join(CERTIFICATE_DIR, f"{CERTIFICATE}.key")), "a VM wrote to this machine's own /srv"

    second = fleet.run_playbook(fleet_harness.ROLLOUT_PLAYBOOK, extra_vars=extra_vars, forks=10)
    after_second = fleet.counters()
    assert second.rc == 0, second.output[-4000:]
    assert {name: counts["changed"] for name, counts in second.recap.items()} == {name: 0 for name in targets}, second.output[-4000:]
    assert len(list(client.list_properties_of_certificate_versions(CERTIFICATE))) == 1
    assert writes_between(after_first, after_second) == {}
    for name in targets:
        assert restarts(fleet, name) == 1, name
        assert operations_between(after_first, after_second, name) == {"GetCertificate": 1, "GetSecret": 1}, name

    # Neither the key nor any line of it shows in what Ansible printed or recorded, in either run.
    key_lines = [line for line in key_pem.decode().splitlines() if line and not line.startswith("-----")]
    for run in (first, second):
        assert key_pem.decode() not in run.output
        assert not [line for line in key_lines if line in run.output or line in repr(run.tasks)]
