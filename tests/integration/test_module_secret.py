# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""keyvault.azure.secret through ansible-playbook against the local vault.

Every state-changing case runs four steps (check mode, apply, check mode, apply) on a host of its
own; the hosts run each step together, with the vault's request counters read between the steps.
The tests then read what the vault holds with the SDK.
"""

import datetime
import types

import pytest

from playbook_helpers import assert_four_steps, case_arguments, counters_task, four_step_play, unique_name, writes_between


UTC = datetime.timezone.utc


def secret_task(**args):
    return {'keyvault.azure.secret': args}


def versions_of(vault, name):
    return list(vault.list_properties_of_secret_versions(name))


@pytest.fixture(scope='module')
def present_cases(playbook, localvault, vault, tmp_path_factory):
    """One playbook with every ``state: present`` case, run once for the tests of this module."""
    names = dict((case, unique_name('c-' + case)) for case in (
        'create', 'tags', 'rotate', 'keep', 'file', 'disable', 'enable', 'hidden', 'recover', 'deleted'))
    vault.set_secret(names['tags'], 'tags-value', tags={'a': '1'})
    vault.set_secret(names['rotate'], 'old-rotate-value', tags={'team': 'blue'}, content_type='text/plain')
    vault.set_secret(names['keep'], 'generated-keep-value')
    vault.set_secret(names['disable'], 'disable-value')
    vault.set_secret(names['enable'], 'enable-value', enabled=False)
    vault.set_secret(names['hidden'], 'hidden-value', enabled=False)
    for case in ('recover', 'deleted'):
        vault.set_secret(names[case], 'deleted-value', tags={'was': 'deleted'})
        vault.begin_delete_secret(names[case]).wait()
    value_file = tmp_path_factory.mktemp('values') / 'value.txt'
    value_file.write_text('file-value-with-newline\n')

    cases = {
        'create': dict(name=names['create'], value='create-value', content_type='text/plain', tags={'app': 'shop', 'tier': 1},
                       not_before='2026-01-01', expires='2031-05-01T10:00:00Z'),
        'tags': dict(name=names['tags'], value='tags-value', tags={'a': '1', 'b': '2'}, content_type='text/plain'),
        'rotate': dict(name=names['rotate'], value='new-rotate-value'),
        'keep': dict(name=names['keep'], value='would-replace-value', overwrite=False, tags={'generated': 'yes'}, return_value=True),
        'file': dict(name=names['file'], value_file=str(value_file)),
        'disable': dict(name=names['disable'], enabled=False),
        'enable': dict(name=names['enable'], value='enable-value', enabled=True),
        'recover': dict(name=names['recover'], value='recovered-new-value', recover=True),
    }
    four_steps, hosts = four_step_play('keyvault.azure.secret', cases, localvault)
    others = [
        counters_task('hidden before', localvault),
        dict(secret_task(name=names['hidden'], value='another-hidden-value', enabled=False), name='hidden check', check_mode=True),
        dict(secret_task(name=names['hidden'], value='another-hidden-value', enabled=False), name='hidden apply'),
        counters_task('hidden after', localvault),
        dict(secret_task(name=names['deleted'], value='reuse-attempt-value'), name='deleted without recover', ignore_errors=True),
        counters_task('deleted after', localvault),
    ]
    run = playbook([four_steps, {'hosts': 'localhost', 'gather_facts': False, 'tasks': others}], cases=hosts)
    assert run.rc == 0, run.output
    return types.SimpleNamespace(run=run, names=names, cases=cases)


def test_every_present_case_converges_in_four_steps(present_cases):
    run, cases = present_cases.run, present_cases.cases
    # create, rotate, file and recover set a version each; tags, keep, disable and enable update one in place.
    assert_four_steps(run, cases, {'SetSecret': 4, 'UpdateSecret': 4, 'RecoverDeletedSecret': 1})


def test_create(present_cases, vault):
    run, names = present_cases.run, present_cases.names
    secret = vault.get_secret(names['create'])
    assert secret.value == 'create-value'
    assert (secret.properties.content_type, secret.properties.tags) == ('text/plain', {'app': 'shop', 'tier': '1'})
    assert secret.properties.expires_on == datetime.datetime(2031, 5, 1, 10, tzinfo=UTC)
    assert secret.properties.not_before == datetime.datetime(2026, 1, 1, tzinfo=UTC)
    assert len(versions_of(vault, names['create'])) == 1
    returned = run.result('cases step 2', 'create')['secret']
    assert (returned['version'], returned['expires']) == (secret.properties.version, '2031-05-01T10:00:00Z')
    assert run.result('cases step 1', 'create')['secret']['version'] is None


def test_attribute_change_updates_the_current_version(present_cases, vault):
    names = present_cases.names
    secret = vault.get_secret(names['tags'])
    assert (secret.value, secret.properties.tags, secret.properties.content_type) == ('tags-value', {'a': '1', 'b': '2'}, 'text/plain')
    assert len(versions_of(vault, names['tags'])) == 1


def test_new_value_creates_a_version_carrying_the_attributes(present_cases, vault):
    run, names = present_cases.run, present_cases.names
    secret = vault.get_secret(names['rotate'])
    assert (secret.value, secret.properties.tags, secret.properties.content_type) == ('new-rotate-value', {'team': 'blue'}, 'text/plain')
    assert len(versions_of(vault, names['rotate'])) == 2
    assert run.result('cases step 2', 'rotate')['secret']['version'] == secret.properties.version


def test_overwrite_false_keeps_the_value_and_returns_it_hidden(present_cases, vault):
    run, names = present_cases.run, present_cases.names
    secret = vault.get_secret(names['keep'])
    assert (secret.value, secret.properties.tags) == ('generated-keep-value', {'generated': 'yes'})
    # return_value hides the task result from callbacks: they only see the censored result.
    assert 'censored' in run.result('cases step 2', 'keep')
    assert 'generated-keep-value' not in run.output


def test_value_from_a_file_is_taken_as_is(present_cases, vault):
    names = present_cases.names
    assert vault.get_secret(names['file']).value == 'file-value-with-newline\n'


def test_disable_and_enable_in_place(present_cases, vault):
    names = present_cases.names
    assert [p.enabled for p in versions_of(vault, names['disable'])] == [False]
    secret = vault.get_secret(names['enable'])
    assert (secret.value, secret.properties.enabled, len(versions_of(vault, names['enable']))) == ('enable-value', True, 1)


def test_value_of_a_disabled_secret_is_not_compared(present_cases, vault):
    run, names = present_cases.run, present_cases.names
    assert run.changed('hidden check', 'hidden apply') == [False, False]
    assert writes_between(run.counters('hidden before'), run.counters('hidden after')) == {}
    assert "secret '%s' is disabled, so its value was not compared with the value given" % names['hidden'] in run.output
    assert [p.enabled for p in versions_of(vault, names['hidden'])] == [False]


def test_recover_then_converge(present_cases, vault):
    names = present_cases.names
    secret = vault.get_secret(names['recover'])
    assert (secret.value, secret.properties.tags) == ('recovered-new-value', {'was': 'deleted'})
    assert len(versions_of(vault, names['recover'])) == 2


def test_deleted_secret_without_recover_fails_clearly(present_cases, vault, localvault):
    run, names = present_cases.run, present_cases.names
    result = run['deleted without recover']
    assert result['failed']
    assert result['msg'].startswith("secret '%s' in vault %s is deleted but recoverable (until it is purged on " % (
        names['deleted'], localvault.vault_url.rstrip('/')))
    assert result['msg'].endswith('set recover: true to bring it back, or purge it first (state: absent, purge: true)')
    assert writes_between(run.counters('hidden after'), run.counters('deleted after')) == {}
    assert vault.get_deleted_secret(names['deleted']).name == names['deleted']


@pytest.fixture(scope='module')
def absent_cases(playbook, localvault, vault):
    names = dict((case, unique_name('c-' + case)) for case in ('delete', 'purge', 'purge-deleted', 'missing'))
    for case in ('delete', 'purge', 'purge-deleted'):
        vault.set_secret(names[case], 'doomed-value')
    vault.begin_delete_secret(names['purge-deleted']).wait()
    cases = {
        'delete': dict(name=names['delete'], state='absent'),
        'purge': dict(name=names['purge'], state='absent', purge=True),
        'purge-deleted': dict(name=names['purge-deleted'], state='absent', purge=True),
    }
    four_steps, hosts = four_step_play('keyvault.azure.secret', cases, localvault)
    others = [
        counters_task('missing before', localvault),
        dict(secret_task(name=names['missing'], state='absent', purge=True), name='missing check', check_mode=True),
        dict(secret_task(name=names['missing'], state='absent', purge=True), name='missing apply'),
        counters_task('missing after', localvault),
    ]
    run = playbook([four_steps, {'hosts': 'localhost', 'gather_facts': False, 'tasks': others}], cases=hosts, diff=True)
    assert run.rc == 0, run.output
    return types.SimpleNamespace(run=run, names=names, cases=cases)


def test_absent_cases_converge_in_four_steps(absent_cases):
    run, cases = absent_cases.run, absent_cases.cases
    assert_four_steps(run, cases, {'DeleteSecret': 2, 'PurgeDeletedSecret': 2})


def test_absent_deletes_softly(absent_cases, vault):
    run, names = absent_cases.run, absent_cases.names
    assert vault.get_deleted_secret(names['delete']).name == names['delete']
    assert run.result('cases step 1', 'delete')['diff'] == {'before': {'state': 'present'}, 'after': {'state': 'deleted'}}


def test_absent_with_purge_leaves_nothing(absent_cases, vault):
    run, names = absent_cases.run, absent_cases.names
    for case in ('purge', 'purge-deleted'):
        assert not [s for s in vault.list_deleted_secrets() if s.name == names[case]]
        assert not [s for s in vault.list_properties_of_secrets() if s.name == names[case]]
    assert run.result('cases step 2', 'purge-deleted')['diff'] == {'before': {'state': 'deleted'}, 'after': {'state': 'absent'}}


def test_absent_on_a_missing_secret_is_ok(absent_cases):
    run = absent_cases.run
    assert run.changed('missing check', 'missing apply') == [False, False]
    assert writes_between(run.counters('missing before'), run.counters('missing after')) == {}


def test_check_and_diff_mode_show_no_value(playbook, localvault, vault):
    name = unique_name('c-diff')
    vault.set_secret(name, 'diff-old-value', tags={'v': '1'})
    task = secret_task(name=name, value='diff-new-value', tags={'v': '2'})
    run = playbook([dict(task, name='diff check', check_mode=True), dict(task, name='diff apply')], diff=True)
    assert run.rc == 0, run.output
    assert 'diff-old-value' not in run.output and 'diff-new-value' not in run.output
    assert run.output.count('-    "value": "(hidden)"') == 2
    assert run.output.count('+    "value": "(hidden, changed)"') == 2
    assert '-        "v": "1"' in run.output and '+        "v": "2"' in run.output
    assert vault.get_secret(name).value == 'diff-new-value'


def test_bad_input_fails_before_any_write(playbook, localvault):
    name = unique_name('c-bad')
    cases = {
        'empty-value': dict(name=name, value=''),
        'bad-name': dict(name='bad_name', value='some-value'),
        'bad-date': dict(name=name, value='some-value', expires='next tuesday'),
        'value-and-file': dict(name=name, value='some-value', value_file='/etc/hostname'),
        'missing-file': dict(name=name, value_file='/nonexistent/value.txt'),
        'no-value': dict(name=name, tags={'a': 'b'}),
        'too-large': dict(name=name, value='x' * (25 * 1024 + 1)),
        'identity-options': dict(name=name, value='some-value', object_id='0b1'),
        'no-vault': dict(name=name, value='some-value'),
        'http-vault': dict(name=name, value='some-value', vault_url='http://localhost:1'),
    }
    hosts = dict((host, {'case': case}) for host, case in cases.items())
    hosts['no-vault']['case_environment'] = {'ANSIBLE_KEYVAULT_URL': ''}
    play = {'hosts': 'cases', 'gather_facts': False, 'tasks': [
        counters_task('before', localvault),
        {'name': 'bad input', 'keyvault.azure.secret': case_arguments(cases), 'ignore_errors': True,
         'environment': '{{ case_environment | default({}) }}'},
        counters_task('after', localvault),
    ]}
    run = playbook([play], cases=hosts)
    messages = dict((host, run.result('bad input', host).get('msg')) for host in cases)
    assert all(run.result('bad input', host)['failed'] for host in cases), messages
    assert messages['empty-value'] == 'the secret value is empty; Key Vault does not store empty secrets'
    assert messages['bad-name'] == "invalid secret name 'bad_name': use 1-127 letters, digits and hyphens"
    assert messages['bad-date'] == "expires: 'next tuesday' is not a date; use ISO 8601 such as 2030-01-31 or 2030-01-31T12:00:00Z"
    assert messages['value-and-file'] == 'parameters are mutually exclusive: value|value_file'
    assert messages['missing-file'] == 'value_file /nonexistent/value.txt cannot be read: No such file or directory'
    assert messages['no-value'] == "secret '%s' does not exist in vault %s; value or value_file is needed to create it" % (
        name, localvault.vault_url.rstrip('/'))
    assert messages['too-large'] == 'the secret value is 25601 bytes long; Key Vault stores at most 25600 bytes'
    assert messages['identity-options'].startswith('parameters are mutually exclusive: client_id|object_id')
    assert messages['no-vault'].startswith('no vault given: set vault_url or vault_name')
    assert messages['http-vault'] == "vault URL must be an https:// URL such as https://myvault.vault.azure.net, got 'http://localhost:1'"
    assert writes_between(run.counters('before'), run.counters('after')) == {}


def test_module_defaults_group_sets_the_connection_once(playbook, localvault, vault):
    name = unique_name('c-group')
    operator = localvault.identities['operator']
    play = {
        'hosts': 'localhost', 'gather_facts': False,
        'module_defaults': {'group/keyvault.azure.all': {
            'vault_url': localvault.vault_url, 'ca_cert': localvault.ca_bundle, 'verify_challenge_resource': False,
            'client_id': operator['client_id']}},
        'tasks': [
            dict(secret_task(name=name, value='group-value'), name='set through group defaults'),
            {'name': 'read through group defaults', 'keyvault.azure.secret_info': {'name': name}, 'register': 'read'},
            {'name': 'check', 'ansible.builtin.assert': {'that': ["read.value == 'group-value'"]}},
        ],
    }
    environment = {'ANSIBLE_KEYVAULT_URL': None, 'ANSIBLE_KEYVAULT_CA_CERT': None, 'ANSIBLE_KEYVAULT_VERIFY_CHALLENGE_RESOURCE': None}
    run = playbook([play], identity='vm', env=environment)
    assert run.rc == 0, run.output
    assert run['set through group defaults']['changed']
    assert vault.get_secret(name).value == 'group-value'
