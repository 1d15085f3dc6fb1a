# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The README's quickstart works as written, in a clean shell, on a fresh copy of this checkout.

tests/docs/quickstart.py takes the commands from the README's marked blocks and runs them unchanged;
this test gives them what a new user has: the files of the checkout (tracked and new, as a clone
would have them) in a folder of their own, the virtual environment ``make test`` built, and an
environment with nothing but a system PATH, a HOME of its own and a locale (``env -i`` style). Where
the machine allows it the quickstart gets a network namespace of its own, so that the local vault's
fixed ports cannot clash with a vault a developer keeps running.
"""

import json
import os
import socket
import subprocess
import sys

from quickstart import missing_lines

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO_ROOT, 'tests', 'utils'))
from sanity import copy_collection  # noqa: E402 pylint: disable=wrong-import-position

DRIVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'quickstart.py')
VENV = os.path.join(REPO_ROOT, '.venv')
SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
# The ports `make vault` serves the vault and its identity endpoint on (python -m localvault's defaults).
VAULT_PORTS = (8443, 8444)


# What `make vault` writes into the virtual environment: the copy gets its own, so that it cannot race a `make
# install` of the checkout.
VENV_OUTPUTS = ('build', 'collections')


def fresh_checkout(destination):
    """The files a clone would have (tracked and new ones), with the virtual environment `make test` built."""
    copy_collection(destination)
    venv = os.path.join(destination, '.venv')
    os.mkdir(venv)
    for name in os.listdir(VENV):
        if name not in VENV_OUTPUTS:
            os.symlink(os.path.join(VENV, name), os.path.join(venv, name))


def own_network_namespace():
    """The command prefix that runs a command in a new network namespace with loopback up, or None where that is not allowed."""
    for prefix in (['unshare', '--net'], ['unshare', '--user', '--map-root-user', '--net']):
        command = prefix + ['sh', '-c', 'ip link set lo up']
        try:
            if subprocess.run(command, capture_output=True, check=False, env={'PATH': SYSTEM_PATH}).returncode == 0:
                return prefix + ['sh', '-c', 'ip link set lo up && exec "$0" "$@"']
        except FileNotFoundError:
            return None
    return None


def ports_in_use():
    busy = []
    for port in VAULT_PORTS:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(('127.0.0.1', port))
            except OSError:
                busy.append(port)
    return busy


def describe(report):
    lines = []
    for step in report['steps']:
        lines.append('$ ' + step['command'])
        lines.append(step['output'].rstrip())
    for number, log in enumerate(report['background']):
        lines.append('--- own terminal %d ---' % number)
        lines.append(log.rstrip()[-4000:])
    return '\n'.join(lines)


def test_readme_quickstart_runs_as_written(tmp_path):
    installed = os.path.join(VENV, '.installed')
    assert os.path.exists(installed), 'run `make venv` first: the quickstart uses the virtual environment make builds'
    newest_requirement = max(os.path.getmtime(os.path.join(REPO_ROOT, name)) for name in ('requirements.txt', 'requirements-dev.txt'))
    assert os.path.getmtime(installed) >= newest_requirement, 'the virtual environment is older than the requirements: run `make venv`'

    checkout = tmp_path / 'keyvault.azure'
    home = tmp_path / 'home'
    checkout.mkdir()
    home.mkdir()
    fresh_checkout(str(checkout))
    environment = {'PATH': SYSTEM_PATH, 'HOME': str(home), 'LANG': 'C.UTF-8', 'TERM': 'dumb'}
    report_path = tmp_path / 'report.json'
    command = [sys.executable, DRIVER, str(checkout / 'README.md'), str(checkout), str(report_path)]
    namespace = own_network_namespace()
    if namespace:
        command = namespace + command
    else:
        busy = ports_in_use()
        assert not busy, ('the quickstart runs `make vault`, which serves ports %s; port %s is in use (stop your own `make vault`), '
                          'and this machine allows no network namespace to run it apart' % (VAULT_PORTS, busy))

    subprocess.run(command, env=environment, cwd=str(checkout), check=True, timeout=1200)
    report = json.loads(report_path.read_text())

    assert 'error' not in report, report['error'] + '\n' + describe(report)
    assert report['status'] == 0, 'a quickstart command failed:\n' + describe(report)
    assert report['steps'], 'the README quickstart has no commands'
    for step in report['steps']:
        missing = missing_lines(step['expected'], step['output'])
        assert not missing, 'the README shows %r after `%s`, but it printed:\n%s' % (missing, step['command'], step['output'])
