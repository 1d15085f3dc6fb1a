# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fleet of simulated Azure VMs on one Linux machine, reached over SSH, each with its own managed identity.

Each VM is a network namespace (:mod:`fleet_network`) with its own hostname and its own ``/srv``,
running sshd (:mod:`fleet_ssh`) and answering IMDS at ``http://169.254.169.254`` (:mod:`imds_relay`)
from one local vault, which tells the VMs apart by their addresses and answers each with its own
identities. Nothing on a VM points the Azure SDK at the vault's identity endpoint: it finds IMDS
where it finds it on Azure. The VMs share the machine's filesystem otherwise, so one
``playbooks/prepare_vm.yml`` run makes the Python environment all of them use.

As a library (the fleet tests)::

    with Fleet([VmSpec("vm01"), VmSpec("vm02", permissions={"secrets": ["list"]})]) as fleet:
        result = fleet.run_playbook("playbooks/vm_app_secrets.yml", extra_vars={"app_env_file": "/srv/shop/secrets.env"})

From the command line (``make fleet-demo``)::

    python tests/fleet/fleet_harness.py demo [--vms 10] [--forks 10] [--rbac]
    python tests/fleet/fleet_harness.py up [--vms 10] [--no-prepare]   # keep a fleet up until Ctrl-C, to try playbooks by hand
    python tests/fleet/fleet_harness.py check            # can a fleet run on this machine?

Everything a fleet makes (namespaces, links, processes, files) is removed when it stops: at the end
of the ``with`` block, after an error, on Ctrl-C or SIGTERM, and at interpreter exit. Fleets of
processes that were killed outright are removed by the next fleet that starts.
"""

import argparse
import atexit
import dataclasses
import fcntl
import hashlib
import json
import os
import re
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time

import yaml

import fleet_network
import fleet_ssh

FLEET_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(FLEET_DIR))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from localvault import config as vault_config  # noqa: E402 pylint: disable=wrong-import-position
from localvault.server import LocalVault  # noqa: E402 pylint: disable=wrong-import-position

RELAY_SCRIPT = os.path.join(FLEET_DIR, "imds_relay.py")
PREPARE_PLAYBOOK = os.path.join(REPO_ROOT, "playbooks", "prepare_vm.yml")
APP_SECRETS_PLAYBOOK = os.path.join(REPO_ROOT, "playbooks", "vm_app_secrets.yml")
ROLLOUT_PLAYBOOK = os.path.join(REPO_ROOT, "playbooks", "certificate_rollout.yml")
REQUIREMENTS = os.path.join(REPO_ROOT, "requirements.txt")
RESULTS_CALLBACK_DIR = os.path.join(REPO_ROOT, "tests", "integration", "callback_plugins")
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
# Kept across runs (and removed by `make clean`): downloading and installing the SDK is the slow part of a fleet.
CACHE_DIR = os.path.join(REPO_ROOT, ".venv", "fleet")
VM_VENV = os.path.join(CACHE_DIR, "vm-python", "venv")
VM_PYTHON = os.path.join(VM_VENV, "bin", "python")
# The Python a VM has before it is prepared (prepare_vm.yml's default); the wheels are for its version.
VM_SYSTEM_PYTHON = "/usr/bin/python3"
WHEELS_ARCHIVE = os.path.join(CACHE_DIR, "wheels.tar.gz")

DEFAULT_PERMISSIONS = {"secrets": ["get", "list"], "certificates": ["get", "list"]}
VAULT_SETTINGS = {"deletion_delay_seconds": 0, "recovery_delay_seconds": 0, "certificate_creation_delay_seconds": 0}
READY_TIMEOUT = 15
# The secrets playbooks/vm_app_secrets.yml reads by default, and where the demo's rollout "restarts" the service.
DEMO_SECRETS = ("shop-db-password", "shop-payment-api-key")
DEMO_RESTART_LOG = "/srv/ssl/restarts.log"
# The RBAC demo's per-VM application secret, e.g. app-vm01.
DEMO_OWN_SECRET = "app-{vm}"
_RECAP_LINE = re.compile(r"^(?P<host>\S+)\s+:\s+(?P<counts>(?:\w+=\d+\s*)+)$")


class FleetUnavailable(RuntimeError):
    """This machine cannot run a fleet; the message says why."""


class FleetError(RuntimeError):
    """A fleet could not be started."""


@dataclasses.dataclass(frozen=True)
class VmSpec:
    """One VM: its name, the access policy of its system-assigned identity and the user-assigned identities it has.

    ``permissions`` is the access policy of the VM's system-assigned identity (named like the VM); with
    ``system_assigned=False`` the VM has none. ``user_assigned`` names identities given to :class:`Fleet`.
    """

    name: str
    permissions: dict = dataclasses.field(default_factory=lambda: {key: list(value) for key, value in DEFAULT_PERMISSIONS.items()})
    system_assigned: bool = True
    user_assigned: tuple = ()


def numbered_vms(count, prefix="vm"):
    return [VmSpec(f"{prefix}{number:02d}") for number in range(1, count + 1)]


def unavailable_reason():
    """Why a fleet cannot run on this machine, or None."""
    reason = fleet_ssh.unavailable_reason()
    if reason is None and shutil.which("unshare") is None:
        reason = "the VM fleet needs unshare (Debian package util-linux)"
    if reason is None and not os.access(VM_SYSTEM_PYTHON, os.X_OK):
        reason = f"the VM fleet needs {VM_SYSTEM_PYTHON}, the Python that makes the VMs' environment"
    return reason or fleet_network.unavailable_reason()


class PlaybookResult:
    """What one ansible-playbook run printed, its exit status, the PLAY RECAP and each task's result per host."""

    def __init__(self, completed, results_path):
        self.rc = completed.returncode
        self.output = completed.stdout + completed.stderr
        self.tasks = {}
        if os.path.exists(results_path):
            with open(results_path, encoding="utf-8") as results:
                self.tasks = json.load(results)
        self.recap = {}
        for line in self.output.splitlines():
            match = _RECAP_LINE.match(line.strip())
            if match:
                self.recap[match.group("host")] = {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", match.group("counts"))}

    def result(self, task_name, host):
        return self.tasks[task_name][host]


class Fleet:
    """A running fleet of simulated VMs; see the module documentation."""

    def __init__(self, vms, identities=(), prepare_python=True, log=None):
        self.vms = list(vms)
        self.identities = list(identities)
        self.prepare_python = prepare_python
        self._log = log or (lambda message: None)
        self.workdir = None
        self.network = None
        self.vault = None
        self.connection = None
        self.inventory_path = None
        self.ansible_config = None
        self.client_key = None
        self.known_hosts = None
        self._processes = []
        self._log_files = []
        self._runs = 0
        self._started = False
        self._previous_handlers = {}
        self._interrupted_during_stop = False

    # lifecycle

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def start(self):
        reason = unavailable_reason()
        if reason:
            raise FleetUnavailable(reason)
        self._started = True
        self._install_signal_handlers()
        atexit.register(self.stop)
        try:
            removed = fleet_network.remove_leftovers()
            if removed:
                self._log(f"removed what a killed fleet left behind: {', '.join(removed)}")
            self.workdir = tempfile.mkdtemp(prefix="kvfleet-")
            self._log(f"creating {len(self.vms)} VMs (network namespaces) in {self.workdir}")
            self.network = fleet_network.FleetNetwork([vm.name for vm in self.vms])
            self.network.create()
            self._start_vault()
            self._start_vms()
            self._write_ansible_files()
            if self.prepare_python:
                self._prepare_python()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        """Remove everything the fleet made. Safe to call more than once; Ctrl-C and SIGTERM wait until it is done."""
        if not self._started:
            return
        self._started = False
        main_thread = threading.current_thread() is threading.main_thread()
        if main_thread:
            restore = self._previous_handlers or {signal_number: signal.getsignal(signal_number) for signal_number in (signal.SIGINT, signal.SIGTERM)}
            for signal_number in restore:
                signal.signal(signal_number, self._note_interruption)
        errors = []
        try:
            for step in (self._end_ssh_masters, self._end_processes, self._remove_network, self._stop_vault, self._remove_files):
                try:
                    step()
                except Exception as exc:  # pylint: disable=broad-exception-caught
                    # The other steps still have to run: a failed one must not leave the rest of the fleet behind.
                    errors.append(f"{step.__name__.strip('_').replace('_', ' ')}: {exc}")
        finally:
            if main_thread:
                for signal_number, handler in restore.items():
                    signal.signal(signal_number, handler)
            self._previous_handlers = {}
            atexit.unregister(self.stop)
        if errors:
            raise FleetError("the fleet was not removed completely: " + "; ".join(errors))
        if self._interrupted_during_stop:
            raise KeyboardInterrupt("interrupted while the fleet was being removed")

    def _note_interruption(self, _signal_number, _frame):
        # An interrupted removal would leave namespaces behind: finish it, then pass the interruption on.
        self._interrupted_during_stop = True

    def _install_signal_handlers(self):
        if threading.current_thread() is not threading.main_thread():
            return

        def interrupt(signal_number, _frame):
            # Unwinds like Ctrl-C, so `with` blocks and pytest's fixture teardown remove the fleet.
            raise KeyboardInterrupt(f"signal {signal_number}")

        self._previous_handlers = {signal.SIGTERM: signal.signal(signal.SIGTERM, interrupt),
                                   signal.SIGINT: signal.getsignal(signal.SIGINT)}

    def _end_ssh_masters(self):
        """Close Ansible's persistent SSH connections while the VMs still answer, so none of them outlives the fleet."""
        control_dir = os.path.join(self.workdir or "", "ssh-control")
        if not self.workdir or not os.path.isdir(control_dir):
            return
        for name in os.listdir(control_dir):
            # ssh -O wants a destination, but the control socket alone decides which connection ends.
            subprocess.run(["ssh", "-O", "exit", "-o", f"ControlPath={os.path.join(control_dir, name)}", "fleet-vm"],
                           capture_output=True, check=False, timeout=10)
        deadline = time.monotonic() + 5
        while os.listdir(control_dir) and time.monotonic() < deadline:
            time.sleep(0.05)

    def _end_processes(self):
        for process in self._processes:
            if process.poll() is None:
                process.terminate()
        for process in self._processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._processes = []
        for handle in self._log_files:
            handle.close()
        self._log_files = []

    def _remove_network(self):
        if self.network is not None:
            network, self.network = self.network, None
            network.destroy()

    def _stop_vault(self):
        if self.vault is not None:
            vault, self.vault = self.vault, None
            vault.stop()

    def _remove_files(self):
        if self.workdir:
            workdir, self.workdir = self.workdir, None
            shutil.rmtree(workdir)

    # the local vault

    def _vault_config(self):
        identities = list(self.identities)
        vms = []
        for vm in self.vms:
            if vm.system_assigned:
                identities.append({"name": vm.name, "system_assigned": True, "permissions": vm.permissions})
            vms.append({"name": vm.name, "addresses": [self.network.addresses[vm.name]],
                        "system_assigned_identity": vm.name if vm.system_assigned else None,
                        "user_assigned_identities": list(vm.user_assigned)})
        return dict(VAULT_SETTINGS, identities=identities, vms=vms)

    def _start_vault(self):
        configuration = vault_config.from_dict(self._vault_config())
        # The vault listens on the bridge only: reachable from every VM and from this machine, not from its other networks.
        self.vault = LocalVault(configuration, os.path.join(self.workdir, "vault"), host=self.network.gateway, ephemeral=True)
        self.connection = self.vault.start()
        self._log(f"local vault at {self.connection['vault_url']}, IMDS for the VMs behind {self.connection['imds_url']}")

    @property
    def vault_url(self):
        return self.connection["vault_url"]

    @property
    def ca_bundle(self):
        return self.connection["ca_bundle"]

    def identity(self, name):
        return next(identity for identity in self.connection["identities"] if identity["name"] == name)

    def vm_root(self, vm_name, path="/srv"):
        """Where this machine sees a VM's private ``/srv`` (or a path below it)."""
        relative = os.path.relpath(path, "/srv")
        return os.path.normpath(os.path.join(self.workdir, "vms", vm_name, "srv", relative))

    # the VMs

    def _vm_environment(self):
        # Where the vault is and how to trust it, as a VM's own configuration would say; no identity endpoint override.
        return {
            "ANSIBLE_KEYVAULT_URL": self.vault_url,
            "ANSIBLE_KEYVAULT_CA_CERT": self.ca_bundle,
            "ANSIBLE_KEYVAULT_VERIFY_CHALLENGE_RESOURCE": "false",
        }

    def _start_vms(self):
        ssh_dir = os.path.join(self.workdir, "ssh")
        os.makedirs(ssh_dir, mode=0o700)
        self.client_key = os.path.join(ssh_dir, "id_ed25519")
        client_public_key = fleet_ssh.generate_key(self.client_key, "keyvault-fleet-controller")
        authorized_keys = os.path.join(ssh_dir, "authorized_keys")
        with open(authorized_keys, "w", encoding="ascii") as handle:
            handle.write(client_public_key + "\n")
        self.known_hosts = os.path.join(ssh_dir, "known_hosts")
        fleet_ssh.ensure_privilege_separation_dir()
        imds_target = self.connection["imds_url"].split("://", 1)[1]
        known_hosts = []
        relays = []
        for vm in self.vms:
            vm_dir = os.path.join(self.workdir, "vms", vm.name)
            os.makedirs(os.path.join(vm_dir, "srv"), mode=0o755)
            address = self.network.addresses[vm.name]
            host_key = os.path.join(vm_dir, "ssh_host_ed25519_key")
            known_hosts.append(fleet_ssh.known_hosts_line(address, fleet_ssh.generate_key(host_key, vm.name)))
            sshd_config = os.path.join(vm_dir, "sshd_config")
            with open(sshd_config, "w", encoding="utf-8") as handle:
                handle.write(fleet_ssh.sshd_config(address, host_key, authorized_keys, os.path.join(vm_dir, "sshd.pid"), self._vm_environment()))
            relay = self._spawn(vm, "imds-relay", [sys.executable, RELAY_SCRIPT, f"{fleet_network.IMDS_ADDRESS}:80", imds_target],
                                stdout=subprocess.PIPE)
            relays.append((vm, relay))
            # A VM of its own: its hostname, and a /srv that only it sees (the rest of the filesystem is shared).
            boot = 'hostname "$1" && mount --bind "$2" /srv && exec "$3" -D -e -f "$4"'
            self._spawn(vm, "sshd", ["unshare", "--uts", "sh", "-c", boot, "vm-boot", vm.name, os.path.join(vm_dir, "srv"), fleet_ssh.SSHD,
                                     sshd_config])
        with open(self.known_hosts, "w", encoding="ascii") as handle:
            handle.writelines(known_hosts)
        for vm, relay in relays:
            self._wait_for_relay(vm, relay)
        for vm in self.vms:
            self._wait_for_sshd(vm)
        self._log(f"{len(self.vms)} VMs answer SSH and IMDS: " + ", ".join(f"{vm.name}={self.network.addresses[vm.name]}" for vm in self.vms))

    def _spawn(self, vm, label, argv, stdout=None):
        log_path = os.path.join(self.workdir, "vms", vm.name, f"{label}.log")
        log_file = open(log_path, "ab")  # pylint: disable=consider-using-with
        self._log_files.append(log_file)
        # A session of its own: Ctrl-C in a terminal reaches the harness, which then stops these in order.
        process = subprocess.Popen(self.network.command_in(vm.name, argv), stdout=stdout or log_file, stderr=log_file,  # pylint: disable=consider-using-with
                                   env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}, start_new_session=True)
        process.label = f"{label} of {vm.name}"
        process.log_path = log_path
        self._processes.append(process)
        return process

    def _wait_for_relay(self, vm, relay):
        ready, _writable, _errors = select.select([relay.stdout], [], [], READY_TIMEOUT)
        line = relay.stdout.readline() if ready else b""
        relay.stdout.close()
        if line.strip() != b"ready":
            raise FleetError(f"the IMDS relay of {vm.name} did not start:\n{self._log_tail(relay)}")

    def _wait_for_sshd(self, vm):
        address = self.network.addresses[vm.name]
        process = next(process for process in self._processes if process.label == f"sshd of {vm.name}")
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            try:
                with socket.create_connection((address, 22), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise FleetError(f"sshd of {vm.name} did not start:\n{self._log_tail(process)}")

    @staticmethod
    def _log_tail(process, lines=20):
        with open(process.log_path, encoding="utf-8", errors="replace") as handle:
            return "".join(handle.readlines()[-lines:])

    def ssh(self, vm_name, command, input_text=None, timeout=60):
        """Run a shell command on a VM over SSH, with ``input_text`` as its standard input; returns the CompletedProcess (text)."""
        argv = ["ssh", "-i", self.client_key, "-o", f"UserKnownHostsFile={self.known_hosts}", "-o", "StrictHostKeyChecking=yes",
                "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", f"root@{self.network.addresses[vm_name]}", command]
        return subprocess.run(argv, input=input_text or "", capture_output=True, text=True, timeout=timeout, check=False)

    # Ansible

    def _write_ansible_files(self):
        hosts = {}
        for vm in self.vms:
            host = {"ansible_host": self.network.addresses[vm.name]}
            if vm.system_assigned:
                host["vm_identity"] = self._identity_facts(vm.name)
            host["vm_user_assigned_identities"] = {name: self._identity_facts(name) for name in vm.user_assigned}
            hosts[vm.name] = host
        ssh_options = f"-o UserKnownHostsFile={self.known_hosts} -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes"
        inventory = {"all": {"children": {"fleet": {"hosts": hosts, "vars": {
            "ansible_user": "root",
            "ansible_ssh_private_key_file": self.client_key,
            "ansible_ssh_common_args": ssh_options,
            "ansible_python_interpreter": VM_PYTHON,
        }}}}}
        self.inventory_path = os.path.join(self.workdir, "inventory.yml")
        with open(self.inventory_path, "w", encoding="utf-8") as handle:
            handle.write("# The simulated VM fleet made by tests/fleet/fleet_harness.py; removed with the fleet.\n")
            yaml.safe_dump(inventory, handle, sort_keys=False)
        collections = os.path.join(self.workdir, "collections", "ansible_collections", "keyvault")
        os.makedirs(collections)
        os.symlink(REPO_ROOT, os.path.join(collections, "azure"))
        self.ansible_config = os.path.join(self.workdir, "ansible.cfg")
        with open(self.ansible_config, "w", encoding="utf-8") as handle:
            handle.write(
                "[defaults]\n"
                f"inventory = {self.inventory_path}\n"
                f"collections_path = {os.path.join(self.workdir, 'collections')}\n"
                "collections_scan_sys_path = false\n"
                "retry_files_enabled = false\n"
                "\n[ssh_connection]\n"
                "pipelining = true\n"
                f"control_path_dir = {os.path.join(self.workdir, 'ssh-control')}\n")

    def _identity_facts(self, name):
        identity = self.identity(name)
        return {key: identity[key] for key in ("name", "client_id", "object_id", "resource_id")}

    def _playbook_env(self, color):
        """The environment of ansible-playbook: this fleet's configuration, and the vault for what runs on this machine."""
        environment = dict(os.environ)
        for name in [name for name in environment if name.startswith(("ANSIBLE_", "AZURE_"))]:
            del environment[name]
        # Lookups and tasks delegated to this machine reach the vault's identity endpoint as a caller that is not a VM.
        environment.update(self.vault.client_environment())
        environment.update(ANSIBLE_CONFIG=self.ansible_config, ANSIBLE_FORCE_COLOR="1" if color else "0", ANSIBLE_NOCOLOR="0" if color else "1")
        return environment

    def run_playbook(self, playbook, extra_vars=None, forks=10, limit=None, stream=False):
        """Run a playbook across the fleet; returns a :class:`PlaybookResult`. ``stream`` also prints the output as it comes.

        Extra variables are templated per host, so ``{"x": "app-{{ inventory_hostname }}"}`` differs from VM to VM.
        """
        self._runs += 1
        results_path = os.path.join(self.workdir, f"results-{self._runs}.json")
        command = [ANSIBLE_PLAYBOOK, "--forks", str(forks), playbook]
        if extra_vars:
            command += ["--extra-vars", json.dumps(extra_vars)]
        if limit:
            command += ["--limit", limit]
        environment = self._playbook_env(color=stream and sys.stdout.isatty())
        environment.update(ANSIBLE_CALLBACK_PLUGINS=RESULTS_CALLBACK_DIR, ANSIBLE_CALLBACKS_ENABLED="record_results",
                           KEYVAULT_TEST_RESULTS=results_path)
        if not stream:
            completed = subprocess.run(command, cwd=self.workdir, env=environment, capture_output=True, text=True, check=False)
            return PlaybookResult(completed, results_path)
        with subprocess.Popen(command, cwd=self.workdir, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process:
            output = []
            for line in process.stdout:
                sys.stdout.write(line)
                sys.stdout.flush()
                output.append(line)
        return PlaybookResult(subprocess.CompletedProcess(command, process.returncode, "".join(output), ""), results_path)

    def _prepare_python(self):
        first = self.vms[0].name
        os.makedirs(CACHE_DIR, exist_ok=True)
        with open(os.path.join(CACHE_DIR, ".lock"), "a", encoding="utf-8") as lock:
            # Fleets started at the same time (a demo during a test run) share the cached environment.
            fcntl.flock(lock, fcntl.LOCK_EX)
            wheels = ensure_wheels(self._log)
            # The VMs share one filesystem, so preparing one of them prepares the environment all of them use.
            self._log(f"preparing the VMs' Python with playbooks/prepare_vm.yml (on {first}; the VMs share the filesystem)")
            result = self.run_playbook(PREPARE_PLAYBOOK, extra_vars={"keyvault_venv": VM_VENV, "keyvault_wheels": wheels}, limit=first)
        if result.rc != 0:
            raise FleetError(f"playbooks/prepare_vm.yml failed on {first}:\n{result.output[-4000:]}")

    def set_authorization(self, changes):
        """Change the vault's permission model and/or role assignments (see localvault/rbac.py); returns the new ones."""
        return self.vault.vault.authorization.update(changes).describe()

    def reset_authorization(self):
        """Back to the configured permission model (access policies) and role assignments (none)."""
        return self.vault.vault.authorization.reset().describe()

    def counters(self):
        """The vault's request counters (see localvault/controls.py)."""
        return self.vault.vault.controls.counters.snapshot()

    def reset_counters(self):
        self.vault.vault.controls.counters.reset()


def ensure_wheels(log):
    """An archive of wheels of the collection's requirements for the VMs' Python (the VMs cannot reach PyPI).

    Made once, and again when requirements.txt or the VMs' Python version changes.
    """
    version = subprocess.run([VM_SYSTEM_PYTHON, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    with open(REQUIREMENTS, "rb") as handle:
        digest = hashlib.sha256(handle.read() + version.encode()).hexdigest()
    stamp = WHEELS_ARCHIVE + ".sha256"
    if os.path.exists(WHEELS_ARCHIVE) and os.path.exists(stamp):
        with open(stamp, encoding="ascii") as handle:
            if handle.read().strip() == digest:
                return WHEELS_ARCHIVE
    log(f"downloading the requirements' wheels for the VMs' Python {version} (once; kept in .venv/fleet)")
    with tempfile.TemporaryDirectory(prefix="wheels-", dir=CACHE_DIR) as download_dir:
        completed = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--only-binary", ":all:", "--python-version", version,
                                    "--requirement", REQUIREMENTS, "--dest", download_dir], capture_output=True, text=True, check=False)
        if completed.returncode != 0:
            raise FleetError(f"cannot download the wheels of {REQUIREMENTS}:\n{completed.stderr[-2000:]}")
        with tarfile.open(WHEELS_ARCHIVE + ".tmp", "w:gz") as archive:
            for name in sorted(os.listdir(download_dir)):
                archive.add(os.path.join(download_dir, name), arcname=name)
    os.replace(WHEELS_ARCHIVE + ".tmp", WHEELS_ARCHIVE)
    with open(stamp, "w", encoding="ascii") as handle:
        handle.write(digest + "\n")
    return WHEELS_ARCHIVE


class _IdentityToken:
    """A credential for this machine's own scripts: tokens the in-process vault issues for one of its identities."""

    def __init__(self, fleet, identity_name):
        self._vault = fleet.vault.vault
        self._identity = next(identity for identity in self._vault.directory if identity.name == identity_name)

    def get_token(self, *_scopes, **_kwargs):
        from azure.core.credentials import AccessToken  # pylint: disable=import-outside-toplevel
        token, claims = self._vault.tokens.issue(self._identity, "https://vault.azure.net")
        return AccessToken(token, claims["exp"])


def secret_client(fleet, identity="operator"):
    """A SecretClient on the fleet's vault, as ``identity``, for preparing and checking what the vault holds."""
    from azure.keyvault.secrets import SecretClient  # pylint: disable=import-outside-toplevel
    return SecretClient(fleet.vault_url, _IdentityToken(fleet, identity), verify_challenge_resource=False, connection_verify=fleet.ca_bundle)


def certificate_client(fleet, identity="operator"):
    """A CertificateClient on the fleet's vault, as ``identity``, for checking what the vault holds."""
    from azure.keyvault.certificates import CertificateClient  # pylint: disable=import-outside-toplevel
    return CertificateClient(fleet.vault_url, _IdentityToken(fleet, identity), verify_challenge_resource=False, connection_verify=fleet.ca_bundle)


def own_secret_assignments(fleet, secret_name):
    """Role assignments giving each VM's identity Key Vault Secrets User on its own secret only (``secret_name`` formats
    ``{vm}``), and the operator Key Vault Secrets Officer on the vault, to store them."""
    assignments = [{"identity": vm.name, "role": "Key Vault Secrets User", "scope": "secrets/" + secret_name.format(vm=vm.name)}
                   for vm in fleet.vms if vm.system_assigned]
    return assignments + [{"identity": "operator", "role": "Key Vault Secrets Officer", "scope": "/"}]


def neighbours(fleet):
    """Each VM's next VM (the last one's is the first): whose secret it asks for, to be refused."""
    names = [vm.name for vm in fleet.vms]
    return {name: names[(index + 1) % len(names)] for index, name in enumerate(names)}


def _print(message):
    sys.stdout.write(f"==> {message}\n")
    sys.stdout.flush()


def _reads_per_identity(fleet):
    counters = fleet.counters()["identities"]
    return ", ".join(f"{vm.name}: {counters.get(vm.name, {}).get('GetSecret', 0)}" for vm in fleet.vms)


def _restarts(fleet, path):
    counts = []
    for vm in fleet.vms:
        try:
            with open(fleet.vm_root(vm.name, path), encoding="utf-8") as handle:
                counts.append(f"{vm.name}: {len(handle.readlines())}")
        except FileNotFoundError:
            counts.append(f"{vm.name}: 0")
    return ", ".join(counts)


def demo(arguments):
    with Fleet(numbered_vms(arguments.vms), log=_print) as fleet:
        client = secret_client(fleet)
        for name in DEMO_SECRETS:
            client.set_secret(name, secrets.token_urlsafe(24))
        _print(f"the operator stored the application's secrets {' and '.join(DEMO_SECRETS)}")
        _print("every VM reads them with its own managed identity: playbooks/vm_app_secrets.yml")
        result = fleet.run_playbook(APP_SECRETS_PLAYBOOK, extra_vars={"app_env_file": "/srv/shop/secrets.env"}, forks=arguments.forks, stream=True)
        failed = result.rc != 0
        _print(f"secrets read per identity, as the vault counted them: {_reads_per_identity(fleet)}")
        rollout_vars = {
            "certificate_dir": "/srv/ssl",
            # The certificate is made once on this machine, as the vault's operator identity.
            "certificate_manager_client_id": fleet.identity("operator")["client_id"],
            # The VMs run no web server: the "restart" leaves a line in a file, to count them.
            "certificate_restart_command": ["sh", "-c", f"date >> {DEMO_RESTART_LOG}"],
        }
        for run in ("first", "second"):
            _print(f"certificate rollout across the fleet, {run} run: playbooks/certificate_rollout.yml")
            result = fleet.run_playbook(ROLLOUT_PLAYBOOK, extra_vars=rollout_vars, forks=arguments.forks, stream=True)
            failed = failed or result.rc != 0
        _print(f"service restarts per VM after both runs: {_restarts(fleet, DEMO_RESTART_LOG)}")
        changed = sorted(host for host, counts in result.recap.items() if counts.get("changed"))
        if result.rc != 0:
            _print("the second run failed")
        else:
            _print("second run: " + (f"changes on {', '.join(changed)}" if changed else "no change on any VM"))
        return 1 if failed or changed else 0


def demo_rbac(arguments):
    """The fleet on a vault with the Azure RBAC permission model: each VM may read its own application secret only."""
    with Fleet(numbered_vms(arguments.vms), log=_print) as fleet:
        fleet.set_authorization({"permission_model": "rbac", "role_assignments": own_secret_assignments(fleet, DEMO_OWN_SECRET)})
        _print(f"the vault uses Azure RBAC: each VM's identity holds Key Vault Secrets User on its own secret "
               f"{DEMO_OWN_SECRET} only; the operator holds Key Vault Secrets Officer on the vault")
        client = secret_client(fleet)
        for vm in fleet.vms:
            client.set_secret(DEMO_OWN_SECRET.format(vm=vm.name), secrets.token_urlsafe(24))
        _print("every VM reads its own secret with its own managed identity: playbooks/vm_app_secrets.yml")
        own = {"app_env_file": "/srv/app/secrets.env", "app_secrets": {"APP_SECRET": DEMO_OWN_SECRET.format(vm="{{ inventory_hostname }}")}}
        result = fleet.run_playbook(APP_SECRETS_PLAYBOOK, extra_vars=own, forks=arguments.forks, stream=True)
        failed = result.rc != 0
        _print("every VM now asks for its neighbour's secret, which its role does not cover")
        other = {"app_env_file": "/srv/app/neighbour.env", "vm_neighbours": neighbours(fleet),
                 "app_secrets": {"NEIGHBOUR_SECRET": DEMO_OWN_SECRET.format(vm="{{ vm_neighbours[inventory_hostname] }}")}}
        result = fleet.run_playbook(APP_SECRETS_PLAYBOOK, extra_vars=other, forks=arguments.forks, stream=True)
        refused = sorted(host for host, counts in result.recap.items() if counts.get("failed"))
        statuses = fleet.counters()["statuses"]["GetSecret"]
        _print(f"GetSecret answers, as the vault counted them: {statuses.get('200', 0)} read, {statuses.get('403', 0)} refused; "
               f"VMs refused their neighbour's secret: {len(refused)} of {len(fleet.vms)}")
        return 1 if failed or len(refused) != len(fleet.vms) else 0


def up(arguments):
    with Fleet(numbered_vms(arguments.vms), prepare_python=not arguments.no_prepare, log=_print) as fleet:
        _print("the fleet is up; in another shell:")
        sys.stdout.write(f"    export ANSIBLE_CONFIG={fleet.ansible_config}\n"
                         f"    {ANSIBLE_PLAYBOOK} {APP_SECRETS_PLAYBOOK} -e app_env_file=/srv/shop/secrets.env\n"
                         f"    ssh -i {fleet.client_key} -o UserKnownHostsFile={fleet.known_hosts} root@{fleet.network.addresses[fleet.vms[0].name]}\n"
                         "  press Ctrl-C to remove it\n")
        sys.stdout.flush()
        signal.pause()
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="fleet_harness.py", description="A fleet of simulated Azure VMs for keyvault.azure.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check", help="say whether a fleet can run on this machine")
    for name, help_text in (("demo", "run the fleet demo"), ("up", "keep a fleet up until Ctrl-C")):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("--vms", type=int, default=10, help="number of VMs (default 10)")
        if name == "demo":
            command.add_argument("--forks", type=int, default=10, help="ansible-playbook forks (default 10)")
            command.add_argument("--rbac", action="store_true", help="the Azure RBAC variant: each VM may read its own secret only")
        else:
            command.add_argument("--no-prepare", action="store_true", help="skip playbooks/prepare_vm.yml (the VMs then have no Azure SDK)")
    arguments = parser.parse_args(argv)
    # "Press Ctrl-C to remove it" must hold even when the harness was started with SIGINT ignored, as a shell
    # without job control starts its background commands (and pytest run that way passes it on): Python then
    # leaves SIGINT ignored, and `up` would never end.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    reason = unavailable_reason()
    if reason:
        sys.stderr.write(f"fleet_harness: cannot run a VM fleet here: {reason}\n")
        return 2
    if arguments.command == "check":
        sys.stdout.write("a VM fleet can run on this machine\n")
        return 0
    try:
        if arguments.command == "demo":
            return demo_rbac(arguments) if arguments.rbac else demo(arguments)
        return up(arguments)
    except KeyboardInterrupt:
        sys.stderr.write("fleet_harness: interrupted; the fleet was removed\n")
        return 130
    except FleetError as exc:
        sys.stderr.write(f"fleet_harness: {exc}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
