# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The permissions the documentation names for each plugin and option are enough, and one fewer is not.

A vault of its own holds one identity per use, each with exactly the documented secret permissions.
"""

import types

from playbook_helpers import unique_name

# The session vault's short delays (tests/conftest.py), so the delete poller does not wait.
TEST_CONFIG = {'deletion_delay_seconds': 0, 'recovery_delay_seconds': 0, 'soft_delete_retention_days': 7}

# Use -> the secret permissions the least-privilege table of docs/docsite/rst/guide_permissions.rst names for it.
PERMISSIONS = {
    'reader': ['get'],
    'lister': ['list'],
    'writer': ['get', 'set'],
    'deleter': ['get', 'delete'],
    'recoverer': ['get', 'set', 'recover'],
    'purger': ['get', 'delete', 'purge'],
    'writer-without-get': ['set'],
    'exclusive-writer': ['get', 'set', 'list', 'delete'],
    'exclusive-without-list': ['get', 'set', 'delete'],
}


def run_least_privilege(playbook, localvault_factory):
    privilege_vault = localvault_factory(config=dict(TEST_CONFIG, identities=[
        {'name': name, 'system_assigned': False, 'permissions': {'secrets': permissions}} for name, permissions in PERMISSIONS.items()]))
    ids = dict((name, privilege_vault.identities[name]['client_id']) for name in PERMISSIONS)
    kept, removed = unique_name('p-kept'), unique_name('p-removed')
    listed, unlisted = unique_name('p-listed'), unique_name('p-unlisted')
    selector = {'managed-by': 'p'}

    def secret(identity, **arguments):
        return {'keyvault.azure.secret': dict(arguments, client_id=ids[identity])}

    tasks = [
        dict(secret('writer', name=kept, value='first', tags={'app': 'p'}), name='writer creates'),
        dict(secret('writer', name=kept, value='second', tags={'app': 'p'}), name='writer rotates'),
        dict(secret('writer', name=kept, tags={'app': 'p', 'tier': '1'}), name='writer tags'),
        {'name': 'reader reads', 'keyvault.azure.secret_info': {'name': kept, 'client_id': ids['reader']}, 'register': 'read'},
        {'name': 'reader got the value', 'ansible.builtin.assert': {'that': ["read.value == 'second'"]}},
        {'name': 'reader looks up', 'ansible.builtin.set_fact': {
            'looked_up': "{{ lookup('keyvault.azure.secret', '%s', client_id='%s') }}" % (kept, ids['reader'])}},
        {'name': 'lister lists', 'keyvault.azure.secret_info': {'tags': {'app': 'p'}, 'client_id': ids['lister']}},
        {'name': 'lister lists versions', 'keyvault.azure.secret_info': {'name': kept, 'list_versions': True, 'client_id': ids['lister']}},
        dict(secret('writer', name=removed, value='doomed'), name='writer creates another'),
        dict(secret('deleter', name=removed, state='absent'), name='deleter deletes'),
        dict(secret('recoverer', name=removed, value='doomed', recover=True), name='recoverer recovers'),
        dict(secret('purger', name=removed, state='absent', purge=True), name='purger deletes and purges'),
        dict(secret('writer-without-get', name=kept, value='third'), name='writer without get', ignore_errors=True),
        {'name': 'writer converges a set', 'keyvault.azure.secrets': {'client_id': ids['writer'], 'tags': selector, 'secrets': [
            {'name': listed, 'value': 'listed-value'}, {'name': unlisted, 'value': 'unlisted-value'},
            {'name': kept, 'value': 'second', 'tags': {'app': 'p'}}]}},
        {'name': 'reader reads many', 'keyvault.azure.secret_info': {'names': [kept, listed], 'client_id': ids['reader']}, 'register': 'many'},
        {'name': 'reader got the values', 'ansible.builtin.assert': {'that': ["many.secret_values[%r] == 'second'" % kept]}},
        {'name': 'exclusive without list', 'ignore_errors': True, 'keyvault.azure.secrets': {
            'client_id': ids['exclusive-without-list'], 'tags': selector, 'exclusive_tags': selector, 'secrets': [{'name': listed, 'value': 'listed-value'}]}},
        {'name': 'exclusive writer removes', 'keyvault.azure.secrets': {
            'client_id': ids['exclusive-writer'], 'tags': selector, 'exclusive_tags': selector, 'secrets': [{'name': listed, 'value': 'listed-value'}]}},
    ]
    run = playbook(tasks, identity=None, env=privilege_vault.env)
    return types.SimpleNamespace(run=run, kept=kept, removed=removed, listed=listed, unlisted=unlisted, vault=privilege_vault)


def test_the_documented_permissions_suffice_and_one_fewer_is_refused(playbook, localvault_factory):
    least_privilege = run_least_privilege(playbook, localvault_factory)
    privilege_vault = least_privilege.vault
    run = least_privilege.run
    failed = [task for task, by_host in run.tasks.items()
              if next(iter(by_host.values())).get('failed') and task not in ('writer without get', 'exclusive without list')]
    assert failed == [], run.output[-3000:]
    assert run.changed('writer creates', 'writer rotates', 'writer tags') == [True, True, True]
    assert run['reader reads']['censored'] and not run['reader got the value']['failed']
    assert run['reader looks up']['ansible_facts']['looked_up'] == 'second'
    assert [item['name'] for item in run['lister lists']['secrets']] == [least_privilege.kept]
    assert len(run['lister lists versions']['secrets']) == 2
    assert run.changed('deleter deletes', 'recoverer recovers', 'purger deletes and purges') == [True, True, True]
    operations = privilege_vault.counters()['statuses']
    assert operations['PurgeDeletedSecret'] == {'204': 1} and operations['RecoverDeletedSecret'] == {'200': 1}

    result = least_privilege.run['writer without get']
    assert result['failed']
    assert result['msg'].startswith("access to secret '%s' in vault %s was denied: the user-assigned managed identity with client_id %s lacks "
                                    "the secrets/get permission" % (least_privilege.kept, privilege_vault.vault_url.rstrip('/'),
                                                                    privilege_vault.identities['writer-without-get']['client_id']))

    # Many secrets in one task: the writer's set, the reader's names, and exclusive_tags with list and delete.
    assert run.changed('writer converges a set', 'exclusive writer removes') == [True, True]
    assert run['reader reads many']['censored'] and not run['reader got the values']['failed']
    assert [(result['name'], result['changed']) for result in run['exclusive writer removes']['results']] == [
        (least_privilege.listed, False), (least_privilege.unlisted, True)]
    refused = run['exclusive without list']
    assert refused['failed'] and refused['msg'].startswith(
        "access to secrets in vault %s was denied: the user-assigned managed identity with client_id %s lacks the secrets/list permission" % (
            privilege_vault.vault_url.rstrip('/'), privilege_vault.identities['exclusive-without-list']['client_id']))
