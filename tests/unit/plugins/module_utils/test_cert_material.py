# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading imported material and backing secrets: formats, passwords, leaf order, thumbprints, no leaks."""

import base64
import datetime
import hashlib
import ipaddress
import types

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12
from cryptography.x509.oid import NameOID

from ansible_collections.keyvault.azure.plugins.module_utils import _cert_material as material
from ansible_collections.keyvault.azure.plugins.module_utils import _cert_state as cert_state
from ansible_collections.keyvault.azure.plugins.module_utils._identifiers import KeyVaultInputError

PASSWORD = 'pfx-password-7c1e'
NOW = datetime.datetime.now(datetime.timezone.utc)


def make_certificate(key, subject, issuer_key=None, issuer_name=None, sans=None, validity=None):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    not_valid_before, not_valid_after = validity or (NOW - datetime.timedelta(days=1), NOW + datetime.timedelta(days=30))
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer_name or name).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(not_valid_before).not_valid_after(not_valid_after))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(issuer_key or key, hashes.SHA256())


@pytest.fixture(scope='module')
def chain():
    """The leaf's key, the leaf certificate and the CA certificate."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = make_certificate(ca_key, 'Test CA')
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    upn = x509.OtherName(x509.ObjectIdentifier('1.3.6.1.4.1.311.20.2.3'), b'\x0c\x12alice@example.test')
    leaf = make_certificate(key, 'leaf.example.test', ca_key, ca.subject,
                            [x509.DNSName('leaf.example.test'), x509.IPAddress(ipaddress.ip_address('10.1.2.3')), upn])
    return types.SimpleNamespace(key=key, leaf=leaf, ca=ca)


def pem(certificate):
    return certificate.public_bytes(serialization.Encoding.PEM)


def key_pem(key, private_format=serialization.PrivateFormat.PKCS8, password=None):
    encryption = serialization.BestAvailableEncryption(password.encode()) if password else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, private_format, encryption)


def der(certificate):
    return certificate.public_bytes(serialization.Encoding.DER)


class TestLoad:

    def test_pem_bundle_in_any_order_puts_the_leaf_first(self, chain):
        key, leaf, ca = chain.key, chain.leaf, chain.ca
        loaded = material.load_material(pem(ca) + key_pem(key) + pem(leaf), None, 'certificate')
        assert loaded.content_type == 'PEM'
        assert [c.subject for c in loaded.certificates] == [leaf.subject, ca.subject]

    def test_traditional_and_encrypted_keys(self, chain):
        key, leaf = chain.key, chain.leaf
        assert material.load_material(key_pem(key, serialization.PrivateFormat.TraditionalOpenSSL) + pem(leaf), None, 'x').leaf == leaf
        assert material.load_material(pem(leaf) + key_pem(key, password=PASSWORD), PASSWORD, 'x').leaf == leaf

    @pytest.mark.parametrize('password, message', [
        (None, 'certificate_file /tmp/a.pem holds an encrypted private key; set password'),
        ('wrong-password', 'the private key in certificate_file /tmp/a.pem cannot be read with the given password'),
    ])
    def test_encrypted_key_without_or_with_a_wrong_password(self, chain, password, message):
        key, leaf = chain.key, chain.leaf
        with pytest.raises(KeyVaultInputError) as raised:
            material.load_material(pem(leaf) + key_pem(key, password=PASSWORD), password, 'certificate_file /tmp/a.pem')
        assert str(raised.value) == message

    def test_password_for_a_plain_key(self, chain):
        key, leaf = chain.key, chain.leaf
        with pytest.raises(KeyVaultInputError) as raised:
            material.load_material(pem(leaf) + key_pem(key), 'unneeded', 'certificate')
        assert str(raised.value) == 'certificate holds a private key that is not encrypted; remove password'

    def test_pkcs12_raw_and_base64_with_and_without_password(self, chain):
        key, leaf, ca = chain.key, chain.leaf, chain.ca
        protected = pkcs12.serialize_key_and_certificates(b'x', key, leaf, [ca], serialization.BestAvailableEncryption(PASSWORD.encode()))
        plain = pkcs12.serialize_key_and_certificates(None, key, leaf, [ca], serialization.NoEncryption())
        for data, password in ((protected, PASSWORD), (base64.b64encode(protected), PASSWORD), (plain, None)):
            loaded = material.load_material(data, password, 'certificate')
            assert (loaded.content_type, loaded.leaf, len(loaded.certificates)) == ('PKCS12', leaf, 2)

    def test_pkcs12_wrong_password_is_reported_without_the_password(self, chain):
        key, leaf = chain.key, chain.leaf
        protected = pkcs12.serialize_key_and_certificates(b'x', key, leaf, None, serialization.BestAvailableEncryption(PASSWORD.encode()))
        for password, ending in (('not-it-4b2', 'that opens with the given password'),
                                 (None, 'that opens without a password (set password if it has one)')):
            with pytest.raises(KeyVaultInputError) as raised:
                material.load_material(protected, password, 'certificate_file /tmp/a.pfx')
            assert str(raised.value) == 'certificate_file /tmp/a.pfx is neither a PEM bundle nor a PKCS#12 file ' + ending
            assert 'not-it-4b2' not in str(raised.value)

    @pytest.mark.parametrize('parts, message', [
        (('leaf',), 'certificate holds no private key; Key Vault imports a certificate together with its private key'),
        (('key',), 'certificate holds no certificate'),
        (('other_key', 'leaf'), 'certificate holds no certificate for its private key'),
        (('key', 'key', 'leaf'), 'certificate holds more than one private key'),
    ])
    def test_incomplete_bundles(self, chain, parts, message):
        key, leaf = chain.key, chain.leaf
        blocks = {'leaf': pem(leaf), 'key': key_pem(key), 'other_key': key_pem(ec.generate_private_key(ec.SECP256R1()))}
        with pytest.raises(KeyVaultInputError) as raised:
            material.load_material(b''.join(blocks[part] for part in parts), None, 'certificate')
        assert str(raised.value) == message

    def test_an_expired_certificate_is_refused(self):
        key = ec.generate_private_key(ec.SECP256R1())
        expired = make_certificate(key, 'old.example.test', validity=(datetime.datetime(2023, 1, 31, tzinfo=datetime.timezone.utc),
                                                                      datetime.datetime(2024, 1, 31, 12, 0, tzinfo=datetime.timezone.utc)))
        with pytest.raises(KeyVaultInputError) as raised:
            material.load_material(pem(expired) + key_pem(key), None, 'certificate_file /tmp/old.pem')
        assert str(raised.value) == ('certificate_file /tmp/old.pem holds a certificate that expired on 2024-01-31T12:00:00Z; '
                                     'Key Vault does not import expired certificates')


class TestImport:

    def test_pem_import_sends_pkcs8_and_leaf_first(self, chain):
        key, leaf, ca = chain.key, chain.leaf, chain.ca
        loaded = material.load_material(pem(ca) + key_pem(key, serialization.PrivateFormat.TraditionalOpenSSL, PASSWORD) + pem(leaf),
                                        PASSWORD, 'certificate')
        sent = material.build_import_payload(loaded, 'PEM')
        text = sent.value.decode('ascii')
        assert text.startswith('-----BEGIN PRIVATE KEY-----')
        assert text.index(pem(leaf).decode()) < text.index(pem(ca).decode())
        assert sent.description['thumbprint'] == hashlib.sha1(der(leaf)).hexdigest().upper()
        assert (sent.description['key_type'], sent.description['key_size']) == ('RSA', 2048)

    def test_pkcs12_import_is_a_pfx_without_password(self, chain):
        key, leaf, ca = chain.key, chain.leaf, chain.ca
        sent = material.build_import_payload(material.load_material(pem(leaf) + pem(ca) + key_pem(key), None, 'certificate'), 'PKCS12')
        opened_key, opened_leaf, others = pkcs12.load_key_and_certificates(sent.value, None)
        assert (opened_leaf, list(others)) == (leaf, [ca])
        assert opened_key.private_numbers() == key.private_numbers()

    def test_description_of_the_leaf(self, chain):
        leaf = chain.leaf
        described = material.parse_certificate(leaf)
        assert described['subject'] == 'CN=leaf.example.test'
        assert described['sans'] == {'dns_names': ['leaf.example.test'], 'ip_addresses': ['10.1.2.3'], 'upns': ['alice@example.test']}
        assert described['x5t'] == base64.urlsafe_b64encode(hashlib.sha1(der(leaf)).digest()).rstrip(b'=').decode()

    def test_description_of_a_certificate_whose_key_usage_cryptography_refuses(self, chain):
        # Key Vault issues decipherOnly without keyAgreement; cryptography then cannot read any extension.
        sans = [x509.DNSName('kv.example.test'), x509.DNSName('www.kv.example.test'), x509.RFC822Name('ops@example.test'),
                x509.UniformResourceIdentifier('https://kv.example.test/'), x509.IPAddress(ipaddress.ip_address('2001:db8::7')),
                x509.OtherName(x509.ObjectIdentifier('1.3.6.1.4.1.311.20.2.3'), b'\x0c\x12alice@example.test')]
        decipher_only = x509.UnrecognizedExtension(x509.oid.ExtensionOID.KEY_USAGE, bytes.fromhex('0303070080'))
        builder = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'kv.example.test')]))
                   .issuer_name(chain.ca.subject).public_key(chain.key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(NOW).not_valid_after(NOW + datetime.timedelta(days=1))
                   .add_extension(decipher_only, critical=True).add_extension(x509.SubjectAlternativeName(sans), critical=False))
        certificate = builder.sign(chain.key, hashes.SHA256())
        with pytest.raises(ValueError):
            certificate.extensions  # pylint: disable=pointless-statement
        assert material.parse_der_certificate(der(certificate))['sans'] == {
            'dns_names': ['kv.example.test', 'www.kv.example.test'], 'emails': ['ops@example.test'], 'uris': ['https://kv.example.test/'],
            'ip_addresses': ['2001:db8::7'], 'upns': ['alice@example.test']}

    def test_ec_keys_use_the_policy_curve_names(self):
        assert material.key_parameters(ec.generate_private_key(ec.SECP384R1())) == {'key_type': 'EC', 'key_size': 384, 'curve': 'P-384'}


class TestBackingSecret:

    def test_pem_secret(self, chain):
        key, leaf, ca = chain.key, chain.leaf, chain.ca
        private_key, certificates = material.split_backing_secret((key_pem(key) + pem(leaf) + pem(ca)).decode(), 'application/x-pem-file', 's')
        assert private_key == key_pem(key).decode()
        assert certificates == [pem(leaf).decode(), pem(ca).decode()]

    def test_pkcs12_secret_without_an_exportable_key(self, chain):
        leaf, ca = chain.leaf, chain.ca
        pfx = pkcs12.serialize_key_and_certificates(None, None, leaf, [ca], serialization.NoEncryption())
        private_key, certificates = material.split_backing_secret(base64.b64encode(pfx).decode(), 'application/x-pkcs12', 's')
        assert private_key is None
        assert certificates[0] == pem(leaf).decode()

    def test_garbage(self):
        with pytest.raises(KeyVaultInputError) as raised:
            material.split_backing_secret('not base64 !', 'application/x-pkcs12', 'the backing secret of x')
        assert str(raised.value) == 'the backing secret of x is not base64 PKCS#12 as its content type says'


def request_for(key):
    """The DER of a certificate signing request for ``key``, as the vault returns a pending request."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'leaf.example.test')])
    return x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


class TestSigned:

    @pytest.mark.parametrize('form', ['pem', 'pem-crlf', 'der', 'base64', 'base64-wrapped', 'pkcs7-pem', 'pkcs7-der', 'pkcs7-base64'])
    def test_every_form_gives_the_certificates_in_order(self, chain, form):
        p7 = pkcs7.serialize_certificates([chain.leaf, chain.ca], serialization.Encoding.DER)
        data = {
            'pem': pem(chain.leaf) + pem(chain.ca),
            'pem-crlf': (pem(chain.leaf) + pem(chain.ca)).replace(b'\n', b'\r\n'),
            'der': der(chain.leaf),
            'base64': base64.b64encode(der(chain.leaf)),
            'base64-wrapped': base64.encodebytes(der(chain.leaf)),
            'pkcs7-pem': pkcs7.serialize_certificates([chain.leaf, chain.ca], serialization.Encoding.PEM),
            'pkcs7-der': p7,
            'pkcs7-base64': base64.b64encode(p7),
        }[form]
        loaded = material.load_signed_certificates(data, 'signed_certificate')
        expected = [chain.leaf] if form in ('der', 'base64', 'base64-wrapped') else [chain.leaf, chain.ca]
        assert sorted(der(c) for c in loaded) == sorted(der(c) for c in expected)

    @pytest.mark.parametrize('data, message', [
        (b'not a certificate', 'signed_certificate is not a certificate; give the certificate (and chain) as PEM, DER or base64-encoded DER'),
        (b'-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
         'signed_certificate holds a CERTIFICATE block that is not a certificate; give the certificate (and chain) as PEM, DER or '
         'base64-encoded DER'),
        (b'-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n',
         'signed_certificate holds a CERTIFICATE REQUEST block that is not a certificate; give the certificate (and chain) as PEM, DER or '
         'base64-encoded DER'),
    ])
    def test_what_is_not_a_certificate(self, data, message):
        with pytest.raises(KeyVaultInputError) as raised:
            material.load_signed_certificates(data, 'signed_certificate')
        assert str(raised.value) == message

    def test_a_private_key_is_refused_without_quoting_it(self, chain):
        with pytest.raises(KeyVaultInputError) as raised:
            material.load_signed_certificates(pem(chain.leaf) + key_pem(chain.key), 'signed_certificate')
        assert str(raised.value) == ('signed_certificate holds a private key; the key of a pending request stays in the vault, give only '
                                     'the signed certificate and its chain')

    def test_the_certificate_of_the_requests_key_comes_first(self, chain):
        ordered = material.chain_for_request([chain.ca, chain.leaf], request_for(chain.key), 'signed_certificate')
        assert ordered == [chain.leaf, chain.ca]

    def test_a_certificate_for_another_key_names_both_keys(self, chain):
        other = ec.generate_private_key(ec.SECP384R1())
        with pytest.raises(KeyVaultInputError) as raised:
            material.chain_for_request([chain.leaf, chain.ca], request_for(other), "signed_certificate for certificate 'web'")
        request_key = hashlib.sha256(other.public_key().public_bytes(serialization.Encoding.DER,
                                                                     serialization.PublicFormat.SubjectPublicKeyInfo)).hexdigest().upper()
        given_key = hashlib.sha256(chain.key.public_key().public_bytes(serialization.Encoding.DER,
                                                                       serialization.PublicFormat.SubjectPublicKeyInfo)).hexdigest().upper()
        assert str(raised.value) == ("signed_certificate for certificate 'web' does not match the pending request: the request is for the "
                                     "EC P-384 key %s, the given certificate (CN=leaf.example.test) holds the RSA 2048-bit key %s" % (
                                         request_key, given_key))

    def test_description_has_the_validity(self, chain):
        described = material.describe_signed(chain.leaf)
        assert (described['subject'], described['thumbprint']) == ('CN=leaf.example.test', hashlib.sha1(der(chain.leaf)).hexdigest().upper())
        assert described['expires'] - described['not_before'] == 31 * 86400


class TestState:

    def test_certificate_state_reads_the_sdk_objects(self, chain):
        leaf = chain.leaf
        digest = hashlib.sha1(der(leaf)).digest()
        properties = types.SimpleNamespace(
            name='web', id='https://v.vault.azure.net/certificates/web/' + 'a' * 32, version='a' * 32, x509_thumbprint=digest,
            enabled=True, tags={'n': 1}, not_before=NOW, expires_on=NOW, created_on=NOW, updated_on=None,
            recovery_level=types.SimpleNamespace(value='Recoverable+Purgeable'), recoverable_days=90)
        certificate = types.SimpleNamespace(properties=properties, cer=bytearray(der(leaf)), secret_id='sid', key_id='kid', policy=None)
        state = cert_state.state_from_certificate(certificate)
        assert (state.issued, state.thumbprint, state.subject, state.tags, state.recovery_level) == (
            True, digest.hex().upper(), 'CN=leaf.example.test', {'n': '1'}, 'Recoverable+Purgeable')
        assert state.policy is None

    def test_pending_version(self):
        properties = types.SimpleNamespace(name='web', id='i', version='v', x509_thumbprint=None, enabled=False, tags=None, not_before=None,
                                           expires_on=None, created_on=None, updated_on=None, recovery_level=None, recoverable_days=None)
        state = cert_state.state_from_properties(properties)
        assert (state.issued, state.thumbprint, state.x5t, state.tags) == (False, None, None, {})
