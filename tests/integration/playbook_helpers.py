# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Building playbooks for the integration tests and reading their results."""

import json
import os
import time
import uuid

from azure.core.credentials import AccessToken
from azure.keyvault.secrets import SecretClient

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Operations that change what the vault holds (the operation names the local vault counts).
WRITE_OPERATIONS = ('SetSecret', 'UpdateSecret', 'DeleteSecret', 'PurgeDeletedSecret', 'RecoverDeletedSecret', 'RestoreSecret',
                    'CreateCertificate', 'ImportCertificate', 'UpdateCertificate', 'UpdateCertificatePolicy', 'MergeCertificate',
                    'UpdateCertificateOperation', 'DeleteCertificateOperation', 'DeleteCertificate', 'PurgeDeletedCertificate',
                    'RecoverDeletedCertificate', 'RestoreCertificate')


def unique_name(prefix):
    """A secret name no other test (or earlier run against a persistent vault) uses."""
    return '%s-%s' % (prefix, uuid.uuid4().hex[:8])


class LocalVaultCredential(object):
    """Tokens straight from the local vault's IMDS endpoint, so the test process needs no IMDS environment."""

    def __init__(self, localvault, identity):
        self._localvault = localvault
        self._identity = identity

    def get_token(self, *scopes, **kwargs):  # pylint: disable=unused-argument
        return AccessToken(self._localvault.token(self._identity), int(time.time()) + 300)


def secret_client(localvault, identity='operator'):
    """A SecretClient of ``identity`` for a local vault, to prepare and read what it holds."""
    return SecretClient(localvault.vault_url, LocalVaultCredential(localvault, identity), verify_challenge_resource=False,
                        connection_verify=localvault.ca_bundle)


class PlaybookRun(object):
    """The outcome of one ansible-playbook run: output, and per task name and host the result callbacks saw."""

    def __init__(self, completed, results_path):
        self.rc = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr
        self.output = completed.stdout + completed.stderr
        self.tasks = json.loads(results_path.read_text()) if results_path.exists() else {}

    def result(self, task_name, host=None):
        """The result of a task on ``host`` (default: the only or first host that ran it)."""
        by_host = self.tasks[task_name]
        return by_host[host] if host else next(iter(by_host.values()))

    def __getitem__(self, task_name):
        return self.result(task_name)

    def changed(self, *task_names, **kwargs):
        return [self.result(name, kwargs.get('host')).get('changed') for name in task_names]

    def counters(self, task_name):
        """Counters snapshot recorded by a task made with :func:`counters_task`."""
        return json.loads(self.result(task_name)['ansible_facts']['localvault_counters'])


def counters_task(name, localvault):
    """A task that records the local vault's request counters once per play (read on the controller, not through the vault API)."""
    url = localvault.connection['controls_url'] + '/counters'
    return {'name': name, 'run_once': True, 'ansible.builtin.set_fact': {
        'localvault_counters': "{{ lookup('ansible.builtin.url', '%s', split_lines=false, ca_path='%s') }}" % (url, localvault.ca_bundle)}}


def writes_between(before, after, identity='operator'):
    """Write requests the identity sent between two counters snapshots, by operation."""
    old = before['identities'].get(identity, {})
    new = after['identities'].get(identity, {})
    return dict((operation, new.get(operation, 0) - old.get(operation, 0))
                for operation in WRITE_OPERATIONS if new.get(operation, 0) != old.get(operation, 0))


def requests_between(before, after, operation, identity='operator'):
    return after['identities'].get(identity, {}).get(operation, 0) - before['identities'].get(identity, {}).get(operation, 0)


def four_step_play(module, cases, localvault, label='cases'):
    """A play over the hosts of group ``cases`` (see the ``playbook`` fixture), each running ``module`` with its
    host variable ``case`` as arguments: check mode, apply, check mode, apply. The hosts run each step in lockstep,
    with the vault's counters read between the steps. Returns (play, host variables for the fixture's ``cases``).
    """
    arguments = case_arguments(cases)
    tasks = [counters_task('%s counters 0' % label, localvault)]
    for step, check_mode in enumerate((True, False, True, False), start=1):
        tasks.append({'name': '%s step %d' % (label, step), module: arguments, 'check_mode': check_mode})
        tasks.append(counters_task('%s counters %d' % (label, step), localvault))
    play = {'name': '%s in four steps' % label, 'hosts': 'cases', 'gather_facts': False, 'tasks': tasks}
    return play, dict((host, {'case': case}) for host, case in cases.items())


def case_arguments(cases):
    """Module arguments that take each option from the host variable ``case``, leaving out those a case does not set."""
    options = sorted(set(option for arguments in cases.values() for option in arguments))
    return dict((option, '{{ case.%s | default(omit) }}' % option) for option in options)


def assert_four_steps(run, cases, writes_when_applied, label='cases'):
    """Every case: changed, changed, not changed, not changed. Only the real first run wrote, ``writes_when_applied`` in all."""
    steps = ['%s step %d' % (label, step) for step in range(1, 5)]
    for host in cases:
        for step in steps:
            assert not run.result(step, host).get('failed'), (host, step, run.result(step, host).get('msg'))
        assert run.changed(*steps, host=host) == [True, True, False, False], host
    writes = [writes_between(run.counters('%s counters %d' % (label, step - 1)), run.counters('%s counters %d' % (label, step)))
              for step in range(1, 5)]
    assert writes == [{}, writes_when_applied, {}, {}]
