# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The network of a simulated VM fleet: one network namespace per VM, all on a bridge in the host namespace.

::

    host namespace                                  namespace kvfleet-<run>-<vm>
    bridge kvf<run>br 198.18.N.1/24 ---- veth ----  eth0 198.18.N.(10+i)/24
    (the local vault listens here)                  lo   127.0.0.1, 169.254.169.254/32 (the VM's IMDS)

Addresses come from 198.18.0.0/15, the range set aside for testing networks (RFC 2544); each fleet
takes a /24 of it that no interface or route of the machine uses yet. Names carry a run id made of the
process id of the harness and a letter, so a later run can remove what a killed one left behind.
"""

import fcntl
import ipaddress
import itertools
import json
import os
import re
import signal
import string
import subprocess
import sys
import time

TEST_RANGE = ipaddress.ip_network("198.18.0.0/15")
IMDS_ADDRESS = "169.254.169.254"
NAMESPACE_PREFIX = "kvfleet-"
LINK_PREFIX = "kvf"
# VM number i (from 1) gets host number FIRST_VM_HOST + i of the subnet.
FIRST_VM_HOST = 10
MAX_VMS = 99
_LOCK_PATH = "/run/lock/keyvault-fleet.lock"
# A fleet's names start with its run id: the harness's process id and a letter, as one process may run several fleets.
_OWNED_NAMESPACE = re.compile(r"^kvfleet-(\d+)[a-z]-")
_OWNED_LINK = re.compile(r"^kvf(\d+)[a-z](?:br|v\d+)$")
# "z" is kept for the probe of unavailable_reason(), which may run while fleets of the same process exist.
_RUN_LETTERS = itertools.cycle(string.ascii_lowercase[:-1])


class NetworkError(RuntimeError):
    """A step of building or removing the fleet's network failed."""


def ip(*arguments, check=True):
    """Run ``ip ARGUMENTS``; raise NetworkError with its message when it fails and ``check`` is set."""
    completed = subprocess.run(["ip", *arguments], capture_output=True, text=True, check=False)
    if check and completed.returncode != 0:
        raise NetworkError(f"ip {' '.join(arguments)}: {completed.stderr.strip() or completed.returncode}")
    return completed


def unavailable_reason():
    """Why network namespaces cannot be made here, or None when they can (checked by making and removing one)."""
    if not sys.platform.startswith("linux"):
        return "the VM fleet needs Linux network namespaces"
    if os.geteuid() != 0:
        return "the VM fleet needs root to create network namespaces (ip netns)"
    if subprocess.run(["sh", "-c", "command -v ip"], capture_output=True, check=False).returncode != 0:
        return "the VM fleet needs the ip command (Debian package iproute2)"
    run_id = f"{os.getpid()}z"
    probe = f"{NAMESPACE_PREFIX}{run_id}-probe"
    link = f"{LINK_PREFIX}{run_id}v0"
    bridge = f"{LINK_PREFIX}{run_id}br"
    try:
        ip("netns", "add", probe)
        ip("link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", probe)
        ip("link", "add", bridge, "type", "bridge")
    except NetworkError as exc:
        return f"cannot create network namespaces, veth pairs and bridges here: {exc}"
    finally:
        ip("link", "del", bridge, check=False)
        ip("link", "del", link, check=False)
        ip("netns", "del", probe, check=False)
    return None


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def namespace_pids(namespace):
    completed = ip("netns", "pids", namespace, check=False)
    return [int(pid) for pid in completed.stdout.split() if pid.isdigit()]


def kill_namespace_processes(namespace, grace=3.0):
    """End every process inside ``namespace``: SIGTERM, then SIGKILL for those still there after ``grace`` seconds."""
    for signal_number, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 1.0)):
        pids = namespace_pids(namespace)
        for pid in pids:
            try:
                os.kill(pid, signal_number)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + wait
        while pids and time.monotonic() < deadline:
            pids = [pid for pid in pids if _alive(pid)]
            time.sleep(0.05)
        if not pids:
            return


def remove_leftovers():
    """Remove namespaces and links that fleets of processes no longer running left behind (e.g. after SIGKILL)."""
    removed = []
    for line in ip("netns", "list", check=False).stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        match = _OWNED_NAMESPACE.match(name)
        if match and not _alive(int(match.group(1))):
            kill_namespace_processes(name)
            ip("netns", "del", name, check=False)
            removed.append(name)
    for link in json.loads(ip("-j", "link", "show", check=False).stdout or "[]"):
        name = link.get("ifname", "")
        match = _OWNED_LINK.match(name)
        if match and not _alive(int(match.group(1))):
            ip("link", "del", name, check=False)
            removed.append(name)
    return removed


def _networks_in_use():
    networks = []
    for interface in json.loads(ip("-j", "addr", "show", check=False).stdout or "[]"):
        for address in interface.get("addr_info", []):
            networks.append(ipaddress.ip_network(f"{address['local']}/{address['prefixlen']}", strict=False))
    for route in json.loads(ip("-j", "route", "show", "table", "all", check=False).stdout or "[]"):
        destination = route.get("dst", "")
        if destination and destination != "default":
            try:
                networks.append(ipaddress.ip_network(destination, strict=False))
            except ValueError:
                pass
    return networks


def _free_subnet():
    in_use = _networks_in_use()
    for subnet in TEST_RANGE.subnets(new_prefix=24):
        if not any(subnet.overlaps(network) for network in in_use if network.version == 4):
            return subnet
    raise NetworkError(f"every /24 of {TEST_RANGE} is in use on this machine")


class FleetNetwork:
    """The bridge, namespaces and veth pairs of one fleet. ``create()`` builds them, ``destroy()`` removes all of them."""

    def __init__(self, vm_names):
        if not 0 < len(vm_names) <= MAX_VMS:
            raise ValueError(f"a fleet has 1 to {MAX_VMS} VMs")
        self.run_id = f"{os.getpid()}{next(_RUN_LETTERS)}"
        self.vm_names = list(vm_names)
        self.bridge = f"{LINK_PREFIX}{self.run_id}br"
        self.subnet = None
        self.gateway = None
        self.addresses = {}
        self._namespaces = []
        self._bridge_made = False

    def namespace(self, vm_name):
        return f"{NAMESPACE_PREFIX}{self.run_id}-{vm_name}"

    def create(self):
        os.makedirs(os.path.dirname(_LOCK_PATH), exist_ok=True)
        with open(_LOCK_PATH, "a", encoding="utf-8") as lock:
            # Two fleets starting at once must not pick the same subnet.
            fcntl.flock(lock, fcntl.LOCK_EX)
            self.subnet = _free_subnet()
            self.gateway = str(self.subnet.network_address + 1)
            self._bridge_made = True
            ip("link", "add", self.bridge, "type", "bridge")
            ip("addr", "add", f"{self.gateway}/{self.subnet.prefixlen}", "dev", self.bridge)
            ip("link", "set", self.bridge, "up")
        for index, vm_name in enumerate(self.vm_names, start=1):
            namespace = self.namespace(vm_name)
            address = str(self.subnet.network_address + FIRST_VM_HOST + index)
            host_end = f"{LINK_PREFIX}{self.run_id}v{index}"
            self._namespaces.append(namespace)
            ip("netns", "add", namespace)
            ip("link", "add", host_end, "type", "veth", "peer", "name", "eth0", "netns", namespace)
            ip("link", "set", host_end, "master", self.bridge)
            ip("link", "set", host_end, "up")
            ip("-n", namespace, "addr", "add", f"{address}/{self.subnet.prefixlen}", "dev", "eth0")
            ip("-n", namespace, "link", "set", "eth0", "up")
            ip("-n", namespace, "link", "set", "lo", "up")
            ip("-n", namespace, "addr", "add", f"{IMDS_ADDRESS}/32", "dev", "lo")
            self.addresses[vm_name] = address

    def command_in(self, vm_name, argv):
        """``argv`` run inside the VM's namespace."""
        return ["ip", "netns", "exec", self.namespace(vm_name), *argv]

    def destroy(self):
        """Remove everything ``create()`` made, as far as it got; every step is tried even when one fails."""
        errors = []
        for index, namespace in reversed(list(enumerate(self._namespaces, start=1))):
            kill_namespace_processes(namespace)
            # Deleting the host end removes the pair at once; a namespace may outlive its deletion for a while
            # (closing TCP connections keep it), and would keep the pair with it.
            ip("link", "del", f"{LINK_PREFIX}{self.run_id}v{index}", check=False)
            completed = ip("netns", "del", namespace, check=False)
            if completed.returncode != 0 and namespace in ip("netns", "list", check=False).stdout.split():
                errors.append(f"namespace {namespace}: {completed.stderr.strip()}")
        self._namespaces = []
        if self._bridge_made:
            completed = ip("link", "del", self.bridge, check=False)
            if completed.returncode != 0 and ip("link", "show", self.bridge, check=False).returncode == 0:
                errors.append(f"bridge {self.bridge}: {completed.stderr.strip()}")
            self._bridge_made = False
        if errors:
            raise NetworkError("; ".join(errors))
