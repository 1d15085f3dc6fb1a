# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``make vault`` and its env.sh, as the README quickstart uses them: a shell
with nothing but the system PATH sources env.sh and runs ansible-doc and ansible-playbook, with a module
reached through the action group and a lookup, against the vault ``make vault`` started."""

import json
import os
import signal
import subprocess
import time

import yaml

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLEAN_PATH = '/usr/bin:/bin'


def clean_shell(script, home):
    """``sh -c script`` in an environment holding only HOME and the system PATH (``env -i``)."""
    return subprocess.run(['env', '-i', 'HOME=%s' % home, 'PATH=%s' % CLEAN_PATH, 'sh', '-c', script], cwd=str(home),
                          capture_output=True, text=True, timeout=300, check=False)


def wait_for_connection(state_dir, make, log_path, timeout=300):
    connection_path = os.path.join(state_dir, 'connection.json')
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(connection_path):
            with open(connection_path, encoding='utf-8') as handle:
                return json.load(handle)
        assert make.poll() is None, 'make vault ended with %s:\n%s' % (make.returncode, open(log_path, encoding='utf-8').read()[-3000:])
        time.sleep(0.2)
    raise AssertionError('make vault was not ready after %d s' % timeout)


def test_a_clean_shell_that_sources_env_sh_runs_the_collection_against_make_vault(tmp_path):
    state_dir, home = str(tmp_path / 'state'), tmp_path / 'home'
    home.mkdir()
    log_path = str(tmp_path / 'make-vault.log')
    with open(log_path, 'wb') as log:
        # Its own session, so that the SIGTERM below reaches the vault under make.
        make = subprocess.Popen(['make', '-C', REPO_ROOT, 'vault', 'STATE_DIR=%s' % state_dir, 'VAULT_ARGS=--vault-port 0 --imds-port 0'],
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        connection = wait_for_connection(state_dir, make, log_path)
        operator = next(identity['client_id'] for identity in connection['identities'] if identity['name'] == 'operator')
        playbook = home / 'quickstart.yml'
        playbook.write_text(yaml.safe_dump([{
            'hosts': 'localhost',
            'gather_facts': False,
            'module_defaults': {'group/keyvault.azure.all': {'client_id': operator}},
            'tasks': [
                {'name': 'write', 'keyvault.azure.secret': {'name': 'quickstart', 'value': 'from-a-clean-shell'}},
                {'name': 'read back', 'ansible.builtin.assert': {
                    'that': ["lookup('keyvault.azure.secret', 'quickstart', client_id='%s') == 'from-a-clean-shell'" % operator]}},
            ],
        }]))
        inventory = os.path.join(REPO_ROOT, 'playbooks', 'inventory', 'localhost.yml')

        before = clean_shell('command -v ansible-playbook || echo none', home)
        assert os.path.join(REPO_ROOT, '.venv', 'bin') not in before.stdout

        env_sh = os.path.join(state_dir, 'env.sh')
        result = clean_shell('set -e; . %s; command -v ansible-playbook; ansible-doc keyvault.azure.secret | head -n 1; '
                             'ansible-playbook -i %s %s' % (env_sh, inventory, playbook), home)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        lines = result.stdout.splitlines()
        assert lines[0] == os.path.join(REPO_ROOT, '.venv', 'bin', 'ansible-playbook')
        assert 'keyvault.azure.secret' in lines[1]
        assert 'ok=2' in result.stdout and 'changed=1' in result.stdout and 'failed=0' in result.stdout
        # The collection ansible found is the one make vault installed, not this checkout.
        installed = os.path.join(REPO_ROOT, '.venv', 'collections', 'ansible_collections', 'keyvault', 'azure', 'MANIFEST.json')
        assert os.path.exists(installed)
        assert clean_shell('. %s; echo "$ANSIBLE_COLLECTIONS_PATH"' % env_sh, home).stdout.strip() == os.path.join(REPO_ROOT, '.venv', 'collections')
    finally:
        os.killpg(make.pid, signal.SIGTERM)
        make.wait(timeout=60)
