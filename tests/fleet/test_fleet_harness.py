# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet harness itself: it refuses to run where it cannot, and leaves nothing behind however it ends."""

import os
import re
import signal
import subprocess
import sys
import time

import pytest

import fleet_harness
from localvault.config import ConfigError

HARNESS = os.path.join(fleet_harness.FLEET_DIR, "fleet_harness.py")


def leftovers(run_pattern, workdir):
    """What is left on this machine of the fleet with run ids matching ``run_pattern`` and this working folder."""
    found = []
    namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    found += [line.split()[0] for line in namespaces.splitlines() if re.match(rf"kvfleet-{run_pattern}-", line)]
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True).stdout
    found += [line.split(":")[1].strip() for line in links.splitlines() if re.match(rf"kvf{run_pattern}(br|v)", line.split(":")[1].strip())]
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                command = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if workdir in command:
            found.append(f"process {pid}: {command}")
    if os.path.exists(workdir):
        found.append(workdir)
    return found


def test_it_refuses_to_run_where_namespaces_cannot_be_made(fleet_unavailable_reason):
    if fleet_unavailable_reason:
        # This machine is such a place: the command line says why, as the skipped fleet tests do.
        command, reason = [sys.executable, HARNESS, "demo"], fleet_unavailable_reason
    else:
        # Root in a user namespace of its own has no right to make network namespaces.
        command, reason = ["unshare", "--user", "--map-root-user", sys.executable, HARNESS, "demo"], "cannot create network namespaces"
    completed = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert completed.returncode == 2
    assert completed.stderr.startswith("fleet_harness: cannot run a VM fleet here: ")
    assert reason in completed.stderr


@pytest.fixture
def runnable(fleet_unavailable_reason):
    if fleet_unavailable_reason:
        pytest.skip(f"cannot run a VM fleet here: {fleet_unavailable_reason}")


def test_a_stopped_fleet_leaves_nothing_behind(runnable):  # pylint: disable=unused-argument
    fleet = fleet_harness.Fleet(fleet_harness.numbered_vms(2, prefix="gone"), prepare_python=False).start()
    run_id, workdir = fleet.network.run_id, fleet.workdir
    assert fleet.ssh("gone01", "hostname").stdout == "gone01\n"
    assert len(leftovers(run_id, workdir)) > 2
    fleet.stop()
    assert not leftovers(run_id, workdir)


def test_a_fleet_that_fails_to_start_leaves_nothing_behind(runnable):  # pylint: disable=unused-argument
    fleet = fleet_harness.Fleet([fleet_harness.VmSpec("broken01", permissions={"secrets": ["fly"]})], prepare_python=False)
    with pytest.raises(ConfigError, match="unknown secrets permissions fly"):
        fleet.start()
    assert fleet.workdir is None and fleet.network is None
    namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    assert "broken01" not in namespaces


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGINT])
def test_an_interrupted_fleet_removes_itself(runnable, tmp_path, signal_number):  # pylint: disable=unused-argument
    log_path = tmp_path / "harness.log"
    with open(log_path, "wb") as log:
        # Without preparing Python: an interruption must not leave the environment the other fleets share half made.
        process = subprocess.Popen([sys.executable, HARNESS, "up", "--vms", "2", "--no-prepare"], stdout=log,  # pylint: disable=consider-using-with
                                   stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while "the fleet is up" not in log_path.read_text() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        workdir = re.search(r"in (/\S+kvfleet-\S+)", log_path.read_text()).group(1)
        assert leftovers(rf"{process.pid}[a-z]", workdir)
        process.send_signal(signal_number)
        assert process.wait(timeout=60) == 130, log_path.read_text()
    finally:
        if process.poll() is None:
            process.kill()
    assert "interrupted; the fleet was removed" in log_path.read_text()
    assert not leftovers(rf"{process.pid}[a-z]", workdir)
