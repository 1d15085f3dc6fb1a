# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The identity endpoint under the connection's ``timeout`` and ``retries``: a hung endpoint fails the task in
about ``timeout x (retries + 1)``, modules and lookups alike, and an identity the endpoint does not know is named.

The hung endpoint is a vault of its own, so that the token faults injected there reach no other test.
"""

import uuid

from playbook_helpers import secret_client, unique_name

# Long enough that waiting it out shows as a task that took too long, short enough to stay cheap when it does.
HUNG_SECONDS = 25
# ansible-playbook starting a worker and the module, on two busy cores.
MARGIN_SECONDS = 6


def clock_task(name):
    return {'name': name, 'run_once': True, 'ansible.builtin.set_fact': {'clock': '{{ now().timestamp() }}'}}


CASES = [('module, no retry', 1), ('module, one retry', 2), ('lookup, no retry', 1)]


def test_a_hung_identity_endpoint_fails_each_task_within_its_timeout(playbook, localvault_factory):
    vault = localvault_factory()
    name = unique_name('hung')
    secret_client(vault).set_secret(name, 'some-value')
    vault.control('POST', 'faults', {'operation': 'ImdsToken', 'latency': HUNG_SECONDS})
    tasks = {
        'module, no retry': {'keyvault.azure.secret_info': {'name': name, 'timeout': 2, 'retries': 0}},
        'module, one retry': {'keyvault.azure.secret_info': {'name': name, 'timeout': 2, 'retries': 1, 'retry_backoff': 0}},
        'lookup, no retry': {'ansible.builtin.set_fact': {'read': "{{ lookup('keyvault.azure.secret', '%s', timeout=2, retries=0) }}" % name}},
    }
    playbook_tasks = [clock_task('clock start')]
    for index, (case, _attempts) in enumerate(CASES):
        playbook_tasks.append(dict(tasks[case], name=case, ignore_errors=True))
        playbook_tasks.append(clock_task('clock %d' % index))
    client_id = vault.identities['operator']['client_id']
    run = playbook(playbook_tasks, identity=None, env=dict(vault.env, ANSIBLE_KEYVAULT_CLIENT_ID=client_id))
    clocks = [float(run.result(task)['ansible_facts']['clock']) for task in ['clock start'] + ['clock %d' % i for i in range(len(CASES))]]
    seconds = dict((case, later - earlier) for (case, _attempts), earlier, later in zip(CASES, clocks, clocks[1:]))
    # Shown with pytest -s.
    print('hung identity endpoint, seconds per task: %s' % seconds)
    for case, attempts in CASES:
        result = run[case]
        assert result.get('failed'), (case, result)
        assert seconds[case] < 2 * attempts + MARGIN_SECONDS, seconds
        assert ('could not get a token for vault %s as the user-assigned managed identity with client_id %s: the managed identity '
                'endpoint did not answer within timeout=2 seconds, after %d retries' % (
                    vault.vault_url.rstrip('/'), client_id, attempts - 1)) in result['msg'], (case, result['msg'])


def test_an_unknown_client_id_is_named_as_not_found(playbook, localvault):
    client_id = str(uuid.uuid4())
    run = playbook([{'name': 'read', 'keyvault.azure.secret_info': {'name': 'anything', 'client_id': client_id}, 'ignore_errors': True}],
                   identity=None)
    message = run['read']['msg']
    assert message == ('could not get a token for vault %s as the user-assigned managed identity with client_id %s: the managed identity '
                       'endpoint does not know that identity, so it is not assigned to this host (the endpoint answered: (invalid_request) '
                       'Identity not found)' % (localvault.vault_url.rstrip('/'), client_id))
    assert 'no response' not in message
