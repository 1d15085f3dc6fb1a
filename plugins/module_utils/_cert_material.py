# -*- coding: utf-8 -*-
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Certificate and key material: reading what a task imports, and what the vault hands out.

For internal collection use only: names and behaviour may change without notice.

Uses ``cryptography``, which azure-identity already depends on. Error messages name the source of
the material but never quote it, nor the password.
"""

import base64
import binascii
import collections
import datetime
import hashlib
import ipaddress
import re
import traceback

try:
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12
except ImportError:
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None

from ansible_collections.keyvault.azure.plugins.module_utils._identifiers import KeyVaultInputError
from ansible_collections.keyvault.azure.plugins.module_utils._time import datetime_to_timestamp

_PEM_BLOCK = re.compile(r'-----BEGIN ([A-Z0-9 ]+)-----\s*(.*?)\s*-----END \1-----', re.DOTALL)
# The OID of a user principal name in a subject alternative name (a Microsoft "other name").
_UPN_OID = '1.3.6.1.4.1.311.20.2.3'
# The DER contents of that OID and of the SubjectAlternativeName extension's OID (2.5.29.17).
_UPN_OID_DER = b'\x2b\x06\x01\x04\x01\x82\x37\x14\x02\x03'
_SAN_OID_DER = b'\x55\x1d\x11'
_CURVE_NAMES = {'secp256r1': 'P-256', 'secp384r1': 'P-384', 'secp521r1': 'P-521', 'secp256k1': 'P-256K'}

ImportPayload = collections.namedtuple('ImportPayload', ['value', 'content_type', 'description'])
ImportPayload.__doc__ = """What a certificate import sends: ``value`` (bytes: a PEM bundle, or a PKCS#12 file without
password) in ``content_type`` (PEM or PKCS12), and the ``description`` of its leaf certificate
(thumbprint, x5t, subject, SANs, key type...; see parse_certificate)."""


class LoadedMaterial(object):
    """A private key and its certificates, the leaf (the one holding the key's public key) first."""

    def __init__(self, private_key, certificates, content_type):
        self.private_key = private_key
        self.certificates = certificates
        self.content_type = content_type

    @property
    def leaf(self):
        return self.certificates[0]


def _public_der(key):
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def leaf_first(private_key, certificates):
    """``certificates`` with the one that holds ``private_key``'s public key first (unchanged without a key)."""
    if private_key is None:
        return list(certificates)
    return _holder_first(private_key.public_key(), certificates)


def _holder_first(public_key, certificates):
    """``certificates`` with the one that holds ``public_key`` first, or None when none does."""
    wanted = _public_der(public_key)
    for index, certificate in enumerate(certificates):
        if _public_der(certificate.public_key()) == wanted:
            return [certificate] + certificates[:index] + certificates[index + 1:]
    return None


def _password_bytes(password):
    return password.encode('utf-8') if password else None


def _load_pem(data, password, source):
    certificates = []
    private_key = None
    for label, body in _PEM_BLOCK.findall(data.decode('ascii', 'replace')):
        block = '-----BEGIN %s-----\n%s\n-----END %s-----\n' % (label, body, label)
        if label == 'CERTIFICATE':
            try:
                certificates.append(x509.load_pem_x509_certificate(block.encode('ascii')))
            except ValueError:
                raise KeyVaultInputError('%s holds a CERTIFICATE block that is not a valid X.509 certificate' % source)
        elif label.endswith('PRIVATE KEY'):
            if private_key is not None:
                raise KeyVaultInputError('%s holds more than one private key' % source)
            try:
                private_key = serialization.load_pem_private_key(block.encode('ascii'), _password_bytes(password))
            except TypeError:
                if password:
                    raise KeyVaultInputError('%s holds a private key that is not encrypted; remove password' % source)
                raise KeyVaultInputError('%s holds an encrypted private key; set password' % source)
            except (ValueError, UnsupportedAlgorithm):
                raise KeyVaultInputError('the private key in %s cannot be read%s' % (source, ' with the given password' if password else ''))
    return private_key, certificates


def _load_pkcs12(data, password, source):
    candidates = [_password_bytes(password)] if password else [None, b'']
    for candidate in candidates:
        try:
            private_key, certificate, additional = pkcs12.load_key_and_certificates(data, candidate)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            continue
        return private_key, ([certificate] if certificate is not None else []) + list(additional or [])
    raise KeyVaultInputError('%s is neither a PEM bundle nor a PKCS#12 file that opens %s' % (
        source, 'with the given password' if password else 'without a password (set password if it has one)'))


def load_material(data, password, source):
    """The private key and certificates of a PEM bundle or PKCS#12 file (raw or base64) in ``data`` (bytes).

    ``source`` names where the data came from, for error messages.
    """
    if b'-----BEGIN' in data:
        private_key, certificates = _load_pem(data, password, source)
        content_type = 'PEM'
    else:
        try:
            decoded = base64.b64decode(b''.join(data.split()), validate=True)
        except (binascii.Error, ValueError):
            decoded = data
        private_key, certificates = _load_pkcs12(decoded, password, source)
        content_type = 'PKCS12'
    if not certificates:
        raise KeyVaultInputError('%s holds no certificate' % source)
    if private_key is None:
        raise KeyVaultInputError('%s holds no private key; Key Vault imports a certificate together with its private key' % source)
    if not isinstance(private_key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        raise KeyVaultInputError('%s holds a key that is neither RSA nor EC; Key Vault certificates use RSA or EC keys' % source)
    ordered = leaf_first(private_key, certificates)
    if ordered is None:
        raise KeyVaultInputError('%s holds no certificate for its private key' % source)
    expires = _not_valid_after(ordered[0])
    if expires <= datetime.datetime.now(datetime.timezone.utc):
        raise KeyVaultInputError('%s holds a certificate that expired on %s; Key Vault does not import expired certificates' % (
            source, expires.strftime('%Y-%m-%dT%H:%M:%SZ')))
    return LoadedMaterial(private_key, ordered, content_type)


def _not_valid_after(certificate):
    """The end of a certificate's validity, timezone-aware."""
    expires = getattr(certificate, 'not_valid_after_utc', None)
    if expires is None:
        # cryptography before 42 has only the naive UTC datetime.
        expires = certificate.not_valid_after.replace(tzinfo=datetime.timezone.utc)
    return expires


def _not_valid_before(certificate):
    """The start of a certificate's validity, timezone-aware (see _not_valid_after)."""
    starts = getattr(certificate, 'not_valid_before_utc', None)
    if starts is None:
        starts = certificate.not_valid_before.replace(tzinfo=datetime.timezone.utc)
    return starts


def private_key_pem(private_key):
    """Unencrypted PKCS#8 PEM, the form Key Vault keeps in a PEM certificate's secret."""
    return private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode('ascii')


def certificate_pem(certificate):
    return certificate.public_bytes(serialization.Encoding.PEM).decode('ascii')


def build_import_payload(material, content_type):
    """The ImportPayload that imports ``material`` (a LoadedMaterial) stored as ``content_type``.

    The key is sent as unencrypted PKCS#8 (the only PEM key form the service reads) or inside a
    PKCS#12 file without password, inside the TLS connection the request travels in, so no
    password goes along.
    """
    if content_type == 'PEM':
        value = (private_key_pem(material.private_key) + ''.join(certificate_pem(c) for c in material.certificates)).encode('ascii')
    else:
        value = pkcs12.serialize_key_and_certificates(None, material.private_key, material.leaf, material.certificates[1:] or None,
                                                      serialization.NoEncryption())
    description = parse_certificate(material.leaf)
    description.update(key_parameters(material.private_key))
    return ImportPayload(value, content_type, description)


def key_parameters(private_key):
    """``key_type``, ``key_size`` and ``curve`` of a key, with the policy's names."""
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        curve = _CURVE_NAMES.get(private_key.curve.name, private_key.curve.name)
        return {'key_type': 'EC', 'key_size': private_key.curve.key_size, 'curve': curve}
    return {'key_type': 'RSA', 'key_size': private_key.key_size, 'curve': None}


def thumbprint(der):
    """The SHA-1 thumbprint of a DER certificate, in upper-case hex as Azure shows it."""
    return hashlib.sha1(der).hexdigest().upper()


def x5t(der):
    """The service's ``x5t``: base64url SHA-1 thumbprint without padding."""
    return base64.urlsafe_b64encode(hashlib.sha1(der).digest()).rstrip(b'=').decode('ascii')


def _utf8_string(der):
    """The text of a DER UTF8String (how a UPN is stored), or None."""
    if len(der) < 2 or der[0] != 0x0C:
        return None
    length, offset = der[1], 2
    if length & 0x80:
        count = length & 0x7F
        length, offset = int.from_bytes(der[2:2 + count], 'big'), 2 + count
    try:
        return der[offset:offset + length].decode('utf-8')
    except UnicodeDecodeError:
        return None


def _der_elements(data):
    """(tag, content) of each DER element in ``data``, one level deep."""
    elements, offset = [], 0
    while offset + 2 <= len(data):
        tag, length, offset = data[offset], data[offset + 1], offset + 2
        if length & 0x80:
            count = length & 0x7F
            length, offset = int.from_bytes(data[offset:offset + count], 'big'), offset + count
        elements.append((tag, data[offset:offset + length]))
        offset += length
    return elements


def _subject_alternative_names_from_der(certificate):
    """The subject alternative names read from the certificate's DER itself.

    For a certificate whose extensions cryptography refuses to read: Key Vault issues certificates whose
    key usage has encipherOnly or decipherOnly without keyAgreement (RFC 5280 leaves that undefined).
    """
    tbs_fields = _der_elements(_der_elements(certificate.tbs_certificate_bytes)[0][1])
    extensions = [content for tag, content in tbs_fields if tag == 0xA3]  # extensions [3] EXPLICIT
    names = {'dns_names': [], 'ip_addresses': [], 'emails': [], 'upns': [], 'uris': []}
    for _tag, extension in _der_elements(_der_elements(extensions[0])[0][1]) if extensions else []:
        parts = _der_elements(extension)  # extnID, critical (optional), extnValue
        if parts[0] != (0x06, _SAN_OID_DER):
            continue
        for tag, value in _der_elements(_der_elements(parts[-1][1])[0][1]):
            if tag == 0x82:
                names['dns_names'].append(value.decode('ascii'))
            elif tag == 0x81:
                names['emails'].append(value.decode('ascii'))
            elif tag == 0x86:
                names['uris'].append(value.decode('ascii'))
            elif tag == 0x87:
                names['ip_addresses'].append(str(ipaddress.ip_address(bytes(value))))
            elif tag == 0xA0:
                other_name = _der_elements(value)
                if other_name[0] == (0x06, _UPN_OID_DER) and other_name[1][0] == 0xA0:
                    names['upns'].append(_utf8_string(other_name[1][1]))
    return dict((kind, [value for value in values if value is not None]) for kind, values in names.items() if values)


def _subject_alternative_names(certificate):
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return {}
    except ValueError:
        return _subject_alternative_names_from_der(certificate)
    upns = [_utf8_string(other.value) for other in names.get_values_for_type(x509.OtherName) if other.type_id.dotted_string == _UPN_OID]
    sans = {
        'dns_names': names.get_values_for_type(x509.DNSName),
        'ip_addresses': [str(address) for address in names.get_values_for_type(x509.IPAddress)],
        'emails': names.get_values_for_type(x509.RFC822Name),
        'upns': [upn for upn in upns if upn is not None],
        'uris': names.get_values_for_type(x509.UniformResourceIdentifier),
    }
    return dict((kind, values) for kind, values in sans.items() if values)


def parse_certificate(certificate):
    """Thumbprints, subject (RFC 4514) and subject alternative names of an X.509 certificate."""
    der = certificate.public_bytes(serialization.Encoding.DER)
    return {
        'thumbprint': thumbprint(der),
        'x5t': x5t(der),
        'subject': certificate.subject.rfc4514_string(),
        'sans': _subject_alternative_names(certificate),
    }


def parse_der_certificate(der):
    """parse_certificate for the DER bytes the service returns as ``cer``."""
    return parse_certificate(x509.load_der_x509_certificate(bytes(der)))


def der_to_pem(der):
    return certificate_pem(x509.load_der_x509_certificate(bytes(der)))


def split_backing_secret(value, content_type, source):
    """(private key PEM or None, [certificate PEM...], leaf first) of a certificate's backing secret.

    ``content_type`` is the secret's content type (PEM or PKCS12 as MIME type or name): a PEM
    secret holds the PKCS#8 key and the certificates, a PKCS#12 one is base64 of a PFX without
    password. A non-exportable key is missing from the secret.
    """
    data = value.encode('utf-8')
    if content_type in ('PEM', 'application/x-pem-file') or b'-----BEGIN' in data:
        private_key, certificates = _load_pem(data, None, source)
    else:
        try:
            decoded = base64.b64decode(b''.join(data.split()), validate=True)
        except (binascii.Error, ValueError):
            raise KeyVaultInputError('%s is not base64 PKCS#12 as its content type says' % source)
        private_key, certificates = _load_pkcs12(decoded, None, source)
    ordered = leaf_first(private_key, certificates) or list(certificates)
    return (private_key_pem(private_key) if private_key is not None else None), [certificate_pem(c) for c in ordered]


def _certificates_of_der(der):
    """The certificates of DER bytes: one X.509 certificate or a PKCS#7 bundle (what many CAs hand out as .p7b)."""
    try:
        return [x509.load_der_x509_certificate(der)]
    except ValueError:
        pass
    try:
        return list(pkcs7.load_der_pkcs7_certificates(der))
    except (ValueError, UnsupportedAlgorithm):
        return []


def load_signed_certificates(data, source):
    """The certificates (leaf and chain, in the given order) a CA signed, from ``data`` (bytes).

    Takes PEM (CERTIFICATE or PKCS7 blocks), DER (a certificate or PKCS#7) or base64 of DER;
    ``source`` names where the data came from, for error messages. A private key is refused: the
    request's key never leaves the vault, so none belongs with the signed certificate.
    """
    expected = 'give the certificate (and chain) as PEM, DER or base64-encoded DER'
    if b'-----BEGIN' in data:
        certificates = []
        for label, body in _PEM_BLOCK.findall(data.decode('ascii', 'replace')):
            if label.endswith('PRIVATE KEY'):
                raise KeyVaultInputError('%s holds a private key; the key of a pending request stays in the vault, give only the signed '
                                         'certificate and its chain' % source)
            try:
                der = base64.b64decode(''.join(body.split()), validate=True)
            except (binascii.Error, ValueError):
                der = b''
            found = _certificates_of_der(der) if label in ('CERTIFICATE', 'PKCS7') else []
            if not found:
                raise KeyVaultInputError('%s holds a %s block that is not a certificate; %s' % (source, label, expected))
            certificates.extend(found)
    else:
        certificates = _certificates_of_der(data)
        if not certificates:
            try:
                certificates = _certificates_of_der(base64.b64decode(b''.join(data.split()), validate=True))
            except (binascii.Error, ValueError):
                certificates = []
    if not certificates:
        raise KeyVaultInputError('%s is not a certificate; %s' % (source, expected))
    return certificates


def _describe_public_key(public_key):
    """A public key in words: its type and size, and the SHA-256 fingerprint of its SubjectPublicKeyInfo."""
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        kind = 'EC %s' % _CURVE_NAMES.get(public_key.curve.name, public_key.curve.name)
    elif isinstance(public_key, rsa.RSAPublicKey):
        kind = 'RSA %d-bit' % public_key.key_size
    else:
        kind = type(public_key).__name__
    return '%s key %s' % (kind, hashlib.sha256(_public_der(public_key)).hexdigest().upper())


def chain_for_request(certificates, csr, source):
    """``certificates`` with the one that holds the public key of ``csr`` (the DER of a pending request) first.

    Fails naming both keys when none of them does: such a merge would be refused by the vault, or
    pair the vault's key with a certificate for another key.
    """
    request_key = x509.load_der_x509_csr(bytes(csr)).public_key()
    ordered = _holder_first(request_key, certificates)
    if ordered is None:
        raise KeyVaultInputError('%s does not match the pending request: the request is for the %s, the given certificate (%s) holds the %s' % (
            source, _describe_public_key(request_key), certificates[0].subject.rfc4514_string(), _describe_public_key(certificates[0].public_key())))
    return ordered


def certificate_der(certificate):
    return certificate.public_bytes(serialization.Encoding.DER)


def describe_signed(certificate):
    """parse_certificate with the validity, for a certificate the vault is about to hold."""
    description = parse_certificate(certificate)
    description.update(not_before=datetime_to_timestamp(_not_valid_before(certificate)), expires=datetime_to_timestamp(_not_valid_after(certificate)))
    return description
