# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only callback: writes each task's result, as callbacks see it, to a JSON file for the assertions."""

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: record_results
type: aggregate
short_description: Record task results for the keyvault.azure integration tests
description:
  - Writes a JSON object mapping each task name and host name to the task's result to the file named by the
    E(KEYVAULT_TEST_RESULTS) environment variable, when the playbook ends.
requirements:
  - enabled in the test run through E(ANSIBLE_CALLBACKS_ENABLED)
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'record_results'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.results = {}

    def _record(self, result, failed=False):
        # The result exactly as callbacks get it (censored for no_log), plus the outcome Ansible decided on.
        recorded = json.loads(json.dumps(result._result, default=str))
        recorded['failed'] = failed
        self.results.setdefault(result.task_name, {})[result._host.get_name()] = recorded

    def v2_runner_on_ok(self, result):
        self._record(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, failed=True)

    def v2_runner_on_skipped(self, result):
        self._record(result)

    def v2_playbook_on_stats(self, stats):
        with open(os.environ['KEYVAULT_TEST_RESULTS'], 'w', encoding='utf-8') as results_file:
            json.dump(self.results, results_file)
