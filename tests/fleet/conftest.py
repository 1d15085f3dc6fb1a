# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The simulated VM fleet of the fleet tests: ten VMs, one session.

Each VM has a system-assigned identity named like it with the tutorial's access policy (secrets
get and list) plus certificates get and list, except ``vm07``, whose identity may only list secrets.
``vm02`` also has the user-assigned identity ``deployer``. Where this machine cannot run a fleet
(no root, no network namespaces, no sshd), the fleet tests are skipped with the reason.
"""

import pytest

import fleet_harness

VM_COUNT = 10
WITHOUT_GET = "vm07"
WITH_DEPLOYER = "vm02"
# A user-assigned identity, e.g. for a play that creates what the VMs then read.
DEPLOYER = {"name": "deployer", "permissions": {"secrets": ["get", "list", "set"], "certificates": ["all"]}}


def fleet_vms():
    vms = []
    for vm in fleet_harness.numbered_vms(VM_COUNT):
        if vm.name == WITHOUT_GET:
            vm = fleet_harness.VmSpec(vm.name, permissions={"secrets": ["list"], "certificates": ["get", "list"]})
        elif vm.name == WITH_DEPLOYER:
            vm = fleet_harness.VmSpec(vm.name, user_assigned=("deployer",))
        vms.append(vm)
    return vms


@pytest.fixture(scope="session")
def fleet_unavailable_reason():
    return fleet_harness.unavailable_reason()


@pytest.fixture(scope="session")
def fleet(fleet_unavailable_reason):  # pylint: disable=redefined-outer-name
    if fleet_unavailable_reason:
        pytest.skip(f"cannot run a VM fleet here: {fleet_unavailable_reason}")
    with fleet_harness.Fleet(fleet_vms(), identities=[DEPLOYER]) as running:
        yield running
