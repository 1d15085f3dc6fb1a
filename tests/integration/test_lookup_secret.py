# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The keyvault.azure.secret lookup through ansible-playbook against the local vault."""

import json
import types

import pytest

from playbook_helpers import counters_task, requests_between, unique_name, writes_between


def lookup_fact(task_name, fact, expression, ignore_errors=False):
    task = {'name': task_name, 'ansible.builtin.set_fact': {fact: '{{ %s }}' % expression}}
    if ignore_errors:
        task['ignore_errors'] = True
    return task


def fact(run, task_name, name):
    return run[task_name]['ansible_facts'][name]


@pytest.fixture(scope='module')
def lookups(playbook, localvault, vault):
    names = dict((case, unique_name('l-' + case)) for case in ('one', 'two', 'three', 'json', 'template', 'off', 'gone', 'missing'))
    first = vault.set_secret(names['one'], 'one-first-value')
    vault.set_secret(names['one'], 'one-second-value')
    vault.set_secret(names['two'], 'two-value')
    vault.set_secret(names['three'], 'three-value')
    vault.set_secret(names['json'], json.dumps({'user': 'app', 'port': 5432, 'hosts': ['a', 'b']}))
    vault.set_secret(names['template'], "{{ 'templated' }} {% raw %}")
    vault.set_secret(names['off'], 'off-value', enabled=False)
    vault.set_secret(names['gone'], 'gone-value')
    vault.begin_delete_secret(names['gone']).wait()
    two_id = '%s/secrets/%s' % (localvault.vault_url.rstrip('/'), names['two'])

    def lookup(*terms, **options):
        arguments = ['%r' % term for term in terms] + ['%s=%r' % item for item in sorted(options.items())]
        return "query('keyvault.azure.secret', %s)" % ', '.join(arguments)

    tasks = [
        counters_task('before many', localvault),
        lookup_fact('many', 'values', lookup(names['one'], names['two'], names['three'], '%s/%s' % (names['one'], first.properties.version),
                                             two_id)),
        counters_task('after many', localvault),
        lookup_fact('missing skipped', 'values', lookup(names['one'], names['missing'], on_missing='skip')),
        lookup_fact('missing warned', 'values', lookup(names['missing'], on_missing='warn', default='fallback')),
        lookup_fact('missing fails', 'values', lookup(names['missing']), ignore_errors=True),
        lookup_fact('disabled skipped', 'values', lookup(names['off'], on_denied='skip', default='none')),
        lookup_fact('disabled fails', 'values', lookup(names['off']), ignore_errors=True),
        lookup_fact('deleted skipped', 'values', lookup(names['gone'], on_deleted='skip')),
        lookup_fact('deleted fails', 'values', lookup(names['gone']), ignore_errors=True),
        lookup_fact('json', 'values', lookup(names['json'], as_json=True)),
        lookup_fact('not json', 'values', lookup(names['one'], as_json=True), ignore_errors=True),
        lookup_fact('template', 'values', lookup(names['template'])),
        lookup_fact('unknown option', 'values', lookup(names['one'], secret='not-an-option-here'), ignore_errors=True),
        {'name': 'unsafe value used in a template', 'ansible.builtin.set_fact': {'line': 'secret: {{ values[0] }}'}},
        counters_task('after all', localvault),
    ]
    run = playbook(tasks)
    assert run.rc == 0, run.output
    return types.SimpleNamespace(run=run, names=names, first=first)


def test_several_terms_concurrently_with_one_token(lookups):
    run = lookups.run
    assert fact(run, 'many', 'values') == ['one-second-value', 'two-value', 'three-value', 'one-first-value', 'two-value']
    before, after = run.counters('before many'), run.counters('after many')
    assert requests_between(before, after, 'GetSecret') == 5
    assert after['imds']['identities'].get('operator', 0) - before['imds']['identities'].get('operator', 0) == 1


def test_missing_secrets(lookups, localvault):
    run, names = lookups.run, lookups.names
    assert fact(run, 'missing skipped', 'values') == ['one-second-value']
    assert fact(run, 'missing warned', 'values') == ['fallback']
    message = "secret '%s' was not found in vault %s" % (names['missing'], localvault.vault_url.rstrip('/'))
    assert message in run.output
    assert run['missing fails']['failed'] and message in run['missing fails']['msg']


def test_disabled_and_deleted_secrets(lookups):
    run, names = lookups.run, lookups.names
    assert fact(run, 'disabled skipped', 'values') == ['none']
    assert "secret '%s' in vault" % names['off'] in run['disabled fails']['msg']
    assert 'is disabled, so it cannot be read' in run['disabled fails']['msg']
    assert fact(run, 'deleted skipped', 'values') == []
    assert "secret '%s' in vault" % names['gone'] in run['deleted fails']['msg']
    assert 'is deleted; it can be recovered until' in run['deleted fails']['msg']


def test_json_values(lookups):
    run, names = lookups.run, lookups.names
    assert fact(run, 'json', 'values') == [{'user': 'app', 'port': 5432, 'hosts': ['a', 'b']}]
    assert run['not json']['failed']
    assert "secret '%s' in vault" % names['one'] in run['not json']['msg']
    assert 'is not valid JSON (error at line 1 column 1)' in run['not json']['msg']
    assert 'one-second-value' not in run['not json']['msg']


def test_values_are_never_templated(lookups):
    run = lookups.run
    assert fact(run, 'template', 'values') == ["{{ 'templated' }} {% raw %}"]
    assert fact(run, 'unsafe value used in a template', 'line') == "secret: {{ 'templated' }} {% raw %}"


def test_unknown_options_are_refused(lookups):
    run = lookups.run
    assert 'keyvault.azure.secret does not know the option(s) secret' in run['unknown option']['msg']


def test_lookups_never_write(lookups):
    run = lookups.run
    assert writes_between(run.counters('before many'), run.counters('after all')) == {}


def test_option_precedence_keyword_vars_env_ini(playbook, localvault, vault, tmp_path):
    name = unique_name('l-precedence')
    vault.set_secret(name, 'precedence-value')
    config = tmp_path / 'ansible.cfg'
    config.write_text('[defaults]\n\n[keyvault_azure]\nvault_url = %s\nca_cert = %s\nverify_challenge_resource = false\nclient_id = %s\nretries = 0\n' % (
        localvault.vault_url, localvault.ca_bundle, localvault.identities['operator']['client_id']))
    unreachable = 'https://localhost:1'
    tasks = [
        lookup_fact('environment beats ansible.cfg', 'values', "lookup('keyvault.azure.secret', %r)" % name, ignore_errors=True),
        dict(lookup_fact('variable beats environment', 'values', "lookup('keyvault.azure.secret', %r)" % name),
             vars={'ansible_keyvault_vault_url': '{{ vault_address }}', 'vault_address': localvault.vault_url}),
        dict(lookup_fact('keyword beats variable', 'values', "lookup('keyvault.azure.secret', %r, vault_url=%r)" % (name, localvault.vault_url)),
             vars={'ansible_keyvault_vault_url': unreachable}),
    ]
    environment = {'ANSIBLE_CONFIG': str(config), 'ANSIBLE_KEYVAULT_URL': unreachable, 'ANSIBLE_KEYVAULT_CA_CERT': None,
                   'ANSIBLE_KEYVAULT_VERIFY_CHALLENGE_RESOURCE': None}
    run = playbook(tasks, identity='vm', env=environment)
    assert run['environment beats ansible.cfg']['failed']
    assert 'could not connect to vault %s' % unreachable in run['environment beats ansible.cfg']['msg']
    # ca_cert, verify_challenge_resource and client_id come from ansible.cfg alone; variables are templated.
    assert fact(run, 'variable beats environment', 'values') == 'precedence-value'
    assert fact(run, 'keyword beats variable', 'values') == 'precedence-value'
