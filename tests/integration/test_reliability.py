# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lost and late responses, throttling under load and a vault restart, through ansible-playbook.

The vault's operator controls inject the faults between tasks (``fault_task``), so one playbook
walks through several of them; the tests then count the versions the vault holds.
"""

import concurrent.futures
import os
import time
import types

import pytest

from playbook_helpers import counters_task, requests_between, unique_name


def fault_task(name, localvault, **spec):
    return {'name': name, 'run_once': True, 'ansible.builtin.uri': {
        'url': localvault.connection['controls_url'] + '/faults', 'method': 'POST', 'body_format': 'json', 'body': spec,
        'ca_path': localvault.ca_bundle, 'status_code': 201}}


def versions_of(vault, name):
    return list(vault.list_properties_of_secret_versions(name))


@pytest.fixture(scope='module')
def lost_responses(playbook, localvault, vault):
    names = types.SimpleNamespace(created=unique_name('r-created'), rotated=unique_name('r-rotated'), late=unique_name('r-late'),
                                  slow=unique_name('r-slow'))
    vault.set_secret(names.rotated, 'rotated-value-1')
    vault.set_secret(names.late, 'late-value-1')
    localvault.control('DELETE', 'faults')
    tasks = [
        counters_task('counters before', localvault),
        fault_task('lose the next answer after the write', localvault, operation='SetSecret', drop=True, after=True, count=1),
        {'name': 'create', 'keyvault.azure.secret': {'name': names.created, 'value': 'created-value'}},
        fault_task('break the next connection before the write', localvault, operation='SetSecret', drop=True, count=1),
        {'name': 'rotate', 'keyvault.azure.secret': {'name': names.rotated, 'value': 'rotated-value-2'}},
        fault_task('answer the next write late', localvault, operation='SetSecret', latency=2, after=True, count=1),
        {'name': 'rotate late', 'keyvault.azure.secret': {'name': names.late, 'value': 'late-value-2', 'timeout': 1}},
        fault_task('write only after the timeout', localvault, operation='SetSecret', latency=2, count=1),
        {'name': 'create slowly', 'keyvault.azure.secret': {'name': names.slow, 'value': 'slow-value', 'timeout': 1},
         'ignore_errors': True},
        fault_task('answer reads late', localvault, operation='GetSecret', latency=2, count=2),
        {'name': 'read slowly', 'keyvault.azure.secret_info': {'name': names.created, 'timeout': 1, 'retries': 1, 'retry_backoff': 0},
         'ignore_errors': True},
        # The token request is tried retries + 1 = 5 times; Retry-After keeps the waits short.
        fault_task('fail token requests', localvault, operation='ImdsToken', status=503, retry_after=0.1, count=5),
        {'name': 'read without a token', 'keyvault.azure.secret_info': {'name': names.created}, 'ignore_errors': True},
        counters_task('counters after', localvault),
    ]
    try:
        run = playbook(tasks)
    finally:
        localvault.control('DELETE', 'faults')
    return types.SimpleNamespace(run=run, names=names)


def test_a_write_whose_answer_is_lost_is_not_repeated(lost_responses, vault):
    run, names = lost_responses.run, lost_responses.names
    assert run['create']['changed'] and run['create']['retries'] == 0, run['create']
    assert run['create']['secret']['version'] == vault.get_secret(names.created).properties.version
    assert [v.version for v in versions_of(vault, names.created)] == [run['create']['secret']['version']]


def test_a_write_that_did_not_land_is_sent_once_more(lost_responses, vault):
    run, names = lost_responses.run, lost_responses.names
    assert run['rotate']['changed'] and run['rotate']['retries'] == 1, run['rotate']
    assert vault.get_secret(names.rotated).value == 'rotated-value-2'
    assert len(versions_of(vault, names.rotated)) == 2


def test_a_write_answered_after_the_timeout_is_not_repeated(lost_responses, vault):
    run, names = lost_responses.run, lost_responses.names
    assert run['rotate late']['changed'] and not run['rotate late']['failed'], run['rotate late']
    assert vault.get_secret(names.late).value == 'late-value-2'
    assert len(versions_of(vault, names.late)) == 2


def test_each_intended_write_was_carried_out_once(lost_responses):
    run = lost_responses.run
    # Four tasks that write, four writes carried out (the request dropped before the write is not counted).
    assert requests_between(run.counters('counters before'), run.counters('counters after'), 'SetSecret') == 4


def test_a_write_still_running_at_the_timeout_fails_clearly_and_lands_once(lost_responses, localvault, vault):
    run, names = lost_responses.run, lost_responses.names
    result = run['create slowly']
    assert result['failed']
    assert result['msg'] == (
        "vault %s did not answer the request for secret '%s' within timeout=1 seconds, after 4 retries; the secret, read again, "
        "does not hold the new value yet (the vault may still write it): run the task again to converge" % (
            localvault.vault_url.rstrip('/'), names.slow))
    deadline = time.monotonic() + 5
    while not versions_of(vault, names.slow) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [vault.get_secret(names.slow).value] == ['slow-value']
    assert len(versions_of(vault, names.slow)) == 1


def test_a_slow_read_names_the_vault_and_the_timeout(lost_responses, localvault):
    result = lost_responses.run['read slowly']
    assert result['failed'] and result['retries'] == 1
    assert result['msg'] == "vault %s did not answer the request for secret '%s' within timeout=1 seconds, after 1 retries" % (
        localvault.vault_url.rstrip('/'), lost_responses.names.created)


# The figure is 200 secrets over 20 hosts (KEYVAULT_LOAD_SECRETS_PER_HOST=10: about 3 minutes on two busy
# cores, one module run per secret); make test sets 2 per host, and every host reads every secret of the fleet.
HOSTS = int(os.environ.get('KEYVAULT_LOAD_HOSTS', '20'))
SECRETS_PER_HOST = int(os.environ.get('KEYVAULT_LOAD_SECRETS_PER_HOST', '2'))


@pytest.fixture(scope='module')
def throttled_fleet(playbook, localvault):
    hosts = dict(('host%02d' % host, {'batch': [unique_name('load%02d-%d' % (host, index)) for index in range(SECRETS_PER_HOST)]})
                 for host in range(HOSTS))
    names = [name for host_vars in hosts.values() for name in host_vars['batch']]
    play = {'name': 'throttled fleet', 'hosts': 'cases', 'gather_facts': False, 'vars': {'fleet_secrets': names}, 'tasks': [
        counters_task('counters before', localvault),
        # A share of every vault request is throttled (1 s Retry-After) or fails; IMDS is left alone.
        fault_task('throttle', localvault, operation='*', status=429, retry_after=1, every=10),
        fault_task('fail', localvault, operation='*', status=503, every=13),
        {'name': 'set', 'keyvault.azure.secret': {'name': '{{ item }}', 'value': 'value of {{ item }}'}, 'loop': '{{ batch }}'},
        counters_task('counters between', localvault),
        {'name': 'read', 'ansible.builtin.set_fact': {
            'values_read': "{{ query('keyvault.azure.secret', *fleet_secrets, warn_on_retry=true) }}"}},
        counters_task('counters after', localvault),
    ]}
    localvault.control('DELETE', 'faults')
    started = time.monotonic()
    try:
        run = playbook([play], cases=hosts, env={'ANSIBLE_KEYVAULT_RETRIES': '6', 'ANSIBLE_KEYVAULT_RETRY_BACKOFF': '0.1'})
    finally:
        localvault.control('DELETE', 'faults')
    return types.SimpleNamespace(run=run, hosts=hosts, names=names, seconds=time.monotonic() - started)


def test_every_secret_is_set_and_read_despite_throttling(throttled_fleet, vault):
    run, names = throttled_fleet.run, throttled_fleet.names
    assert run.rc == 0, run.output[-3000:]
    expected = ['value of %s' % name for name in names]
    for host in throttled_fleet.hosts:
        assert [item['changed'] for item in run.result('set', host)['results']] == [True] * SECRETS_PER_HOST
        assert run.result('read', host)['ansible_facts']['values_read'] == expected
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        held = list(pool.map(lambda name: (vault.get_secret(name).value, len(versions_of(vault, name))), names))
    assert held == [(value, 1) for value in expected]


def test_every_injected_fault_was_retried_and_reported(throttled_fleet):
    run = throttled_fleet.run
    snapshots = [run.counters('counters %s' % when) for when in ('before', 'between', 'after')]
    set_faults, read_faults = [sum(later['faults'].values()) - sum(earlier['faults'].values())
                               for earlier, later in zip(snapshots, snapshots[1:])]
    throttled = sum(snapshots[2]['statuses'][operation].get('429', 0) - snapshots[0]['statuses'].get(operation, {}).get('429', 0)
                    for operation in snapshots[2]['statuses'])
    module_retries = sum(item['retries'] for host in throttled_fleet.hosts for item in run.result('set', host)['results'])
    # Shown with pytest -s: the figures for the performance guide.
    figures = (HOSTS, len(throttled_fleet.names), HOSTS * len(throttled_fleet.names), throttled_fleet.seconds, set_faults + read_faults,
               throttled, module_retries, read_faults)
    print('throttled fleet: %d hosts set %d secrets and read %d in %.1f s; %d faults injected (%d throttled); the modules reported '
          '%d retries, the lookups retried %d requests' % figures)
    assert throttled > 0 and read_faults > 0
    assert module_retries == set_faults
    # Ansible shows a repeated warning once, so the lookups' retries are not counted from the output; every read
    # returned the right value (test above), so each failed read was retried.
    assert 'request retried: retry 1: GET ' in run.output


def test_a_vault_killed_mid_run_keeps_every_acknowledged_write(playbook, localvault_factory):
    first = localvault_factory()
    names = [unique_name('restart-%d' % index) for index in range(5)]
    set_all = [{'name': 'set', 'keyvault.azure.secret': {'name': '{{ item }}', 'value': 'value of {{ item }}', 'retries': 0},
                'loop': names, 'ignore_errors': True}]
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        interrupted = pool.submit(playbook, set_all, identity=None, env=dict(
            first.env, ANSIBLE_KEYVAULT_CLIENT_ID=first.identities['operator']['client_id']))
        deadline = time.monotonic() + 120
        while first.counters()['statuses'].get('SetSecret', {}).get('200', 0) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        # A crash, not a clean stop: whatever the vault acknowledged must already be on disk.
        first.process.kill()
        first.process.wait()
        interrupted = interrupted.result()
    # The items after the kill fail slowly (azure-identity retries the silent identity endpoint), so there are few.
    acknowledged = [item['item'] for item in interrupted.result('set')['results'] if item.get('changed') and not item.get('failed')]
    assert 3 <= len(acknowledged) < len(names), interrupted.output[-3000:]

    second = localvault_factory(state_dir=first.state_dir)
    resumed = playbook(set_all + [
        {'name': 'read', 'ansible.builtin.set_fact': {'values_read': "{{ query('keyvault.azure.secret', *names) }}"}, 'vars': {'names': names}},
        counters_task('counters', second),
    ], identity=None, env=dict(second.env, ANSIBLE_KEYVAULT_CLIENT_ID=second.identities['operator']['client_id']))
    assert resumed.rc == 0, resumed.output[-3000:]
    changed = dict((item['item'], item['changed']) for item in resumed.result('set')['results'])
    assert [name for name in names if not changed[name]] == acknowledged
    assert resumed['read']['ansible_facts']['values_read'] == ['value of %s' % name for name in names]
    # The acknowledged secrets were only read after the restart: one write per secret not written before.
    assert resumed.counters('counters')['identities']['operator']['SetSecret'] == len(names) - len(acknowledged)


def test_an_identity_endpoint_failure_names_the_identity(lost_responses, localvault):
    result = lost_responses.run['read without a token']
    assert result['failed']
    assert result['msg'] == (
        'could not get a token for vault %s as the user-assigned managed identity with client_id %s: the managed identity endpoint failed '
        'the token request, also when retried (ManagedIdentityCredential authentication unavailable, no response from the IMDS endpoint. '
        'Token request error: (ServiceUnavailable) The service is unavailable. Please retry the request.)' % (
            localvault.vault_url.rstrip('/'), localvault.identities['operator']['client_id']))
