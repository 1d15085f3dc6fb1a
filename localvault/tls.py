"""The vault's private CA (made once per state folder) and its server certificate (made at every start).

Clients trust ``ca.pem``; the server certificate is re-issued on each start so that it always
covers the current ``--host`` and the configured extra names, and never runs out.
"""

import datetime
import ipaddress
import os
import ssl

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"
SERVER_CERT_FILE = "server.pem"
SERVER_KEY_FILE = "server-key.pem"

_CA_LIFETIME = datetime.timedelta(days=3650)
_SERVER_LIFETIME = datetime.timedelta(days=90)
# A CA this close to its end is replaced so that a server certificate never outlives its issuer.
_CA_RENEWAL_MARGIN = datetime.timedelta(days=_SERVER_LIFETIME.days + 1)


def _write_private(path, data):
    temporary = f"{path}.{os.getpid()}.tmp"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)


def _write_public(path, data):
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)


def _private_key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _load_ca(state_dir, now):
    try:
        with open(os.path.join(state_dir, CA_FILE), "rb") as handle:
            certificate = x509.load_pem_x509_certificate(handle.read())
        with open(os.path.join(state_dir, CA_KEY_FILE), "rb") as handle:
            key = serialization.load_pem_private_key(handle.read(), password=None)
    except (OSError, ValueError):
        return None
    if certificate.not_valid_after_utc - now < _CA_RENEWAL_MARGIN:
        return None
    return certificate, key


def _make_ca(state_dir, now):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "localvault"),
                      x509.NameAttribute(NameOID.COMMON_NAME, f"localvault private CA {now:%Y-%m-%d %H:%M:%S}")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + _CA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
                       critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(os.path.join(state_dir, CA_KEY_FILE), _private_key_pem(key))
    _write_public(os.path.join(state_dir, CA_FILE), certificate.public_bytes(serialization.Encoding.PEM))
    return certificate, key


def _subject_alternative_names(names):
    entries = []
    for name in dict.fromkeys(names):
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return entries


def prepare(state_dir, host, extra_names):
    """Make sure the CA exists, issue a fresh server certificate; return an SSL context serving it."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_certificate, ca_key = _load_ca(state_dir, now) or _make_ca(state_dir, now)
    key = ec.generate_private_key(ec.SECP256R1())
    names = ["localhost", "127.0.0.1", host, *extra_names]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_certificate.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + _SERVER_LIFETIME)
        .add_extension(x509.SubjectAlternativeName(_subject_alternative_names(names)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    certificate_path = os.path.join(state_dir, SERVER_CERT_FILE)
    key_path = os.path.join(state_dir, SERVER_KEY_FILE)
    _write_private(key_path, _private_key_pem(key))
    _write_public(certificate_path, certificate.public_bytes(serialization.Encoding.PEM) + ca_certificate.public_bytes(serialization.Encoding.PEM))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certificate_path, key_path)
    return context
