#!/usr/bin/env python
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``make bench``: what the collection's plugins cost in requests and time, next to a minimal Azure SDK script.

The benchmark starts a throw-away local vault (``python -m localvault --ephemeral``) whose every authenticated
request and token request is held back by ``--latency`` seconds (the operator controls' latency fault), so that
round trips cost something as they do on a network. For each scenario it zeroes the vault's counters, runs the
scenario, and records the requests the vault and its identity endpoint received and the time taken:

* ``lookup1``, ``lookup50``: one ``keyvault.azure.secret`` lookup of 1 and of 50 secrets on localhost;
* ``hosts``: 50 hosts (local connection, 10 forks) each looking up the same 10 secrets, with the default options,
  with ``token_cache`` off and with ``value_cache`` on (set through their environment variables);
* ``converge``: a loop of the ``keyvault.azure.secret`` module over 100 secrets, first run and repeat run;
* ``bulk``: the same 100 secrets in one ``keyvault.azure.secrets`` task, first run and repeat run, next to the SDK
  script sending the same requests on 8 threads; and a VM-style read of 20 secrets in one ``keyvault.azure.secret_info``
  task (``names``), next to the SDK script's 20 threaded reads (issue 14);
* ``rollout``: playbooks/certificate_rollout.yml to 20 local hosts, each with its own identity, first and repeat run;
* ``floor``: the same reads (and the rollout's requests) done by tests/bench/sdk_floor.py, a minimal direct SDK
  script, one request after the other and on 8 threads;
* ``startup``: from the start of a ``keyvault.azure.secret_info`` task to the module's first request, with the
  import time of the Azure SDK modules the plugins use.

It prints a table and the issue's target ratios, and writes everything as JSON (``--output``). Task times come
from tests/bench/callback_plugins/bench_timings.py; the time of each request from the vault's request log.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata

import yaml

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(BENCH_DIR))
sys.path.insert(0, REPO_ROOT)

from localvault.process import LocalVaultProcess  # noqa: E402 pylint: disable=wrong-import-position
BIN_DIR = os.path.dirname(os.path.abspath(sys.executable))
ANSIBLE_PLAYBOOK = os.path.join(BIN_DIR, 'ansible-playbook')
ANSIBLE_DOC = os.path.join(BIN_DIR, 'ansible-doc')
SDK_FLOOR = os.path.join(BENCH_DIR, 'sdk_floor.py')
ROLLOUT_PLAYBOOK = os.path.join(REPO_ROOT, 'playbooks', 'certificate_rollout.yml')
DEFAULT_OUTPUT = os.path.join(REPO_ROOT, '.venv', 'bench', 'bench.json')

API_VERSION = '2026-04-01'
LOOKUP_SECRETS = ['bench-%02d' % number for number in range(1, 51)]
HOST_COUNT = 50
HOST_SECRETS = LOOKUP_SECRETS[:10]
FORKS = 10
CONVERGE_SECRETS = ['converge-%03d' % number for number in range(1, 101)]
BULK_SECRETS = ['bulk-%03d' % number for number in range(1, 101)]
BULK_FLOOR_SECRETS = ['floor-bulk-%03d' % number for number in range(1, 101)]
VM_READ_SECRETS = LOOKUP_SECRETS[:20]
ROLLOUT_HOSTS = ['web%02d' % number for number in range(1, 21)]
ROLLOUT_DNS_NAMES = ['www.bench.test', 'bench.test']
# The lookup fetches its terms on this many threads (plugins/plugin_utils/_lookup_base.py); the floor script matches it.
THREADS = 8
# How the ratios compare: a lookup of 50 secrets within this factor of the threaded SDK script (issue 7).
LOOKUP_FLOOR_RATIO = 1.5
# Issue 14: one secrets task of 100 new secrets within this factor of the SDK script sending the same requests threaded,
# its repeat within this factor of the script's threaded reads, and a secret_info task of 20 names within this factor
# of one single-secret secret_info task plus the script's 20 threaded reads.
BULK_CONVERGE_RATIO = 3.0
BULK_REPEAT_RATIO = 2.0
VM_READ_RATIO = 1.5

# Scenario names, as the table shows them.
STARTUP = 'startup secret_info'
LOOKUP_ONE = 'lookup 1 secret'
LOOKUP_ALL = 'lookup %d secrets' % len(LOOKUP_SECRETS)
FLOOR_THREADED = 'SDK %d reads threaded' % len(LOOKUP_SECRETS)
HOSTS_DEFAULT = '%d hosts x %d' % (HOST_COUNT, len(HOST_SECRETS))
HOSTS_NO_TOKEN_CACHE = '%d hosts token_cache=false' % HOST_COUNT
HOSTS_VALUE_CACHE = '%d hosts value_cache=true' % HOST_COUNT
CONVERGE_FIRST = 'converge %d first' % len(CONVERGE_SECRETS)
CONVERGE_REPEAT = 'converge %d repeat' % len(CONVERGE_SECRETS)
BULK_FIRST = 'secrets task %d first' % len(BULK_SECRETS)
BULK_REPEAT = 'secrets task %d repeat' % len(BULK_SECRETS)
BULK_FLOOR = 'SDK converge %d threaded' % len(BULK_FLOOR_SECRETS)
BULK_FLOOR_READS = 'SDK %d reads threaded' % len(BULK_SECRETS)
VM_READ = 'secret_info %d names' % len(VM_READ_SECRETS)
VM_READ_FLOOR = 'SDK %d reads threaded' % len(VM_READ_SECRETS)
ROLLOUT_FIRST = 'rollout %d first' % len(ROLLOUT_HOSTS)
ROLLOUT_REPEAT = 'rollout %d repeat' % len(ROLLOUT_HOSTS)

# What the baseline task of a scenario group (the ``baseline`` of its playbook action) is.
BASELINES = {
    'startup': 'an ansible.builtin.ping task on localhost, the task before (what any module task costs)',
    'hosts': 'the assert task after the lookup on the same %d hosts (what a task without a lookup costs)' % HOST_COUNT,
}

GROUPS = ('startup', 'lookup1', 'lookup50', 'floor', 'hosts', 'converge', 'bulk', 'rollout')

VAULT_CONFIG = {
    'identities': [{'name': host, 'permissions': {'certificates': ['get'], 'secrets': ['get']}} for host in ROLLOUT_HOSTS]
    + [{'name': 'certmanager', 'permissions': {'certificates': ['get', 'create', 'update'], 'secrets': []}}],
    'deletion_delay_seconds': 0,
    'recovery_delay_seconds': 0,
    'certificate_creation_delay_seconds': 0,
    'soft_delete_retention_days': 7,
}

LOOKUP_PLAY = [{
    'name': 'bench lookup play', 'hosts': '{{ bench_hosts }}', 'gather_facts': False,
    'tasks': [
        {'name': 'bench lookup', 'ansible.builtin.set_fact': {'bench_values': "{{ query('keyvault.azure.secret', *bench_secret_names) }}"}},
        {'name': 'bench check', 'ansible.builtin.assert': {'that': ['bench_values | length == bench_secret_names | length'], 'quiet': True}},
    ],
}]

CONVERGE_PLAY = [{
    'name': 'bench converge play', 'hosts': 'localhost', 'gather_facts': False,
    'tasks': [{'name': 'bench converge', 'keyvault.azure.secret': {'name': '{{ item }}', 'value': 'value of {{ item }}'},
               'loop': '{{ bench_converge_names }}'}],
}]

BULK_PLAY = [{
    'name': 'bench secrets play', 'hosts': 'localhost', 'gather_facts': False,
    'tasks': [{'name': 'bench secrets', 'keyvault.azure.secrets': {'secrets': '{{ bench_bulk_items }}'}}],
}]

VM_READ_PLAY = [{
    'name': 'bench secret_info names play', 'hosts': 'localhost', 'gather_facts': False,
    'tasks': [{'name': 'bench ping', 'ansible.builtin.ping': {}},
              {'name': 'bench secret_info names', 'keyvault.azure.secret_info': {'names': '{{ bench_read_names }}'}}],
}]

# The ping before it takes the first task's costs, and its own time is what any module's task costs.
STARTUP_PLAY = [{
    'name': 'bench startup play', 'hosts': 'localhost', 'gather_facts': False,
    'tasks': [{'name': 'bench ping', 'ansible.builtin.ping': {}},
              {'name': 'bench secret_info', 'keyvault.azure.secret_info': {'name': LOOKUP_SECRETS[0]}}],
}]

# Each line adds the named modules to those imported before; the module imports all of them (module_utils/_client.py).
IMPORT_STEPS = (
    ('ansible.module_utils.basic', 'import ansible.module_utils.basic'),
    ('azure.core', 'import azure.core.exceptions, azure.core.pipeline.policies'),
    ('azure.identity', 'import azure.identity'),
    ('azure.keyvault.secrets', 'import azure.keyvault.secrets'),
    ('azure.keyvault.certificates', 'import azure.keyvault.certificates'),
)


class ScenarioFailed(Exception):
    """A scenario that could not be measured; the message says why."""


def is_read(operation):
    return operation.startswith(('Get', 'Backup'))


class BenchVault(LocalVaultProcess):
    """The benchmark's local vault (in memory), with the latency it adds and the secrets it starts with."""

    def __init__(self, state_dir):
        super().__init__(state_dir, config=VAULT_CONFIG, ephemeral=True)

    def client_id(self, identity):
        return self.identities[identity]['client_id']

    def reset_with_latency(self, latency):
        """Zero the counters and empty the request log; then every request waits ``latency`` seconds, tokens included."""
        self.reset()
        if latency:
            for operation in ('*', 'ImdsToken'):
                self.add_fault(operation=operation, latency=latency)

    def set_secrets(self, values, identity='operator'):
        headers = {'Authorization': 'Bearer ' + self.token(identity)}
        for name, value in values.items():
            status, _headers, body = self.request('PUT', '%ssecrets/%s?api-version=%s' % (self.vault_url, name, API_VERSION), {'value': value}, headers)
            if status != 200:
                raise RuntimeError('setting secret %s answered %s: %s' % (name, status, body))


def summarize_counters(counters):
    """Challenges (401), authenticated requests per operation, reads, writes and token requests of a counters snapshot."""
    challenges = 0
    operations = {}
    for operation, statuses in counters['statuses'].items():
        for status, count in statuses.items():
            if status == '401':
                challenges += count
            else:
                operations[operation] = operations.get(operation, 0) + count
    reads = sum(count for operation, count in operations.items() if is_read(operation))
    authenticated = sum(operations.values())
    return {'authenticated': authenticated, 'challenges': challenges, 'reads': reads, 'writes': authenticated - reads,
            'tokens': counters['imds']['total'], 'operations': dict(sorted(operations.items()))}


class Bench:
    """Runs the scenarios against one local vault and collects their figures."""

    def __init__(self, arguments, vault, work_dir, collections_path):
        self.arguments = arguments
        self.vault = vault
        self.work_dir = work_dir
        self.collections_path = collections_path
        self.scenarios = []
        self.imports = None
        self._runs = 0
        self._lookup_options = None

    # running things

    def _new_dir(self, label):
        self._runs += 1
        path = os.path.join(self.work_dir, '%03d-%s' % (self._runs, label))
        os.makedirs(path)
        return path

    def ansible_environment(self, extra=None):
        # Nothing from the caller's Ansible or Azure settings: every run sees the same configuration.
        environment = dict((name, value) for name, value in os.environ.items() if not name.startswith(('ANSIBLE_', 'AZURE_')))
        environment.update(self.vault.env)
        config_path = os.path.join(self.work_dir, 'ansible.cfg')
        if not os.path.exists(config_path):
            with open(config_path, 'w', encoding='utf-8') as config_file:
                config_file.write('[defaults]\n')
        environment.update(
            ANSIBLE_CONFIG=config_path,
            ANSIBLE_COLLECTIONS_PATH=self.collections_path,
            ANSIBLE_COLLECTIONS_SCAN_SYS_PATH='false',
            ANSIBLE_CALLBACK_PLUGINS=os.path.join(BENCH_DIR, 'callback_plugins'),
            ANSIBLE_CALLBACKS_ENABLED='bench_timings',
            ANSIBLE_NOCOLOR='1',
            ANSIBLE_RETRY_FILES_ENABLED='false',
            ANSIBLE_PIPELINING='true',
            ANSIBLE_LOCALHOST_WARNING='false',
            ANSIBLE_DEPRECATION_WARNINGS='false',
        )
        environment.update(extra or {})
        return environment

    def run_playbook(self, label, playbook, hosts, extra_vars, env=None):
        """Run ``playbook`` (a path, or plays to write out) over local ``hosts`` ({group: {host: vars}}); time and timings."""
        run_dir = self._new_dir(label)
        if not isinstance(playbook, str):
            path = os.path.join(run_dir, 'playbook.yml')
            with open(path, 'w', encoding='utf-8') as playbook_file:
                yaml.safe_dump(playbook, playbook_file, sort_keys=False)
            playbook = path
        local = {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}
        inventory = {'all': {'hosts': {'localhost': dict(local)},
                             'children': dict((group, {'hosts': dict((host, dict(local, **host_vars)) for host, host_vars in members.items())})
                                              for group, members in hosts.items())}}
        for name, content in (('inventory.yml', inventory), ('extra_vars.yml', extra_vars)):
            with open(os.path.join(run_dir, name), 'w', encoding='utf-8') as handle:
                yaml.safe_dump(content, handle)
        timings_path = os.path.join(run_dir, 'timings.json')
        environment = self.ansible_environment(dict(env or {}, KEYVAULT_BENCH_TIMINGS=timings_path))
        command = [ANSIBLE_PLAYBOOK, '-i', 'inventory.yml', '--forks', str(FORKS), '-e', '@extra_vars.yml', playbook]
        started = time.perf_counter()
        completed = subprocess.run(command, cwd=run_dir, env=environment, capture_output=True, text=True, timeout=1800, check=False)
        wall = time.perf_counter() - started
        with open(os.path.join(run_dir, 'output.txt'), 'w', encoding='utf-8') as output_file:
            output_file.write(completed.stdout + completed.stderr)
        timings = {'tasks': [], 'results': []}
        if os.path.exists(timings_path):
            with open(timings_path, encoding='utf-8') as timings_file:
                timings = json.load(timings_file)
        failures = [result for result in timings['results'] if result['status'] in ('failed', 'unreachable')]
        if completed.returncode != 0 or failures:
            reason = failures[0]['msg'] if failures else (completed.stdout + completed.stderr).strip()[-1500:]
            raise ScenarioFailed('ansible-playbook exited with %d (%d failed results): %s' % (completed.returncode, len(failures), reason))
        return wall, timings

    def run_floor(self, job):
        environment = dict((name, value) for name, value in os.environ.items() if not name.startswith('AZURE_'))
        environment.update(self.vault.env)
        job = dict(job, vault_url=self.vault.connection['vault_url'], ca_bundle=self.vault.connection['ca_bundle'])
        started = time.perf_counter()
        completed = subprocess.run([sys.executable, SDK_FLOOR, json.dumps(job)], env=environment, capture_output=True, text=True, timeout=600,
                                   check=False)
        wall = time.perf_counter() - started
        if completed.returncode != 0:
            last_line = (completed.stderr.strip().splitlines() or ['no error output'])[-1]
            raise ScenarioFailed('the SDK script exited with %d: %s' % (completed.returncode, last_line))
        return wall, json.loads(completed.stdout)

    def lookup_options(self):
        """The options of the installed keyvault.azure.secret lookup, with their environment variables."""
        if self._lookup_options is None:
            completed = subprocess.run([ANSIBLE_DOC, '-t', 'lookup', '--json', 'keyvault.azure.secret'], env=self.ansible_environment(),
                                       capture_output=True, text=True, timeout=120, check=False)
            if completed.returncode != 0:
                raise ScenarioFailed('ansible-doc could not read the lookup: %s' % completed.stderr.strip()[-500:])
            options = json.loads(completed.stdout)['keyvault.azure.secret']['doc'].get('options', {})
            self._lookup_options = dict((name, [entry['name'] for entry in option.get('env', [])]) for name, option in options.items())
        return self._lookup_options

    def require_lookup_option(self, option, variable):
        known = self.lookup_options()
        if option not in known:
            raise ScenarioFailed('the lookup keyvault.azure.secret has no option %s (yet), so %s would be ignored' % (option, variable))
        if variable not in known[option]:
            raise ScenarioFailed('the lookup option %s is not set by %s (its variables: %s)' % (option, variable, ', '.join(known[option]) or 'none'))

    # measuring

    def measure(self, name, group, description, action, repeat=None, checks=None):
        """Run ``action`` (-> wall seconds, task seconds or None, first-request window or None, extra) ``repeat`` times
        on zeroed counters, and keep the medians."""
        if group not in self.arguments.only:
            return None
        scenario = {'name': name, 'group': group, 'description': description, 'ok': True, 'runs': []}
        self.scenarios.append(scenario)
        self._progress('%s: %s' % (name, description))
        for _run in range(repeat or self.arguments.repeat):
            try:
                for check in checks or ():
                    check()
                self.vault.reset_with_latency(self.arguments.latency)
                wall, task, window, extra = action()
                counters = self.vault.control('GET', 'counters')
                requests = self.vault.control('GET', 'requests')['requests']
            except ScenarioFailed as failure:
                scenario.update(ok=False, error=str(failure))
                self._progress('FAILED: %s' % failure, detail=True)
                return scenario
            run = dict(summarize_counters(counters), wall=wall, task=task, extra=extra)
            run['first_request'] = first_request_delay(requests, window)
            scenario['runs'].append(run)
        runs = scenario['runs']
        for key in ('authenticated', 'challenges', 'reads', 'writes', 'tokens'):
            scenario[key] = statistics.median_low([run[key] for run in runs])
        for key in ('wall', 'task', 'first_request'):
            values = [run[key] for run in runs if run[key] is not None]
            scenario[key] = statistics.median(values) if values else None
        scenario['operations'] = runs[0]['operations']
        scenario['counts_varied'] = len(set(tuple(sorted(run['operations'].items())) + (run['tokens'], run['challenges']) for run in runs)) > 1
        if runs[0]['extra']:
            scenario['extra'] = dict((key, statistics.median(run['extra'][key] for run in runs)) for key in runs[0]['extra'])
        self._progress(format_brief(scenario), detail=True)
        return scenario

    @staticmethod
    def _progress(message, detail=False):
        sys.stderr.write(('    %s\n' if detail else '==> %s\n') % message)
        sys.stderr.flush()

    def playbook_action(self, label, playbook, hosts, extra_vars, task_names, env=None, baseline=None):
        """Measures the span of the tasks ``task_names`` (None: all), and of the task ``baseline`` (as extra ``baseline_task``)."""
        def action():
            wall, timings = self.run_playbook(label, playbook, hosts, extra_vars, env)
            task, window = task_span(timings, task_names)
            extra = {'baseline_task': task_span(timings, [baseline])[0]} if baseline else None
            return wall, task, window, extra
        return action

    def floor_action(self, job):
        def action():
            wall, answer = self.run_floor(job)
            expected = len(job.get('names') or job.get('host_client_ids'))
            if answer['values'] != expected:
                raise ScenarioFailed('the SDK script read %d values, not %d' % (answer['values'], expected))
            return wall, answer['seconds'], None, {'import_seconds': answer['import_seconds']}
        return action

    # the scenarios

    def run(self):
        for group in GROUPS:
            getattr(self, 'scenario_' + group)()

    def scenario_startup(self):
        if 'startup' not in self.arguments.only:
            return
        self.import_times()
        self.measure(STARTUP, 'startup', 'one keyvault.azure.secret_info task on localhost (identity vm)',
                     self.playbook_action('startup', STARTUP_PLAY, {}, {}, ['bench secret_info'], baseline='bench ping'))

    def import_times(self):
        """Median times of a bare interpreter start, and of each step of the plugins' imports, in a fresh interpreter."""
        steps = ''.join('%s\nmarks.append(time.perf_counter())\n' % statement for _name, statement in IMPORT_STEPS)
        script = 'import time\nmarks = [time.perf_counter()]\n%simport json, sys\njson.dump(marks, sys.stdout)\n' % steps
        interpreter, imports = [], []
        for _attempt in range(max(3, self.arguments.repeat)):
            started = time.perf_counter()
            subprocess.run([sys.executable, '-c', 'pass'], check=True)
            interpreter.append(time.perf_counter() - started)
            marks = json.loads(subprocess.run([sys.executable, '-c', script], check=True, capture_output=True, text=True).stdout)
            imports.append([later - earlier for earlier, later in zip(marks, marks[1:])])
        self.imports = {'python_start': statistics.median(interpreter)}
        self.imports.update((name, statistics.median(run[index] for run in imports)) for index, (name, _statement) in enumerate(IMPORT_STEPS))
        self._progress('import times (median of %d): %s' % (len(interpreter), ', '.join('%s %.3f s' % item for item in self.imports.items())))

    def scenario_lookup1(self):
        self.measure(LOOKUP_ONE, 'lookup1', 'one lookup of 1 secret on localhost (identity vm)',
                     self.playbook_action('lookup1', LOOKUP_PLAY, {}, {'bench_hosts': 'localhost', 'bench_secret_names': LOOKUP_SECRETS[:1]},
                                          ['bench lookup']))

    def scenario_lookup50(self):
        self.measure(LOOKUP_ALL, 'lookup50', 'one lookup of %d secrets on localhost (identity vm)' % len(LOOKUP_SECRETS),
                     self.playbook_action('lookup50', LOOKUP_PLAY, {}, {'bench_hosts': 'localhost', 'bench_secret_names': LOOKUP_SECRETS},
                                          ['bench lookup']))

    def scenario_floor(self):
        # One read alone is the same either way; 500 reads one after the other would take long and tell nothing new.
        for count, names, modes in ((1, LOOKUP_SECRETS[:1], (0,)), (50, LOOKUP_SECRETS, (0, THREADS)), (500, HOST_SECRETS * HOST_COUNT, (THREADS,))):
            for workers in modes:
                self.measure('SDK %d reads %s' % (count, 'threaded' if workers else 'sequential'), 'floor',
                             'direct SDK script: %d reads, one credential and client%s' % (count, ', %d threads' % workers if workers else ''),
                             self.floor_action({'kind': 'secrets', 'names': names, 'client_id': None, 'workers': workers}))
        for workers in (0, THREADS):
            self.measure('SDK rollout %s' % ('threaded' if workers else 'sequential'), 'floor',
                         'direct SDK script: create a certificate, then %d hosts each read it and its key with their own identities%s' % (
                             len(ROLLOUT_HOSTS), ', %d threads' % workers if workers else ''),
                         self._rollout_floor_action(workers))

    def _rollout_floor_action(self, workers):
        runs = [0]

        def action():
            runs[0] += 1
            job = {'kind': 'rollout', 'manager_client_id': self.vault.client_id('certmanager'),
                   'host_client_ids': [self.vault.client_id(host) for host in ROLLOUT_HOSTS],
                   'certificate_name': 'floor-tls-%d-%d' % (workers, runs[0]), 'dns_names': ROLLOUT_DNS_NAMES, 'workers': workers}
            return self.floor_action(job)()
        return action

    def scenario_hosts(self):
        hosts = {'bench': dict(('host%02d' % number, {}) for number in range(1, HOST_COUNT + 1))}
        extra_vars = {'bench_hosts': 'bench', 'bench_secret_names': HOST_SECRETS}
        variants = (
            (HOSTS_DEFAULT, 'default options', {}, ()),
            (HOSTS_NO_TOKEN_CACHE, 'ANSIBLE_KEYVAULT_TOKEN_CACHE=false', {'ANSIBLE_KEYVAULT_TOKEN_CACHE': 'false'},
             (lambda: self.require_lookup_option('token_cache', 'ANSIBLE_KEYVAULT_TOKEN_CACHE'),)),
            (HOSTS_VALUE_CACHE, 'ANSIBLE_KEYVAULT_VALUE_CACHE=true', {'ANSIBLE_KEYVAULT_VALUE_CACHE': 'true'},
             (lambda: self.require_lookup_option('value_cache', 'ANSIBLE_KEYVAULT_VALUE_CACHE'),)),
        )
        for name, setting, env, checks in variants:
            self.measure(name, 'hosts', '%d local hosts, %d forks, each one lookup of the same %d secrets (identity vm), %s' % (
                HOST_COUNT, FORKS, len(HOST_SECRETS), setting),
                self.playbook_action('hosts', LOOKUP_PLAY, hosts, extra_vars, ['bench lookup'], env, baseline='bench check'), checks=checks)

    def scenario_converge(self):
        env = {'ANSIBLE_KEYVAULT_CLIENT_ID': self.vault.client_id('operator')}
        extra_vars = {'bench_converge_names': CONVERGE_SECRETS}
        for name, description, repeat in (
                (CONVERGE_FIRST, 'keyvault.azure.secret in a loop over %d new secrets (identity operator)' % len(CONVERGE_SECRETS), 1),
                (CONVERGE_REPEAT, 'the same play again: nothing to change', None)):
            scenario = self.measure(name, 'converge', description,
                                    self.playbook_action('converge', CONVERGE_PLAY, {}, extra_vars, ['bench converge'], env), repeat=repeat)
            if scenario is not None and not scenario['ok']:
                return

    def scenario_bulk(self):
        operator = self.vault.client_id('operator')
        self.measure(BULK_FLOOR, 'bulk', 'direct SDK script: for %d new secrets a read, a read of the deleted secret and a write, %d threads' % (
            len(BULK_FLOOR_SECRETS), THREADS),
            self.floor_action({'kind': 'converge', 'names': BULK_FLOOR_SECRETS, 'client_id': operator, 'workers': THREADS}), repeat=1)
        env = {'ANSIBLE_KEYVAULT_CLIENT_ID': operator}
        extra_vars = {'bench_bulk_items': [{'name': name, 'value': 'value of ' + name} for name in BULK_SECRETS]}
        for name, description, repeat in (
                (BULK_FIRST, 'one keyvault.azure.secrets task over %d new secrets (identity operator)' % len(BULK_SECRETS), 1),
                (BULK_REPEAT, 'the same task again: nothing to change', None)):
            scenario = self.measure(name, 'bulk', description, self.playbook_action('bulk', BULK_PLAY, {}, extra_vars, ['bench secrets'], env),
                                    repeat=repeat)
            if scenario is not None and not scenario['ok']:
                return
        self.measure(BULK_FLOOR_READS, 'bulk', 'direct SDK script: %d reads of the converged secrets, %d threads' % (len(BULK_SECRETS), THREADS),
                     self.floor_action({'kind': 'secrets', 'names': BULK_SECRETS, 'client_id': operator, 'workers': THREADS}))
        self.measure(VM_READ, 'bulk', 'one keyvault.azure.secret_info task reading %d names on localhost (identity vm)' % len(VM_READ_SECRETS),
                     self.playbook_action('vmread', VM_READ_PLAY, {}, {'bench_read_names': VM_READ_SECRETS}, ['bench secret_info names'],
                                          baseline='bench ping'))
        self.measure(VM_READ_FLOOR, 'bulk', 'direct SDK script: %d reads, %d threads (identity vm)' % (len(VM_READ_SECRETS), THREADS),
                     self.floor_action({'kind': 'secrets', 'names': VM_READ_SECRETS, 'client_id': None, 'workers': THREADS}))

    def scenario_rollout(self):
        hosts = {}
        for host in ROLLOUT_HOSTS:
            hosts[host] = {'keyvault_client_id': self.vault.client_id(host), 'certificate_dir': os.path.join(self.work_dir, 'rollout', host, 'tls'),
                           'certificate_restart_command': ['/bin/true']}
        extra_vars = {'rollout_hosts': 'rollout', 'certificate_name': 'bench-tls', 'certificate_dns_names': ROLLOUT_DNS_NAMES,
                      'certificate_manager_client_id': self.vault.client_id('certmanager'),
                      'certificate_owner': os.getuid(), 'certificate_group': os.getgid()}
        for name, description, repeat in (
                (ROLLOUT_FIRST, 'playbooks/certificate_rollout.yml to %d local hosts, each with its own identity, %d forks' % (
                    len(ROLLOUT_HOSTS), FORKS), 1),
                (ROLLOUT_REPEAT, 'the same rollout again: nothing to change', None)):
            scenario = self.measure(name, 'rollout', description, self.playbook_action('rollout', ROLLOUT_PLAYBOOK, {'rollout': hosts}, extra_vars, None),
                                    repeat=repeat)
            if scenario is not None and not scenario['ok']:
                return

    # the report

    def targets(self):
        """The issue's targets, from what was measured: [(label, figure, target, verdict)]."""
        by_name = dict((scenario['name'], scenario) for scenario in self.scenarios if scenario['ok'])
        found = []

        def add(label, figure, target, met):
            found.append({'label': label, 'figure': figure, 'target': target, 'verdict': 'n/a' if met is None else ('ok' if met else 'MISSED')})

        lookup = by_name.get(LOOKUP_ALL)
        floor = by_name.get(FLOOR_THREADED)
        if lookup:
            add('lookup of %d: token requests, reads' % len(LOOKUP_SECRETS), '%d, %d' % (lookup['tokens'], lookup['reads']), '1, %d' % len(LOOKUP_SECRETS),
                lookup['tokens'] == 1 and lookup['reads'] == len(LOOKUP_SECRETS))
        if lookup and floor:
            ratio = lookup['task'] / floor['task']
            add('lookup of %d task time / threaded SDK script' % len(LOOKUP_SECRETS), '%.2f s / %.2f s = %.2fx' % (lookup['task'], floor['task'], ratio),
                '<= %.1fx' % LOOKUP_FLOOR_RATIO, ratio <= LOOKUP_FLOOR_RATIO)
            add('  (process wall times, for the record)', '%.2f s / %.2f s = %.2fx' % (lookup['wall'], floor['wall'], lookup['wall'] / floor['wall']),
                '-', None)
        hosts = by_name.get(HOSTS_DEFAULT)
        if hosts:
            unshared = by_name.get(HOSTS_NO_TOKEN_CACHE)
            figure = '%d' % hosts['tokens'] + (' (token_cache=false: %d)' % unshared['tokens'] if unshared else '')
            add('%d hosts x %d secrets: token requests' % (HOST_COUNT, len(HOST_SECRETS)), figure, '1', hosts['tokens'] == 1)
        cached = by_name.get(HOSTS_VALUE_CACHE)
        if cached:
            add('%d hosts with value_cache: vault reads' % HOST_COUNT, '%d (without: %s)' % (cached['reads'], hosts['reads'] if hosts else '?'),
                '%d' % len(HOST_SECRETS), cached['reads'] == len(HOST_SECRETS))
        repeat = by_name.get(CONVERGE_REPEAT)
        if repeat:
            add('repeat converge of %d: writes' % len(CONVERGE_SECRETS), '%d' % repeat['writes'], '0', repeat['writes'] == 0)
            per_object = repeat['reads'] / len(CONVERGE_SECRETS)
            add('repeat converge: reads per object', '%.2f' % per_object, '1', per_object == 1)
        self.bulk_targets(by_name, add)
        rollout = by_name.get(ROLLOUT_REPEAT)
        if rollout:
            add('repeat rollout: writes', '%d' % rollout['writes'], '0', rollout['writes'] == 0)
        startup = by_name.get(STARTUP)
        if startup and startup['first_request'] is not None:
            parts = ''
            if self.imports:
                parts = ' (python start %.2f s, ansible.module_utils.basic %.2f s, Azure SDK imports %.2f s)' % (
                    self.imports['python_start'], self.imports['ansible.module_utils.basic'],
                    sum(value for name, value in self.imports.items() if name.startswith('azure')))
            add('module start-up: task start -> first request', '%.2f s%s' % (startup['first_request'], parts), '-', None)
        return found

    @staticmethod
    def bulk_targets(by_name, add):
        """Issue 14's targets, with today's loop figures next to them."""
        first, repeat, floor = by_name.get(BULK_FIRST), by_name.get(BULK_REPEAT), by_name.get(BULK_FLOOR)
        loop_first, loop_repeat = by_name.get(CONVERGE_FIRST), by_name.get(CONVERGE_REPEAT)
        count = len(BULK_SECRETS)
        if first and floor:
            ratio = first['task'] / floor['task']
            add('secrets task of %d new / SDK script, same requests threaded' % count, '%.2f s / %.2f s = %.2fx' % (first['task'], floor['task'], ratio),
                '<= %.1fx' % BULK_CONVERGE_RATIO, ratio <= BULK_CONVERGE_RATIO)
        if first and loop_first:
            add('  (the loop of secret tasks today)', '%.2f s, %.1fx the secrets task' % (loop_first['task'], loop_first['task'] / first['task']), '-', None)
        if repeat:
            add('repeat secrets task: writes', '%d' % repeat['writes'], '0', repeat['writes'] == 0)
            per_object = repeat['reads'] / count
            add('repeat secrets task: reads per secret', '%.2f' % per_object, '<= 1', per_object <= 1)
            reads_floor = by_name.get(BULK_FLOOR_READS)
            if reads_floor:
                ratio = repeat['task'] / reads_floor['task']
                add('repeat secrets task / SDK script, %d reads threaded' % count, '%.2f s / %.2f s = %.2fx' % (
                    repeat['task'], reads_floor['task'], ratio), '<= %.1fx' % BULK_REPEAT_RATIO, ratio <= BULK_REPEAT_RATIO)
            if loop_repeat:
                add('  (the loop of secret tasks today, repeat)', '%.2f s, %.1fx the secrets task' % (
                    loop_repeat['task'], loop_repeat['task'] / repeat['task']), '-', None)
        read_many, read_floor, single = by_name.get(VM_READ), by_name.get(VM_READ_FLOOR), by_name.get(STARTUP)
        if read_many:
            add('secret_info of %d names: token requests, reads' % len(VM_READ_SECRETS), '%d, %d' % (read_many['tokens'], read_many['reads']),
                '1, %d' % len(VM_READ_SECRETS), read_many['tokens'] == 1 and read_many['reads'] == len(VM_READ_SECRETS))
        if read_many and read_floor and single:
            budget = single['task'] + read_floor['task']
            ratio = read_many['task'] / budget
            add('secret_info of %d names / (one-secret secret_info task + SDK %d reads threaded)' % (len(VM_READ_SECRETS), len(VM_READ_SECRETS)),
                '%.2f s / (%.2f s + %.2f s) = %.2fx' % (read_many['task'], single['task'], read_floor['task'], ratio),
                '<= %.1fx' % VM_READ_RATIO, ratio <= VM_READ_RATIO)
            add('  (a loop of %d one-secret tasks today, estimated)' % len(VM_READ_SECRETS), '%.2f s' % (single['task'] * len(VM_READ_SECRETS)), '-', None)


def task_span(timings, task_names):
    """(seconds from the first start of the named tasks, or of any task, to their last result; (start, end) of that window)."""
    starts = [task['time'] for task in timings['tasks'] if task_names is None or task['name'] in task_names]
    ends = [result['time'] for result in timings['results'] if task_names is None or result['task'] in task_names]
    if not starts or not ends:
        raise ScenarioFailed('the timings callback recorded no start or no result of %s' % (task_names or 'any task'))
    return max(ends) - min(starts), (min(starts), max(ends))


def first_request_delay(requests, window):
    """Seconds from the window's start to the first request (to the vault or its identity endpoint) that arrived within it."""
    if window is None:
        return None
    arrivals = [entry['time'] for entry in requests if window[0] <= entry['time'] <= window[1]]
    return min(arrivals) - window[0] if arrivals else None


def format_seconds(value):
    return '-' if value is None else '%.2f' % value


def format_brief(scenario):
    return 'auth %d, 401 %d, reads %d, writes %d, tokens %d, wall %s s, task %s s' % (
        scenario['authenticated'], scenario['challenges'], scenario['reads'], scenario['writes'], scenario['tokens'],
        format_seconds(scenario['wall']), format_seconds(scenario['task']))


def machine_facts(arguments):
    def version(distribution):
        try:
            return metadata.version(distribution)
        except metadata.PackageNotFoundError:
            return None

    commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=REPO_ROOT, capture_output=True, text=True, check=False).stdout.strip()
    dirty = subprocess.run(['git', 'status', '--porcelain', '--untracked-files=no'], cwd=REPO_ROOT, capture_output=True, text=True,
                           check=False).stdout.strip()
    return {
        'date': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
        'nproc': os.cpu_count(),
        'load_average': os.getloadavg(),
        'platform': platform.platform(),
        'python': platform.python_version(),
        'ansible_core': version('ansible-core'),
        'azure_identity': version('azure-identity'),
        'azure_keyvault_secrets': version('azure-keyvault-secrets'),
        'azure_keyvault_certificates': version('azure-keyvault-certificates'),
        'azure_core': version('azure-core'),
        'commit': (commit + ('+changes' if dirty else '')) or None,
        'latency': arguments.latency,
        'repeat': arguments.repeat,
    }


def render(facts, scenarios, targets, imports):
    lines = ['keyvault.azure benchmark, %s: %s cores (load %.2f), Python %s, ansible-core %s, azure-identity %s, commit %s' % (
        facts['date'], facts['nproc'], facts['load_average'][0], facts['python'], facts['ansible_core'], facts['azure_identity'], facts['commit']),
        'simulated latency %s s per authenticated vault request and per token request; medians of %d run(s)' % (facts['latency'], facts['repeat']),
        '']
    header = ('scenario', 'auth', '401', 'reads', 'writes', 'tokens', 'wall s', 'task s', '1st req s', 'authenticated requests per operation')
    rows = []
    for scenario in scenarios:
        if not scenario['ok']:
            rows.append((scenario['name'], 'FAILED: ' + scenario['error'][:300].replace('\n', ' ')))
            continue
        operations = ' '.join('%s=%d' % item for item in scenario['operations'].items())
        if scenario['counts_varied']:
            operations += ' (counts varied between runs)'
        rows.append((scenario['name'], str(scenario['authenticated']), str(scenario['challenges']), str(scenario['reads']), str(scenario['writes']),
                     str(scenario['tokens']), format_seconds(scenario['wall']), format_seconds(scenario['task']),
                     format_seconds(scenario['first_request']), operations))
    widths = [max(len(row[index]) for row in [header] + [row for row in rows if len(row) == len(header)]) for index in range(len(header) - 1)]
    widths[0] = max(len(row[0]) for row in [header] + rows)
    for row in [header] + rows:
        if len(row) != len(header):
            lines.append('%s  %s' % (row[0].ljust(widths[0]), row[1]))
            continue
        cells = [row[0].ljust(widths[0])] + [cell.rjust(width) for cell, width in zip(row[1:-1], widths[1:])] + [row[-1]]
        lines.append('  '.join(cells))
    lines.append('')
    lines.append('auth: authenticated requests to the vault; 401: challenge answers; tokens: requests to the identity endpoint;')
    lines.append('task s: the measured task(s) from start to the last result (SDK script: inside the script, imports included);')
    lines.append('1st req s: from the task start to the first request that reached the vault or the identity endpoint.')
    comparisons = []
    for group, description in BASELINES.items():
        measured = [scenario for scenario in scenarios if scenario['group'] == group and 'baseline_task' in (scenario.get('extra') or {})]
        if measured:
            comparisons.append('%s: %.2f s' % (description, measured[0]['extra']['baseline_task']))
    floor = next((scenario for scenario in scenarios if scenario.get('extra', {}).get('import_seconds') is not None), None)
    if floor:
        comparisons.append('Azure SDK imports inside the SDK script (%s): %.2f s' % (floor['name'], floor['extra']['import_seconds']))
    if imports:
        comparisons.append('imports in a fresh interpreter, each after the ones before: ' + ', '.join('%s %.2f s' % item for item in imports.items()))
    if comparisons:
        lines.append('')
        lines.append('for comparison:')
        lines.extend('  ' + comparison for comparison in comparisons)
    if targets:
        lines.append('')
        lines.append('targets (issues 7 and 14):')
        label_width = max(len(target['label']) for target in targets)
        for target in targets:
            lines.append('  %s  %s  [target %s]  %s' % (target['label'].ljust(label_width), target['figure'], target['target'], target['verdict']))
    return '\n'.join(lines) + '\n'


def collections_path(work_dir):
    """``make bench`` passes the installed collection's path; run alone, the benchmark uses this checkout."""
    configured = os.environ.get('ANSIBLE_COLLECTIONS_PATH')
    if configured:
        if not any(os.path.isdir(os.path.join(entry, 'ansible_collections', 'keyvault', 'azure')) for entry in configured.split(os.pathsep)):
            raise SystemExit('bench: ANSIBLE_COLLECTIONS_PATH=%s holds no keyvault.azure collection (run make install)' % configured)
        return configured
    root = os.path.join(work_dir, 'collections')
    os.makedirs(os.path.join(root, 'ansible_collections', 'keyvault'))
    os.symlink(REPO_ROOT, os.path.join(root, 'ansible_collections', 'keyvault', 'azure'))
    return root


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description='Benchmark the keyvault.azure plugins against a throw-away local vault (issue 7).')
    parser.add_argument('--latency', type=float, default=0.02,
                        help='seconds each authenticated vault request and each token request is held back (default 0.02; 0 for none)')
    parser.add_argument('--output', default=DEFAULT_OUTPUT, help='JSON file for the results (default %(default)s)')
    parser.add_argument('--only', default=','.join(GROUPS), help='comma-separated scenario groups of: %s (default all)' % ', '.join(GROUPS))
    parser.add_argument('--repeat', type=int, default=1, help='runs per scenario; times are the medians (default 1)')
    arguments = parser.parse_args(argv)
    arguments.only = [group.strip() for group in arguments.only.split(',') if group.strip()]
    unknown = sorted(set(arguments.only) - set(GROUPS))
    if unknown:
        parser.error('unknown scenario group(s) %s; known: %s' % (', '.join(unknown), ', '.join(GROUPS)))
    if arguments.repeat < 1 or arguments.latency < 0:
        parser.error('--repeat must be at least 1 and --latency not negative')
    return arguments


def stop_on_signal(signal_number, _frame):
    raise SystemExit(128 + signal_number)


def main(argv=None):
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    signal.signal(signal.SIGTERM, stop_on_signal)
    facts = machine_facts(arguments)
    work_dir = tempfile.mkdtemp(prefix='kvbench-')
    vault = BenchVault(os.path.join(work_dir, 'vault'))
    os.makedirs(vault.state_dir)
    started = time.perf_counter()
    try:
        bench = Bench(arguments, vault, work_dir, collections_path(work_dir))
        vault.start()
        vault.set_secrets(dict((name, os.urandom(16).hex()) for name in LOOKUP_SECRETS))
        bench.run()
    finally:
        vault.stop()
        shutil.rmtree(work_dir, ignore_errors=True)
    facts['load_average_after'] = os.getloadavg()
    facts['bench_seconds'] = time.perf_counter() - started
    targets = bench.targets()
    sys.stdout.write('\n' + render(facts, bench.scenarios, targets, bench.imports))
    os.makedirs(os.path.dirname(os.path.abspath(arguments.output)), exist_ok=True)
    with open(arguments.output, 'w', encoding='utf-8') as output_file:
        json.dump({'machine': facts, 'imports': bench.imports, 'scenarios': bench.scenarios, 'targets': targets}, output_file, indent=2)
        output_file.write('\n')
    sys.stdout.write('(%.0f s in all; results in %s)\n' % (facts['bench_seconds'], arguments.output))
    return 0 if all(scenario['ok'] for scenario in bench.scenarios) else 1


if __name__ == '__main__':
    sys.exit(main())
