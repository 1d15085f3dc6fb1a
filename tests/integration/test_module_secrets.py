# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""keyvault.azure.secrets through ansible-playbook against the local vault: a whole set in one task.

The set converges in four steps (check mode, apply, check mode, apply); a set with failing items converges the
others and names the failed ones; exclusive_tags removes only what carries its tags. Hosts sharing a set are in
test_run_sharing.py, bad lists in test_bad_input.py.
"""

import types

import pytest

from playbook_helpers import assert_four_steps, counters_task, four_step_play, unique_name, writes_between


def secrets_task(name, **arguments):
    return {'name': name, 'keyvault.azure.secrets': arguments}


def names_of(results):
    return [result['name'] for result in results]


@pytest.fixture(scope='module')
def set_run(playbook, localvault, vault, tmp_path_factory):
    """One set with every kind of item, converged in four steps with --diff."""
    names = dict((case, unique_name('s-' + case)) for case in ('new', 'new-file', 'rotate', 'retag', 'same', 'drop', 'keep'))
    vault.set_secret(names['rotate'], 'old-rotate-value', tags={'app': 'set'})
    vault.set_secret(names['retag'], 'retag-value', tags={'app': 'old'})
    vault.set_secret(names['same'], 'same-value', tags={'app': 'set'})
    vault.set_secret(names['drop'], 'drop-value')
    vault.set_secret(names['keep'], 'generated-keep-value', tags={'app': 'set'})
    value_file = tmp_path_factory.mktemp('set-values') / 'value.txt'
    value_file.write_text('file-set-value\n')
    items = [
        {'name': names['new'], 'value': 'new-set-value', 'content_type': 'text/plain'},
        {'name': names['new-file'], 'value_file': str(value_file), 'tags': {'app': 'set', 'from': 'file'}},
        {'name': names['rotate'], 'value': 'new-rotate-value'},
        {'name': names['retag'], 'value': 'retag-value'},
        {'name': names['same'], 'value': 'same-value'},
        {'name': names['drop'], 'state': 'absent'},
        {'name': names['keep'], 'value': 'would-replace-value', 'overwrite': False},
    ]
    play, hosts = four_step_play('keyvault.azure.secrets', {'set': {'secrets': items, 'tags': {'app': 'set'}}}, localvault)
    run = playbook([play], cases=hosts, diff=True)
    assert run.rc == 0, run.output
    return types.SimpleNamespace(run=run, names=names, items=items)


def test_a_set_converges_in_four_steps(set_run):
    # Two new secrets and a rotation write a version each; a new tag updates one in place; one secret is deleted.
    assert_four_steps(set_run.run, {'set': None}, {'SetSecret': 3, 'UpdateSecret': 1, 'DeleteSecret': 1})


def test_each_item_has_its_result_and_reasons(set_run, vault):
    run, names = set_run.run, set_run.names
    predicted = run.result('cases step 1', 'set')['results']
    applied = run.result('cases step 2', 'set')['results']
    assert names_of(applied) == [item['name'] for item in set_run.items]
    by_name = dict((result['name'], result) for result in applied)
    assert [by_name[names[case]]['changed'] for case in ('new', 'new-file', 'rotate', 'retag', 'same', 'drop', 'keep')] == [
        True, True, True, True, False, True, False]
    assert by_name[names['new']]['reasons'] == ['the secret does not exist']
    assert by_name[names['rotate']]['reasons'] == ['the value differs']
    assert by_name[names['retag']]['reasons'] == ['tags differs']
    assert by_name[names['drop']]['reasons'] == ['the secret exists']
    assert by_name[names['rotate']]['version'] == vault.get_secret(names['rotate']).properties.version
    assert [result['changed'] for result in predicted] == [result['changed'] for result in applied]
    assert dict((result['name'], result['version']) for result in predicted)[names['new']] is None
    assert all(not result['changed'] for result in run.result('cases step 4', 'set')['results'])


def test_the_vault_holds_the_set(set_run, vault):
    names = set_run.names
    assert vault.get_secret(names['new']).value == 'new-set-value'
    assert vault.get_secret(names['new']).properties.tags == {'app': 'set'}
    assert vault.get_secret(names['new-file']).value == 'file-set-value\n'
    assert vault.get_secret(names['new-file']).properties.tags == {'app': 'set', 'from': 'file'}
    assert vault.get_secret(names['rotate']).value == 'new-rotate-value'
    assert vault.get_secret(names['retag']).properties.tags == {'app': 'set'}
    assert vault.get_secret(names['keep']).value == 'generated-keep-value'
    assert vault.get_deleted_secret(names['drop']).name == names['drop']


def test_diff_per_item_without_values(set_run):
    run, names = set_run.run, set_run.names
    diffs = run.result('cases step 1', 'set')['diff']
    headers = [diff['before_header'] for diff in diffs]
    assert headers == ["secret '%s'" % names[case] for case in ('new', 'new-file', 'rotate', 'retag', 'drop')]
    rotate = diffs[2]
    assert (rotate['before']['value'], rotate['after']['value']) == ('(hidden)', '(hidden, changed)')
    assert diffs[4]['after'] == {'state': 'deleted'}
    for value in ('new-set-value', 'file-set-value', 'new-rotate-value', 'old-rotate-value', 'would-replace-value', 'generated-keep-value'):
        assert value not in run.output


@pytest.fixture(scope='module')
def partial_run(playbook, localvault, vault):
    names = dict((case, unique_name('p-' + case)) for case in ('first', 'deleted', 'no-value', 'last'))
    vault.set_secret(names['deleted'], 'deleted-value')
    vault.begin_delete_secret(names['deleted']).wait()
    items = [
        {'name': names['first'], 'value': 'first-partial-value'},
        {'name': names['deleted'], 'value': 'reuse-attempt-value'},
        {'name': names['no-value'], 'tags': {'only': 'tags'}},
        {'name': names['last'], 'value': 'last-partial-value'},
    ]
    tasks = [counters_task('before', localvault), dict(secrets_task('partial', secrets=items), ignore_errors=True),
             counters_task('after', localvault)]
    run = playbook(tasks)
    return types.SimpleNamespace(run=run, names=names)


def test_a_failing_item_does_not_stop_the_others(partial_run, localvault, vault):
    run, names = partial_run.run, partial_run.names
    result = run['partial']
    assert result['failed'] and result['changed']
    vault_url = localvault.vault_url.rstrip('/')
    assert result['msg'] == (
        "2 of 4 secrets failed: secret '%s' in vault %s is deleted but recoverable (until it is purged on %s); set recover: true to "
        "bring it back, or purge it first (state: absent, purge: true); secret '%s' does not exist in vault %s; value or value_file is "
        "needed to create it" % (names['deleted'], vault_url, result['results'][1]['msg'].split('purged on ')[1].split(')')[0],
                                 names['no-value'], vault_url))
    assert [(item['name'], item['changed'], item.get('failed', False)) for item in result['results']] == [
        (names['first'], True, False), (names['deleted'], False, True), (names['no-value'], False, True), (names['last'], True, False)]
    assert (vault.get_secret(names['first']).value, vault.get_secret(names['last']).value) == ('first-partial-value', 'last-partial-value')
    assert writes_between(run.counters('before'), run.counters('after')) == {'SetSecret': 2}


@pytest.fixture(scope='module')
def exclusive_run(playbook, localvault, vault):
    selector = {'managed-by': unique_name('ansible')}
    # A tag of this test's own: the vault is shared, and other tests list secrets by their tags.
    other_tag = {'app': unique_name('exclusive')}
    names = dict((case, unique_name('x-' + case)) for case in ('listed', 'unlisted', 'untagged', 'other-value', 'new'))
    vault.set_secret(names['listed'], 'listed-value', tags=selector)
    vault.set_secret(names['unlisted'], 'unlisted-value', tags=dict(selector, **other_tag))
    vault.set_secret(names['untagged'], 'untagged-value', tags=other_tag)
    vault.set_secret(names['other-value'], 'other-value', tags={'managed-by': 'someone-else'})
    arguments = dict(tags=selector, exclusive_tags=selector, secrets=[
        {'name': names['listed'], 'value': 'listed-value'}, {'name': names['new'], 'value': 'new-exclusive-value'}])
    tasks = [
        counters_task('before', localvault),
        dict(secrets_task('exclusive check', **arguments), check_mode=True),
        counters_task('after check', localvault),
        secrets_task('exclusive apply', **arguments),
        secrets_task('exclusive again', **arguments),
        counters_task('after', localvault),
    ]
    run = playbook(tasks, diff=True)
    assert run.rc == 0, run.output
    return types.SimpleNamespace(run=run, names=names)


def test_exclusive_tags_remove_only_unlisted_secrets_carrying_them(exclusive_run, vault):
    run, names = exclusive_run.run, exclusive_run.names
    predicted = run['exclusive check']
    assert writes_between(run.counters('before'), run.counters('after check')) == {}
    assert [(result['name'], result['state'], result['changed']) for result in predicted['results']] == [
        (names['listed'], 'present', False), (names['new'], 'present', True), (names['unlisted'], 'absent', True)]
    assert predicted['results'][2]['reasons'][0].startswith('not in secrets, and carries the exclusive_tags managed-by=')
    assert [diff['before_header'] for diff in predicted['diff']] == ["secret '%s'" % names['new'], "secret '%s'" % names['unlisted']]
    assert run.changed('exclusive apply', 'exclusive again') == [True, False]
    assert writes_between(run.counters('after check'), run.counters('after')) == {'SetSecret': 1, 'DeleteSecret': 1}
    # Soft-deleted, not purged: it can be recovered.
    assert vault.get_deleted_secret(names['unlisted']).recovery_id
    for case in ('listed', 'untagged', 'other-value', 'new'):
        assert vault.get_secret(names[case]).value


@pytest.fixture(scope='module')
def faulty_run(playbook, localvault, vault):
    """A set written while the vault loses two write answers and throttles reads (HTTP 429, Retry-After 1)."""
    names = [unique_name('f-%d' % number) for number in range(6)]
    localvault.control('DELETE', 'faults')
    localvault.add_fault(operation='SetSecret', drop=True, after=True, count=2)
    localvault.add_fault(operation='GetSecret', status=429, retry_after=1, every=2, count=3)
    try:
        run = playbook([counters_task('before faults', localvault),
                        secrets_task('through faults', secrets=[{'name': name, 'value': 'value of ' + name} for name in names]),
                        counters_task('after faults', localvault)])
    finally:
        localvault.control('DELETE', 'faults')
    return types.SimpleNamespace(run=run, names=names)


def test_lost_write_answers_are_not_replayed_and_throttling_is_retried(faulty_run, vault):
    run, names = faulty_run.run, faulty_run.names
    assert run.rc == 0, run.output
    result = run['through faults']
    assert result['changed'] and all(item['changed'] for item in result['results'])
    # The three throttled reads were retried after Retry-After; the two writes whose answer was lost were read
    # back, not sent again.
    assert result['retries'] == 3
    before, after = run.counters('before faults')['statuses'], run.counters('after faults')['statuses']
    assert after['GetSecret'].get('429', 0) - before.get('GetSecret', {}).get('429', 0) == 3
    assert sum(after['SetSecret'].values()) - sum(before.get('SetSecret', {}).values()) == len(names)
    for name in names:
        assert [version.version for version in vault.list_properties_of_secret_versions(name)] == [vault.get_secret(name).properties.version]
        assert vault.get_secret(name).value == 'value of ' + name
