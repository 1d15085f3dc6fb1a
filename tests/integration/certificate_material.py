# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Certificates and keys made by the tests, to import into the vault and to compare with what comes back."""

import base64
import datetime
import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID


class Issued(object):
    """A key, its certificate and the chain above it (CA certificates), leaf first."""

    def __init__(self, key, certificate, chain=()):
        self.key = key
        self.certificate = certificate
        self.chain = list(chain)

    @property
    def thumbprint(self):
        return hashlib.sha1(self.certificate.public_bytes(serialization.Encoding.DER)).hexdigest().upper()

    def certificate_pem(self):
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode('ascii')

    def chain_pem(self):
        return ''.join(ca.public_bytes(serialization.Encoding.PEM).decode('ascii') for ca in self.chain)

    def key_pem(self, password=None, private_format=serialization.PrivateFormat.PKCS8):
        encryption = serialization.BestAvailableEncryption(password.encode('utf-8')) if password else serialization.NoEncryption()
        return self.key.private_bytes(serialization.Encoding.PEM, private_format, encryption).decode('ascii')

    def pem_bundle(self, password=None):
        """Key, certificate and chain as one PEM file, in the order tools like certbot write them."""
        return self.certificate_pem() + self.chain_pem() + self.key_pem(password)

    def pkcs12(self, password=None):
        encryption = serialization.BestAvailableEncryption(password.encode('utf-8')) if password else serialization.NoEncryption()
        return pkcs12.serialize_key_and_certificates(b'test', self.key, self.certificate, self.chain or None, encryption)

    def pkcs12_base64(self, password=None):
        return base64.b64encode(self.pkcs12(password)).decode('ascii')


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def issue(common_name, valid_from=None, valid_until=None, issuer=None, dns_names=None, key=None):
    """An RSA-keyed certificate for ``common_name``, self-signed or signed by ``issuer`` (an Issued CA)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    builder = (x509.CertificateBuilder().subject_name(_name(common_name))
               .issuer_name(issuer.certificate.subject if issuer else _name(common_name))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(valid_from or now - datetime.timedelta(days=1))
               .not_valid_after(valid_until or now + datetime.timedelta(days=365)))
    if dns_names:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(name) for name in dns_names]), critical=False)
    if issuer is None and common_name.endswith('CA'):
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    certificate = builder.sign(issuer.key if issuer else key, hashes.SHA256())
    return Issued(key, certificate, ([issuer.certificate] + issuer.chain) if issuer else [])


def make_ca():
    return issue('keyvault.azure Test CA', key=ec.generate_private_key(ec.SECP256R1()))


def days_from_now(days):
    return datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days)


def sign_request(csr, ca, valid_until=None):
    """The certificate ``ca`` (an Issued CA) signs for a certificate signing request (DER bytes, as the SDK returns it).

    The result has no key: the key stays in the vault that made the request.
    """
    request = x509.load_der_x509_csr(bytes(csr))
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(request.subject).issuer_name(ca.certificate.subject)
                   .public_key(request.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(valid_until or now + datetime.timedelta(days=90))
                   .sign(ca.key, hashes.SHA256()))
    return Issued(None, certificate, [ca.certificate] + ca.chain)


def der_of(certificate):
    return certificate.public_bytes(serialization.Encoding.DER)
