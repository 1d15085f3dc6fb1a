# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection, TLS, identity and throttling problems end in one clear line, through ansible-playbook."""

import types
import uuid

import pytest

from playbook_helpers import case_arguments, unique_name


@pytest.fixture(scope='module')
def connection_failures(playbook, localvault, vault):
    name = unique_name('f-read')
    vault.set_secret(name, 'failure-case-value')
    cases = {
        'untrusted-ca': dict(name=name),
        'challenge': dict(name=name, verify_challenge_resource=True),
        'unknown-identity': dict(name=name, client_id=str(uuid.uuid4())),
        'no-identity-endpoint': dict(name=name),
        'bad-api-version': dict(name=name, api_version='1999-01-01'),
    }
    hosts = dict((host, {'case': case}) for host, case in cases.items())
    # The first has no CA bundle for the vault, so the system trust store applies; the fourth an identity endpoint nobody listens on.
    hosts['untrusted-ca']['case_environment'] = {'ANSIBLE_KEYVAULT_CA_CERT': ''}
    hosts['no-identity-endpoint']['case_environment'] = {'AZURE_POD_IDENTITY_AUTHORITY_HOST': 'http://127.0.0.1:9'}
    play = {'hosts': 'cases', 'gather_facts': False, 'tasks': [
        {'name': 'read', 'keyvault.azure.secret_info': case_arguments(cases), 'ignore_errors': True,
         'environment': '{{ case_environment | default({}) }}'},
    ]}
    run = playbook([play], cases=hosts)
    return types.SimpleNamespace(run=run, name=name, messages=dict((host, run.result('read', host).get('msg')) for host in cases))


def test_every_case_failed(connection_failures):
    run = connection_failures.run
    assert all(run.result('read', host)['failed'] for host in run.tasks['read']), connection_failures.messages
    assert 'failure-case-value' not in run.output


def test_untrusted_certificate(connection_failures, localvault):
    assert connection_failures.messages['untrusted-ca'].startswith('TLS verification of vault %s failed (' % localvault.vault_url.rstrip('/'))
    assert connection_failures.messages['untrusted-ca'].endswith("set ca_cert to the CA bundle that signed the vault's certificate")


def test_challenge_resource_outside_the_vault_domain(connection_failures):
    assert 'set verify_challenge_resource: false' in connection_failures.messages['challenge']


def test_identity_not_assigned(connection_failures, localvault):
    message = connection_failures.messages['unknown-identity']
    assert message.startswith('could not get a token for vault %s as the user-assigned managed identity with client_id ' % localvault.vault_url.rstrip('/'))
    assert 'the managed identity endpoint does not know that identity, so it is not assigned to this host' in message
    assert 'no response' not in message


def test_identity_endpoint_unreachable(connection_failures):
    message = connection_failures.messages['no-identity-endpoint']
    assert 'as the user-assigned managed identity with client_id' in message
    assert 'the managed identity endpoint did not answer' in message


def test_unsupported_api_version(connection_failures, localvault):
    assert connection_failures.messages['bad-api-version'] == (
        "vault %s refused the request for secret '%s' as invalid (the vault said: The specified version (1999-01-01) is not recognized. "
        "Consider using the latest supported version (2026-04-01).)" % (localvault.vault_url.rstrip('/'), connection_failures.name))


def test_throttling_is_retried_after_retry_after_and_reported(playbook, localvault, vault):
    name = unique_name('f-throttled')
    localvault.control('DELETE', 'faults')
    localvault.add_fault(operation='SetSecret', status=429, retry_after=1, count=2)
    try:
        run = playbook([
            {'name': 'set while throttled', 'keyvault.azure.secret': {'name': name, 'value': 'throttled-value', 'warn_on_retry': True}},
        ])
        localvault.add_fault(operation='GetSecret', status=503, count=3)
        exhausted = playbook([
            {'name': 'read while failing', 'keyvault.azure.secret_info': {'name': name, 'retries': 2, 'retry_backoff': 0},
             'ignore_errors': True},
        ])
    finally:
        localvault.control('DELETE', 'faults')
    assert run.rc == 0, run.output
    assert run['set while throttled']['changed']
    for attempt in (1, 2):
        assert 'retried: retry %d: PUT %s/secrets/%s: HTTP 429 (Retry-After 1)' % (attempt, localvault.vault_url.rstrip('/'), name) in run.output
    versions = list(vault.list_properties_of_secret_versions(name))
    assert len(versions) == 1 and vault.get_secret(name).value == 'throttled-value'
    assert exhausted['read while failing']['msg'].startswith(
        "vault %s failed the request for secret '%s' with HTTP 503 after 2 retries" % (localvault.vault_url.rstrip('/'), name))
