# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SSH for a simulated VM fleet: generated keys, one sshd configuration per VM, and the client's known_hosts.

Every VM gets its own host key and the controller one client key, so Ansible connects with host key
checking on, as it would to real VMs.
"""

import os
import shutil
import subprocess

SSHD = "/usr/sbin/sshd"
PRIVILEGE_SEPARATION_DIR = "/run/sshd"


def unavailable_reason():
    """Why sshd cannot run here, or None."""
    if not os.access(SSHD, os.X_OK):
        return f"the VM fleet needs {SSHD} (Debian package openssh-server; run tests/fleet/install-host-packages as root)"
    for program in ("ssh", "ssh-keygen"):
        if shutil.which(program) is None:
            return f"the VM fleet needs {program} (Debian package openssh-client)"
    return None


def generate_key(path, comment):
    """A new ed25519 key pair at ``path`` and ``path.pub``; returns the public key line."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path], check=True, capture_output=True)
    with open(path + ".pub", encoding="ascii") as public_key:
        return public_key.read().strip()


def sshd_config(address, host_key, authorized_keys, pid_file, environment):
    """The configuration of one VM's sshd: key login for root only, on the VM's address, with ``environment`` set for sessions."""
    lines = [
        f"ListenAddress {address}:22",
        f"HostKey {host_key}",
        f"PidFile {pid_file}",
        f"AuthorizedKeysFile {authorized_keys}",
        "PermitRootLogin prohibit-password",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        # PAM would add the machine's own session setup (limits, motd, environment files) that a test VM does not need.
        "UsePAM no",
        # The keys live in a temporary folder under /tmp, which is world-writable and so fails sshd's strict checks.
        "StrictModes no",
        "PrintMotd no",
        "Subsystem sftp internal-sftp",
        "MaxStartups 100",
        "LogLevel ERROR",
    ]
    if environment:
        lines.append("SetEnv " + " ".join(f'"{name}={value}"' for name, value in environment.items()))
    return "\n".join(lines) + "\n"


def known_hosts_line(address, host_public_key):
    key_type, key_data = host_public_key.split()[:2]
    return f"{address} {key_type} {key_data}\n"


def ensure_privilege_separation_dir():
    """sshd refuses to start without its privilege separation folder, which only the package's service creates."""
    os.makedirs(PRIVILEGE_SEPARATION_DIR, mode=0o755, exist_ok=True)
