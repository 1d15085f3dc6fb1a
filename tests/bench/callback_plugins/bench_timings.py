# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark-only callback: when each task started and when each host's result came back, for tests/bench/bench.py."""

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: bench_timings
type: aggregate
short_description: Record task timings for the keyvault.azure benchmark
description:
  - Writes, to the file named by the E(KEYVAULT_BENCH_TIMINGS) environment variable when the playbook ends, the
    time (epoch seconds) at which each task and handler started and at which each host's result arrived, with the
    message of failed results.
requirements:
  - enabled in the benchmark's runs through E(ANSIBLE_CALLBACKS_ENABLED)
"""

# Enough of a failure message to tell why a scenario failed; results are not recorded otherwise.
MESSAGE_LENGTH = 2000


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'bench_timings'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.tasks = []
        self.results = []

    def v2_playbook_on_task_start(self, task, is_conditional):
        self.tasks.append({'name': task.get_name(), 'time': time.time()})

    def v2_playbook_on_handler_task_start(self, task):
        self.tasks.append({'name': task.get_name(), 'time': time.time(), 'handler': True})

    def _record(self, result, status):
        entry = {'task': result.task_name, 'host': result._host.get_name(), 'status': status, 'time': time.time()}
        if status in ('failed', 'unreachable'):
            entry['msg'] = str(result._result.get('msg', ''))[:MESSAGE_LENGTH]
        self.results.append(entry)

    def v2_runner_on_ok(self, result):
        self._record(result, 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, 'failed')

    def v2_runner_on_unreachable(self, result):
        self._record(result, 'unreachable')

    def v2_runner_on_skipped(self, result):
        self._record(result, 'skipped')

    def v2_playbook_on_stats(self, stats):
        with open(os.environ['KEYVAULT_BENCH_TIMINGS'], 'w', encoding='utf-8') as timings_file:
            json.dump({'tasks': self.tasks, 'results': self.results}, timings_file)
