"""Virtual machines: which managed identities the IMDS endpoint answers with, depending on who calls it.

The real IMDS knows the calling VM from the network link a request arrives on. One local vault
serves many simulated VMs, so it tells them apart by the source address of the request instead. A
caller whose address belongs to no configured VM (the machine the vault runs on, a test, a
controller) gets the vault's own identities, exactly as when no VM is configured.
"""

import dataclasses
import ipaddress

from localvault.identity import AssignedIdentities


def normalized_address(text):
    """``text`` as a canonical IP address string (an IPv4-mapped IPv6 address as IPv4); ValueError if it is none."""
    address = ipaddress.ip_address(text)
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)


@dataclasses.dataclass(frozen=True)
class VirtualMachine:
    """A VM: the addresses it calls from, its system-assigned identity (or None) and its user-assigned identities."""

    name: str
    addresses: tuple
    system_assigned: object = None
    user_assigned: tuple = ()

    def identities(self):
        return AssignedIdentities(self.system_assigned, tuple(self.user_assigned))

    def describe(self):
        return {
            "name": self.name,
            "addresses": list(self.addresses),
            "system_assigned_identity": self.system_assigned.name if self.system_assigned else None,
            "user_assigned_identities": [identity.name for identity in self.user_assigned],
        }


class Fleet:
    """The configured VMs, found by the source address of a request."""

    def __init__(self, vms, identities):
        self._vms = tuple(vms)
        self._by_address = {address: vm for vm in self._vms for address in vm.addresses}
        placed = {vm.system_assigned.name for vm in self._vms if vm.system_assigned}
        # A VM's system-assigned identity belongs to that VM alone; everything else stays available to the host.
        unplaced = [identity for identity in identities if not (identity.system_assigned and identity.name in placed)]
        self._host = AssignedIdentities(
            next((identity for identity in unplaced if identity.system_assigned), None),
            tuple(identity for identity in unplaced if not identity.system_assigned))

    def __iter__(self):
        return iter(self._vms)

    def caller(self, address):
        """``(vm_or_None, AssignedIdentities)`` for a request from ``address``."""
        try:
            vm = self._by_address.get(normalized_address(address))
        except ValueError:
            vm = None
        if vm is None:
            return None, self._host
        return vm, vm.identities()
