# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""No secret value in any output, and least privilege with the VM's get/list identity.

The play runs as the local vault's system-assigned ``vm`` identity (secrets get, list); tasks that
have to write name the ``operator`` identity explicitly.
"""

import types

import pytest

from playbook_helpers import unique_name


# Given to the playbook as variables from a file, the way real secrets arrive (a vaulted vars file).
CANARIES = {
    'created': 'canary-created-5f2a9c',
    'rotated': 'canary-rotated-81d0e4',
    'bad_input': 'canary-bad-input-3c7b1f',
    'denied': 'canary-denied-a94e62',
}


@pytest.fixture(scope='module')
def least_privilege_run(playbook, localvault):
    name = unique_name('s-app')
    copy = unique_name('s-copy')
    # The vault is shared with other tests: a tag of this run's own, so the VM's listing finds this secret alone.
    app_tag = {'app': unique_name('x')}
    as_operator = {'client_id': localvault.identities['operator']['client_id']}
    tasks = [
        {'name': 'operator creates', 'keyvault.azure.secret': dict(as_operator, name=name, value='{{ created }}', tags=app_tag)},
        {'name': 'operator rotates', 'keyvault.azure.secret': dict(as_operator, name=name, value='{{ rotated }}')},
        {'name': 'vm reads', 'keyvault.azure.secret_info': {'name': name}, 'register': 'read'},
        {'name': 'vm got the value', 'ansible.builtin.assert': {'that': ['read.value == rotated'], 'quiet': True}},
        {'name': 'vm lists', 'keyvault.azure.secret_info': {'tags': app_tag}, 'register': 'listed'},
        {'name': 'operator copies through the lookup', 'keyvault.azure.secret': dict(
            as_operator, name=copy, value="{{ lookup('keyvault.azure.secret', '%s') }}" % name)},
        {'name': 'bad input with a value', 'keyvault.azure.secret': dict(as_operator, name=name, value='{{ bad_input }}', expires='soon'),
         'ignore_errors': True},
        {'name': 'vm cannot write', 'keyvault.azure.secret': {'name': name, 'value': '{{ denied }}'}, 'ignore_errors': True},
        {'name': 'vm cannot delete', 'keyvault.azure.secret': {'name': name, 'state': 'absent'}, 'ignore_errors': True},
    ]
    run = playbook(tasks, identity='vm', extra_vars=CANARIES, diff=True, verbosity=4)
    assert run.rc == 0, run.output[-3000:]
    return types.SimpleNamespace(run=run, name=name, copy=copy)


def test_no_value_in_verbose_diff_output_or_results(least_privilege_run):
    run = least_privilege_run.run
    recorded = repr(run.tasks)
    for canary in CANARIES.values():
        assert canary not in run.output
        assert canary not in recorded
    # The run did use the values: the rotation was a real change and the copy was made.
    assert run['operator rotates']['changed'] and run['operator copies through the lookup']['changed']


def test_vm_identity_reads(least_privilege_run):
    run, name, copy = least_privilege_run.run, least_privilege_run.name, least_privilege_run.copy
    assert not run['vm got the value']['failed']
    assert [s['name'] for s in run['vm lists']['secrets']] == [name]


def test_copy_through_the_lookup_holds_the_value(least_privilege_run, vault):
    copy = least_privilege_run.copy
    assert vault.get_secret(copy).value == CANARIES['rotated']


def test_vm_identity_cannot_write(least_privilege_run, localvault, vault):
    run, name = least_privilege_run.run, least_privilege_run.name
    vault_url = localvault.vault_url.rstrip('/')
    for task, permission in (('vm cannot write', 'secrets/set'), ('vm cannot delete', 'secrets/delete')):
        result = run[task]
        assert result['failed']
        assert result['msg'].startswith("access to secret '%s' in vault %s was denied: the system-assigned managed identity lacks the %s "
                                        "permission (the vault said: " % (name, vault_url, permission))
    assert vault.get_secret(name).value == CANARIES['rotated']


def test_bad_input_message_names_the_problem(least_privilege_run):
    run = least_privilege_run.run
    assert run['bad input with a value']['msg'] == "expires: 'soon' is not a date; use ISO 8601 such as 2030-01-31 or 2030-01-31T12:00:00Z"
