# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers for tests that run real ``ansible-playbook`` against the session's local vault.

``playbook`` runs a playbook (given as a list of tasks or plays) through the installed Ansible with
this checkout as the ``keyvault.azure`` collection, authenticated as one of the vault's managed
identities, and returns a :class:`PlaybookRun` with the output and, per task name, the result the
``json`` callback recorded. ``vault`` reads what the vault holds with the SDK as the operator.
"""

import os
import subprocess
import sys

import pytest
import yaml
from azure.keyvault.certificates import CertificateClient

pytest.register_assert_rewrite('playbook_helpers')

from playbook_helpers import REPO_ROOT, LocalVaultCredential, PlaybookRun, secret_client  # noqa: E402 pylint: disable=wrong-import-position

ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
CALLBACK_PLUGINS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'callback_plugins')


@pytest.fixture(scope='session')
def collections_root(tmp_path_factory):
    """A tree with ansible_collections/keyvault/azure linked to this checkout."""
    root = tmp_path_factory.mktemp('collections')
    (root / 'ansible_collections' / 'keyvault').mkdir(parents=True)
    os.symlink(REPO_ROOT, str(root / 'ansible_collections' / 'keyvault' / 'azure'))
    return root


@pytest.fixture(scope='session')
def ansible_home(tmp_path_factory):
    """Working folder with an empty ansible.cfg, so no user configuration leaks in."""
    home = tmp_path_factory.mktemp('ansible')
    (home / 'ansible.cfg').write_text('[defaults]\n')
    return home


def local_host(**host_vars):
    return dict(host_vars, ansible_connection='local', ansible_python_interpreter=sys.executable)


@pytest.fixture(scope='session')
def playbook(localvault, collections_root, ansible_home, tmp_path_factory):
    """``playbook(tasks_or_plays_or_path, identity='operator', cases=None, extra_vars=None, check=False, diff=False, verbosity=0,
    env=None, args=())``.

    Returns a PlaybookRun. The inventory holds ``localhost`` and, for each entry of ``cases``, a host of
    that name in the group ``cases`` with the entry's variables; all of them run locally and in
    parallel. ``extra_vars`` go through a file (``-e @file``), as secrets would come from a vars file,
    so that they never appear in the playbook source Ansible quotes in error messages. Session-scoped,
    so module-scoped fixtures can share one run. The output is the default callback's; the results per
    task and host come from the test-only ``record_results`` callback.
    """
    counter = [0]

    def run(content, identity='operator', cases=None, extra_vars=None, check=False, diff=False, verbosity=0, env=None, args=()):
        counter[0] += 1
        tmp_path = tmp_path_factory.mktemp('playbook%d' % counter[0])
        if isinstance(content, str):
            path = content
        else:
            if content and 'hosts' not in content[0]:
                content = [{'name': 'keyvault.azure test play', 'hosts': 'localhost', 'gather_facts': False, 'tasks': content}]
            path = tmp_path / 'playbook.yml'
            path.write_text(yaml.safe_dump(content, sort_keys=False))
        inventory = {'all': {'hosts': {'localhost': local_host()},
                             'children': {'cases': {'hosts': dict((name, local_host(**host_vars)) for name, host_vars in (cases or {}).items())}}}}
        (tmp_path / 'inventory.yml').write_text(yaml.safe_dump(inventory))
        environment = dict(os.environ)
        environment.update(localvault.env)
        environment.update(
            ANSIBLE_CONFIG=str(ansible_home / 'ansible.cfg'),
            ANSIBLE_COLLECTIONS_PATH=str(collections_root),
            ANSIBLE_COLLECTIONS_SCAN_SYS_PATH='false',
            ANSIBLE_STDOUT_CALLBACK='default',
            ANSIBLE_CALLBACK_PLUGINS=CALLBACK_PLUGINS,
            ANSIBLE_CALLBACKS_ENABLED='record_results',
            KEYVAULT_TEST_RESULTS=str(tmp_path / 'results.json'),
            ANSIBLE_NOCOLOR='1',
            ANSIBLE_FORCE_COLOR='0',
            ANSIBLE_RETRY_FILES_ENABLED='false',
            ANSIBLE_PIPELINING='true',
            ANSIBLE_LOCALHOST_WARNING='false',
            ANSIBLE_DEPRECATION_WARNINGS='false',
        )
        environment.pop('ANSIBLE_KEYVAULT_CLIENT_ID', None)
        if identity is not None and not localvault.identities[identity]['system_assigned']:
            environment['ANSIBLE_KEYVAULT_CLIENT_ID'] = localvault.identities[identity]['client_id']
        environment.update(env or {})
        for name in [name for name, value in environment.items() if value is None]:
            del environment[name]
        command = [ANSIBLE_PLAYBOOK, '-i', str(tmp_path / 'inventory.yml'), '--forks', str(max(5, len(cases or ()))), str(path)]
        if check:
            command.append('--check')
        if diff:
            command.append('--diff')
        if verbosity:
            command.append('-' + 'v' * verbosity)
        if extra_vars:
            (tmp_path / 'extra_vars.yml').write_text(yaml.safe_dump(extra_vars))
            command.extend(['-e', '@' + str(tmp_path / 'extra_vars.yml')])
        command.extend(args)
        completed = subprocess.run(command, cwd=str(tmp_path), env=environment, capture_output=True, text=True, timeout=600, check=False)
        return PlaybookRun(completed, tmp_path / 'results.json')

    return run


@pytest.fixture(scope='session')
def vault(localvault):
    """A SecretClient of the operator identity, to prepare and read what the vault holds."""
    return secret_client(localvault)


@pytest.fixture(scope='session')
def certificate_vault(localvault):
    """A CertificateClient of the operator identity, to prepare and read the vault's certificates."""
    return CertificateClient(localvault.vault_url, LocalVaultCredential(localvault, 'operator'), verify_challenge_resource=False,
                             connection_verify=localvault.ca_bundle)
