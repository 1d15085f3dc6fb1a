# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""keyvault.azure.secret_info through ansible-playbook: one host per case, all run together."""

import types

import pytest

from playbook_helpers import case_arguments, counters_task, requests_between, unique_name, writes_between


@pytest.fixture(scope='module')
def info_cases(playbook, localvault, vault):
    suite = unique_name('suite')
    names = dict((case, unique_name('i-' + case)) for case in ('app', 'other', 'gone', 'off', 'missing'))
    first = vault.set_secret(names['app'], 'first-app-value', tags={'suite': suite, 'role': 'app'}, content_type='text/plain')
    second = vault.set_secret(names['app'], 'second-app-value', tags={'suite': suite, 'role': 'app'}, content_type='text/plain')
    vault.set_secret(names['other'], 'other-value', tags={'suite': suite, 'role': 'db'})
    vault.set_secret(names['gone'], 'gone-value', tags={'suite': suite})
    vault.begin_delete_secret(names['gone']).wait()
    vault.set_secret(names['off'], 'off-value', enabled=False)

    cases = {
        'current': dict(name=names['app']),
        'version': dict(name=names['app'], version=first.properties.version),
        'no-value': dict(name=names['app'], include_value=False),
        'by-tags': dict(tags={'suite': suite}),
        'by-two-tags': dict(tags={'suite': suite, 'role': 'db'}),
        'versions': dict(name=names['app'], list_versions=True),
        'deleted-one': dict(name=names['gone'], deleted=True),
        'deleted-list': dict(deleted=True, tags={'suite': suite}),
        'missing': dict(name=names['missing']),
        'disabled': dict(name=names['off']),
        'bad-combination': dict(name=names['app'], version=first.properties.version, list_versions=True),
    }
    expected_values = {'current': 'second-app-value', 'version': 'first-app-value'}
    hosts = dict((host, {'case': case, 'expected_value': expected_values.get(host, '')}) for host, case in cases.items())
    play = {'hosts': 'cases', 'gather_facts': False, 'tasks': [
        counters_task('before', localvault),
        {'name': 'read', 'keyvault.azure.secret_info': case_arguments(cases), 'register': 'info', 'ignore_errors': True},
        {'name': 'registered value', 'when': 'expected_value != ""', 'ansible.builtin.assert': {
            'that': ['info.value == expected_value'], 'quiet': True}},
        counters_task('after', localvault),
    ]}
    run = playbook([play], cases=hosts, check=True)
    assert run.rc == 0, run.output
    return types.SimpleNamespace(run=run, names=names, versions=dict(first=first, second=second))


def test_current_and_older_versions_with_their_values(info_cases):
    run, names, versions = info_cases.run, info_cases.names, info_cases.versions
    for host, version in (('current', versions['second']), ('version', versions['first'])):
        # The value reaches register (checked by the play), while callbacks only see a censored result.
        assert not run.result('registered value', host)['failed']
        assert 'censored' in run.result('read', host)
    assert 'first-app-value' not in run.output and 'second-app-value' not in run.output


def test_without_value_the_result_is_shown(info_cases):
    run, names, versions = info_cases.run, info_cases.names, info_cases.versions
    result = run.result('read', 'no-value')
    assert 'value' not in result
    secret = result['secret']
    assert (secret['name'], secret['version'], secret['content_type'], secret['tags']['role']) == (
        names['app'], versions['second'].properties.version, 'text/plain', 'app')
    assert secret['attributes']['enabled'] is True


def test_lists_filtered_by_tags(info_cases):
    run, names = info_cases.run, info_cases.names
    assert [s['name'] for s in run.result('read', 'by-tags')['secrets']] == sorted([names['app'], names['other']])
    assert [s['name'] for s in run.result('read', 'by-two-tags')['secrets']] == [names['other']]
    assert all('value' not in s for s in run.result('read', 'by-tags')['secrets'])


def test_versions_oldest_first(info_cases):
    run, versions = info_cases.run, info_cases.versions
    listed = run.result('read', 'versions')['secrets']
    assert [s['version'] for s in listed] == [versions['first'].properties.version, versions['second'].properties.version]


def test_deleted_secrets(info_cases):
    run, names = info_cases.run, info_cases.names
    one = run.result('read', 'deleted-one')['secret']
    assert one['name'] == names['gone']
    assert one['recovery_id'].endswith('/deletedsecrets/' + names['gone'])
    assert one['deleted_on'] and one['scheduled_purge_date'] > one['deleted_on']
    assert [s['name'] for s in run.result('read', 'deleted-list')['secrets']] == [names['gone']]


def test_failures_are_clear(info_cases, localvault):
    run, names = info_cases.run, info_cases.names
    vault_url = localvault.vault_url.rstrip('/')
    assert run.result('read', 'missing')['msg'] == "secret '%s' was not found in vault %s" % (names['missing'], vault_url)
    assert run.result('read', 'disabled')['msg'].startswith("secret '%s' in vault %s is disabled, so it cannot be read" % (names['off'], vault_url))
    assert run.result('read', 'bad-combination')['msg'] == 'version cannot be combined with list_versions or deleted'


def test_reading_never_writes(info_cases):
    run = info_cases.run
    assert writes_between(run.counters('before'), run.counters('after')) == {}
    assert not any(run.result('read', host).get('changed') for host in run.tasks['read'])


@pytest.fixture(scope='module')
def many_run(playbook, localvault, vault):
    """names: one task reads several secrets as the VM identity, tolerating a missing, a deleted and a disabled one."""
    names = dict((case, unique_name('m-' + case)) for case in ('db', 'api', 'smtp', 'missing', 'gone', 'off'))
    for case in ('db', 'api', 'smtp', 'gone'):
        vault.set_secret(names[case], '%s-many-value' % case, tags={'case': case})
    vault.begin_delete_secret(names['gone']).wait()
    vault.set_secret(names['off'], 'off-many-value', enabled=False)
    readable = [names['db'], names['api'], names['smtp']]
    tasks = [
        counters_task('before', localvault),
        {'name': 'read three', 'keyvault.azure.secret_info': {'names': readable}, 'register': 'three'},
        counters_task('after three', localvault),
        {'name': 'got them', 'ansible.builtin.assert': {'quiet': True, 'that': ['three.secret_values == expected_three']}},
        {'name': 'tolerant', 'register': 'tolerant', 'keyvault.azure.secret_info': {
            'names': [names['db'], names['missing'], names['gone'], names['off']], 'on_missing': 'skip', 'on_deleted': 'warn',
            'on_denied': 'skip', 'default': 'fallback'}},
        {'name': 'tolerated', 'ansible.builtin.assert': {'quiet': True, 'that': ['tolerant.secret_values == expected_tolerant']}},
        {'name': 'strict', 'keyvault.azure.secret_info': {'names': [names['db'], names['missing'], names['gone']]}, 'ignore_errors': True},
        {'name': 'duplicate', 'keyvault.azure.secret_info': {'names': [names['db'], names['db'].upper()]}, 'ignore_errors': True},
        {'name': 'with name', 'keyvault.azure.secret_info': {'names': [names['db']], 'name': names['db']}, 'ignore_errors': True},
    ]
    # The expected values come from a vars file, so that the playbook source Ansible may quote holds none.
    expected = {'expected_three': dict((names[case], '%s-many-value' % case) for case in ('db', 'api', 'smtp')),
                'expected_tolerant': dict([(names['db'], 'db-many-value')] + [(names[case], 'fallback') for case in ('missing', 'gone', 'off')])}
    run = playbook(tasks, identity='vm', extra_vars=expected)
    assert run.rc == 0, run.output
    return types.SimpleNamespace(run=run, names=names, readable=readable)


def test_names_are_read_in_one_task_with_one_token_and_one_read_each(many_run):
    run, names = many_run.run, many_run.names
    assert not run['got them']['failed']
    result = run['read three']
    assert 'censored' in result and not result.get('failed')
    before, after = run.counters('before'), run.counters('after three')
    assert after['imds']['identities']['vm'] - before['imds']['identities'].get('vm', 0) == 1
    assert requests_between(before, after, 'GetSecret', identity='vm') == 3
    assert writes_between(before, after, identity='vm') == {}
    for case in ('db', 'api', 'smtp', 'gone', 'off'):
        assert '%s-many-value' % case not in run.output


def test_names_that_cannot_be_read_follow_on_missing_on_deleted_on_denied(many_run, localvault):
    run, names = many_run.run, many_run.names
    assert not run['tolerated']['failed']
    assert "secret '%s' in vault %s is deleted" % (names['gone'], localvault.vault_url.rstrip('/')) in run.output
    strict = run['strict']
    assert strict['failed']
    assert strict['msg'].startswith('2 of 3 secrets could not be read: ')
    assert "secret '%s' was not found" % names['missing'] in strict['msg'] and "secret '%s' in vault" % names['gone'] in strict['msg']


def test_names_input_is_refused(many_run):
    run, names = many_run.run, many_run.names
    assert run['duplicate']['msg'] == "names lists secret '%s' more than once" % names['db'].upper()
    assert run['with name']['msg'] == 'parameters are mutually exclusive: name|names'
