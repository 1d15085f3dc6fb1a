# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Certificate creation against canned vault answers: the creation unit and the module's flow around it.

The vault answers a creation while another is pending with 409 Conflict; the run then waits for that
creation and compares what it made, instead of failing or starting a second one.
"""

import base64
import datetime
import hashlib

import pytest
from azure.keyvault.certificates import CertificatePolicy
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.keyvault.azure.plugins.module_utils import _cert_creation
from ansible_collections.keyvault.azure.plugins.module_utils._cert_creation import CertificateCreation
from ansible_collections.keyvault.azure.plugins.module_utils._errors import KeyVaultError
from ansible_collections.keyvault.azure.plugins.module_utils._identifiers import KeyVaultInputError
from ansible_collections.keyvault.azure.plugins.modules.certificate import CertificateTask

URL = 'https://shop.vault.azure.net'
VERSION = 'd' * 32
PENDING_MESSAGE = ("There is a pending certificate operation for certificate 'web'. This can happen when multiple operations are "
                   "performed in parallel against the certificate. To avoid this error, wait for the pending operation to complete "
                   "or delete it, then retry.")


def der_certificate():
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'web')])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=365))
                   .sign(key, hashes.SHA256()))
    return certificate.public_bytes(serialization.Encoding.DER)


def not_found(code):
    return (404, {'error': {'code': code, 'message': 'not found'}})


def operation(status, issuer='Self'):
    body = {'id': URL + '/certificates/web/pending', 'issuer': {'name': issuer}, 'csr': 'MAMCAQA=', 'cancellation_requested': False,
            'status': status, 'status_details': status, 'request_id': 'r1'}
    if status == 'completed':
        body['target'] = URL + '/certificates/web'
    return (200, body)


def certificate(der):
    return (200, {
        'id': '%s/certificates/web/%s' % (URL, VERSION), 'kid': '%s/keys/web/%s' % (URL, VERSION), 'sid': '%s/secrets/web/%s' % (URL, VERSION),
        'x5t': base64.urlsafe_b64encode(b'x' * 20).decode('ascii').rstrip('='), 'cer': base64.b64encode(der).decode('ascii'),
        'attributes': {'enabled': True, 'created': 1700000000, 'updated': 1700000000, 'recoveryLevel': 'Recoverable+Purgeable'},
        'policy': {'id': URL + '/certificates/web/policy', 'key_props': {'exportable': True, 'kty': 'EC', 'crv': 'P-256', 'reuse_key': False},
                   'secret_props': {'contentType': 'application/x-pkcs12'}, 'issuer': {'name': 'Self'},
                   'x509_props': {'subject': 'CN=web', 'validity_months': 12}},
    })


POLICY = CertificatePolicy(issuer_name='Self', subject='CN=web')
CONFLICT = (409, {'error': {'code': 'Conflict', 'message': PENDING_MESSAGE}})


@pytest.fixture(autouse=True)
def no_polling_pause(monkeypatch):
    monkeypatch.setattr(_cert_creation.time, 'sleep', lambda seconds: None)


def params(**given):
    values = dict((option, None) for option in (
        'subject', 'dns_names', 'ip_addresses', 'emails', 'validity_in_months', 'key_type', 'key_size', 'curve', 'exportable', 'reuse_key',
        'content_type', 'issuer', 'ekus', 'key_usage', 'lifetime_actions', 'policy', 'enabled', 'tags', 'renew_before_expiry_days',
        'renew_at_percentage', 'certificate', 'certificate_file', 'password', 'signed_certificate', 'signed_certificate_file'))
    values.update(name='web', state='present', force=False, wait=True, wait_timeout=300, recover=False, purge=False)
    values.update(given)
    return values


def creation(vault, wait=True):
    return CertificateCreation(lambda permission, function, *args, **kwargs: vault.call(permission, "certificate 'web'", function, *args, **kwargs),
                               vault.certificate_client(), 'web', "certificate 'web'", 'vault ' + URL, wait=wait, wait_timeout=300)


class TestCreationUnit:

    def test_a_conflict_with_a_pending_creation_waits_for_it(self, canned_module_vault):
        der = der_certificate()
        vault = canned_module_vault([CONFLICT, operation('inProgress'), operation('completed'), certificate(der)], params())
        outcome = creation(vault).create(POLICY, enabled=True, tags={})
        assert (outcome.started_here, outcome.pending, outcome.operation.status) == (False, False, 'completed')
        assert bytes(outcome.certificate.cer) == der
        assert vault.methods() == [('POST', '/certificates/web/create'), ('GET', '/certificates/web/pending'),
                                   ('GET', '/certificates/web/pending'), ('GET', '/certificates/web/')]

    def test_a_second_conflict_is_reported_pending(self, canned_module_vault):
        vault = canned_module_vault([CONFLICT, operation('inProgress'), (200, certificate(der_certificate())[1])], params())
        outcome = creation(vault).create(POLICY, enabled=True, tags={}, may_await_other=False)
        assert (outcome.started_here, outcome.pending, outcome.operation.status) == (False, True, 'inProgress')

    def test_an_unknown_issuers_creation_is_not_waited_for(self, canned_module_vault):
        vault = canned_module_vault([CONFLICT, operation('inProgress', issuer='Unknown'), not_found('CertificateNotFound')], params())
        outcome = creation(vault).create(POLICY, enabled=True, tags={})
        assert (outcome.started_here, outcome.pending, outcome.certificate) == (False, True, None)

    def test_a_conflict_without_a_pending_creation_fails(self, canned_module_vault):
        vault = canned_module_vault([CONFLICT, operation('completed')], params())
        with pytest.raises(KeyVaultError) as failure:
            creation(vault).create(POLICY, enabled=True, tags={})
        assert failure.value.kind == 'conflict'


class TestModuleFlow:

    def test_a_creation_refused_for_another_runs_pending_one_ends_with_that_ones_certificate(self, canned_module_vault):
        der = der_certificate()
        vault = canned_module_vault([not_found('CertificateNotFound'), not_found('DeletedCertificateNotFound'), CONFLICT,
                                     operation('inProgress'), operation('completed'), certificate(der)], params(subject='CN=web'))
        result = CertificateTask(vault).present()
        # The other run made the certificate the task asks for: this run changed nothing and says whose operation it saw.
        assert (result['changed'], result['reasons']) == (False, [])
        assert result['certificate']['version'] == VERSION
        assert (result['operation']['status'], result['operation']['started_by_this_task']) == ('completed', False)
        assert [method for method, _path in vault.methods()] == ['GET', 'GET', 'POST', 'GET', 'GET', 'GET']
        assert vault.vault.responses == []

    def test_a_certificate_unlike_the_task_after_waiting_gets_one_more_creation_then_stops(self, canned_module_vault):
        der = der_certificate()
        vault = canned_module_vault([not_found('CertificateNotFound'), not_found('DeletedCertificateNotFound'), CONFLICT,
                                     operation('inProgress'), operation('completed'), certificate(der),
                                     CONFLICT, operation('inProgress'), certificate(der)], params(subject='CN=shop'))
        result = CertificateTask(vault).present()
        # The second creation meets another pending one: reported, not awaited again (the flow runs at most twice).
        assert (result['changed'], result['operation']['status'], result['operation']['started_by_this_task']) == (False, 'inProgress', False)
        assert [method for method, _path in vault.methods()] == ['GET', 'GET', 'POST', 'GET', 'GET', 'GET', 'POST', 'GET', 'GET']


def pending_certificate():
    """The current version while its creation is pending: no X.509 certificate yet."""
    status, body = certificate(der_certificate())
    del body['cer']
    body.pop('x5t')
    return (status, body)


class TestMergeFlow:

    def test_a_signed_certificate_for_a_named_issuers_request_is_refused_before_any_write(self, canned_module_vault):
        signed = x509.load_der_x509_certificate(der_certificate()).public_bytes(serialization.Encoding.PEM).decode('ascii')
        vault = canned_module_vault([pending_certificate(), operation('inProgress', issuer='DigiCert')],
                                    params(wait=False, signed_certificate=signed))
        with pytest.raises(KeyVaultInputError) as raised:
            CertificateTask(vault).present()
        assert str(raised.value) == ("signed_certificate cannot complete the pending creation of certificate 'web' in vault %s: it goes to "
                                     "issuer DigiCert, which issues the certificate itself; only a request for issuer Unknown takes a signed "
                                     "certificate" % URL)
        assert [method for method, _path in vault.methods()] == ['GET', 'GET']

    def test_a_signed_certificate_with_nothing_pending_is_compared_with_the_current_version(self, canned_module_vault):
        der = der_certificate()
        signed = x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM).decode('ascii')
        status, body = certificate(der)
        body['x5t'] = base64.urlsafe_b64encode(hashlib.sha1(der).digest()).decode('ascii').rstrip('=')
        vault = canned_module_vault([(status, body)], params(signed_certificate=signed))
        result = CertificateTask(vault).present()
        assert (result['changed'], result['reasons'], result['operation']) == (False, [], None)
        assert vault.methods() == [('GET', '/certificates/web/')]
