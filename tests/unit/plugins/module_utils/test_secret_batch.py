# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The list of keyvault.azure.secrets: checks across items, task defaults, reasons, and running items concurrently."""

import threading

import pytest

from ansible_collections.keyvault.azure.plugins.module_utils import _secret_batch as batch
from ansible_collections.keyvault.azure.plugins.module_utils import _secret_state as state
from ansible_collections.keyvault.azure.plugins.module_utils._batch import run_concurrently
from ansible_collections.keyvault.azure.plugins.module_utils._errors import KeyVaultError
from ansible_collections.keyvault.azure.plugins.module_utils._identifiers import KeyVaultInputError

TASK = dict(state='present', overwrite=True, content_type='text/plain', tags={'app': 'shop'}, enabled=None, not_before=None,
            expires='2030-01-01', recover=False, purge=False)


class TestCheckItems:

    def test_a_good_list_passes(self):
        batch.check_items([{'name': 'db', 'value': 'v'}, {'name': 'api', 'value_file': '/f', 'tags': {}}, {'name': 'old', 'state': 'absent'}])

    @pytest.mark.parametrize('items, message', [
        ('db', 'secrets must be a list of secret definitions'),
        (['db'], 'secrets[0] is not a dictionary with name, value and the other options of a secret'),
        ([{'name': 'db', 'Value': 'v'}], "secrets[0] (secret 'db'): unknown option Value; an item takes "),
        ([{'name': 'db', 'a': 1, 'b': 2}], "secrets[0] (secret 'db'): unknown options a, b; "),
        ([{'value': 'v'}], 'secrets[0] has no name'),
        ([{'name': 'a'}, {'name': 'db.x'}], "secrets[1] (secret 'db.x'): invalid secret name 'db.x'"),
        ([{'name': 'db', 'value': 'v', 'value_file': '/f'}], "secrets[0] (secret 'db'): value and value_file are mutually exclusive"),
        ([{'name': 'db'}, {'name': 'x'}, {'name': 'DB'}], "secrets[2] (secret 'DB') names the same secret as secrets[0] (secret 'db')"),
    ])
    def test_bad_lists_name_the_item(self, items, message):
        with pytest.raises(KeyVaultInputError) as refused:
            batch.check_items(items)
        assert str(refused.value).startswith(message)

    def test_an_item_value_given_as_none_counts_as_not_given(self):
        batch.check_items([{'name': 'db', 'value': None, 'value_file': '/f'}])

    def test_an_empty_tag_selector_or_an_empty_list_with_one_is_refused(self):
        batch.check_exclusive_tags(None, [])
        batch.check_exclusive_tags({'managed-by': 'ansible'}, [{'name': 'db'}])
        with pytest.raises(KeyVaultInputError, match='exclusive_tags is empty'):
            batch.check_exclusive_tags({}, [{'name': 'db'}])
        with pytest.raises(KeyVaultInputError, match='secrets is empty, so exclusive_tags would delete every secret carrying its tags'):
            batch.check_exclusive_tags({'managed-by': 'ansible'}, [])


class TestItemParams:

    def test_the_task_fills_in_what_the_item_leaves_out(self):
        params = batch.item_params({'name': 'db', 'value': 'v', 'expires': None, 'tags': None}, TASK)
        assert (params['tags'], params['expires'], params['content_type'], params['state']) == ({'app': 'shop'}, '2030-01-01', 'text/plain', 'present')
        assert params['return_value'] is False

    def test_the_item_wins_and_tags_are_replaced_not_merged(self):
        params = batch.item_params({'name': 'db', 'tags': {'tier': '1'}, 'overwrite': False, 'state': 'absent', 'enabled': False}, TASK)
        assert (params['tags'], params['overwrite'], params['state'], params['enabled']) == ({'tier': '1'}, False, 'absent', False)

    def test_an_empty_tag_dictionary_is_kept_to_remove_all_tags(self):
        assert batch.item_params({'name': 'db', 'tags': {}}, TASK)['tags'] == {}


class TestPlanReasons:

    def test_reasons_follow_the_plan(self):
        current = state.SecretState(name='db', version='a' * 32, value='old', tags={'a': '1'}, content_type=None, enabled=True)
        assert state.plan_reasons(state.plan_present(state.desired_state('db', value='v'), None)) == ['the secret does not exist']
        assert state.plan_reasons(state.plan_present(state.desired_state('db', value='new', tags={'a': '2'}, content_type='x'), current)) == [
            'the value differs', 'content_type, tags differ']
        assert state.plan_reasons(state.plan_present(state.desired_state('db', value='old', tags={'a': '1'}), current)) == []


class TestRunConcurrently:

    def test_results_keep_their_order_and_failures_stay_with_their_item(self):
        def work(item):
            if item == 3:
                raise KeyVaultError('forbidden', 'no')
            return item * 10
        outcomes = run_concurrently(list(range(6)), work, workers=3)
        assert [outcome if not isinstance(outcome, KeyVaultError) else 'failed' for outcome in outcomes] == [0, 10, 20, 'failed', 40, 50]

    def test_no_more_than_the_workers_at_once(self):
        lock, running, most = threading.Lock(), [0], [0]

        def work(_item):
            with lock:
                running[0] += 1
                most[0] = max(most[0], running[0])
            threading.Event().wait(0.01)
            with lock:
                running[0] -= 1
        run_concurrently(list(range(40)), work, workers=4)
        assert 1 < most[0] <= 4

    def test_other_exceptions_are_not_swallowed(self):
        def work(_item):
            raise KeyVaultInputError('bad')
        with pytest.raises(KeyVaultInputError):
            run_concurrently([1, 2], work)
        assert isinstance(run_concurrently([1], work, errors=(KeyVaultInputError,))[0], KeyVaultInputError)
