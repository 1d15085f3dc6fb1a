"""Certificate crypto of the local vault.

Keys, self-signed certificates, certificate signing requests, the merge of a CA-signed
certificate with a pending key, the import of PEM bundles and PKCS#12 files, and the value
of a certificate's backing secret.  Everything here works on ``cryptography`` objects and
on the wire (REST) shape of a certificate policy; nothing knows about HTTP or the store.
"""

import base64
import binascii
import calendar
import datetime
import hashlib
import ipaddress
import re

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtensionOID, NameOID

PEM_CONTENT_TYPE = "application/x-pem-file"
PKCS12_CONTENT_TYPE = "application/x-pkcs12"
CONTENT_TYPES = (PKCS12_CONTENT_TYPE, PEM_CONTENT_TYPE)

RSA_KEY_TYPES = ("RSA", "RSA-HSM")
EC_KEY_TYPES = ("EC", "EC-HSM")
RSA_KEY_SIZES = (2048, 3072, 4096)
# Key Vault names curves like JOSE does; each maps to the key size the service reports.
EC_CURVES = {
    "P-256": (ec.SECP256R1, 256),
    "P-384": (ec.SECP384R1, 384),
    "P-521": (ec.SECP521R1, 521),
    "P-256K": (ec.SECP256K1, 256),
}
EC_KEY_SIZES = (256, 384, 521)

KEY_USAGES = (
    "digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment", "keyAgreement",
    "keyCertSign", "cRLSign", "encipherOnly", "decipherOnly",
)
# Positional names of cryptography's KeyUsage constructor, in the order of KEY_USAGES.
_KEY_USAGE_ARGUMENTS = (
    "digital_signature", "content_commitment", "key_encipherment", "data_encipherment", "key_agreement",
    "key_cert_sign", "crl_sign", "encipher_only", "decipher_only",
)

# The service back-dates notBefore so that clocks a little behind still accept a new certificate.
NOT_BEFORE_SKEW = datetime.timedelta(minutes=10)

UPN_OID = x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2.3")

# Attribute keywords of subject strings, as Windows/.NET (and so Key Vault) write and read them.
_SUBJECT_KEYWORDS = {
    "CN": NameOID.COMMON_NAME,
    "O": NameOID.ORGANIZATION_NAME,
    "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
    "L": NameOID.LOCALITY_NAME,
    "S": NameOID.STATE_OR_PROVINCE_NAME,
    "ST": NameOID.STATE_OR_PROVINCE_NAME,
    "C": NameOID.COUNTRY_NAME,
    "E": NameOID.EMAIL_ADDRESS,
    "EMAIL": NameOID.EMAIL_ADDRESS,
    "EMAILADDRESS": NameOID.EMAIL_ADDRESS,
    "DC": NameOID.DOMAIN_COMPONENT,
    "STREET": NameOID.STREET_ADDRESS,
    "SERIALNUMBER": NameOID.SERIAL_NUMBER,
    "T": NameOID.TITLE,
    "TITLE": NameOID.TITLE,
    "G": NameOID.GIVEN_NAME,
    "GN": NameOID.GIVEN_NAME,
    "GIVENNAME": NameOID.GIVEN_NAME,
    "SN": NameOID.SURNAME,
    "I": NameOID.INITIALS,
    "UID": NameOID.USER_ID,
    "POSTALCODE": NameOID.POSTAL_CODE,
}
_SUBJECT_OUTPUT_KEYWORDS = {
    NameOID.COMMON_NAME: "CN",
    NameOID.ORGANIZATION_NAME: "O",
    NameOID.ORGANIZATIONAL_UNIT_NAME: "OU",
    NameOID.LOCALITY_NAME: "L",
    NameOID.STATE_OR_PROVINCE_NAME: "S",
    NameOID.COUNTRY_NAME: "C",
    NameOID.EMAIL_ADDRESS: "E",
    NameOID.DOMAIN_COMPONENT: "DC",
    NameOID.STREET_ADDRESS: "STREET",
    NameOID.SERIAL_NUMBER: "SERIALNUMBER",
    NameOID.TITLE: "T",
    NameOID.GIVEN_NAME: "G",
    NameOID.SURNAME: "SN",
    NameOID.INITIALS: "I",
    NameOID.USER_ID: "UID",
    NameOID.POSTAL_CODE: "PostalCode",
}
_OID_KEYWORD = re.compile(r"^(?:OID\.)?([0-9.]+)$", re.IGNORECASE)
_DOTTED_OID = re.compile(r"^[0-2](\.(0|[1-9][0-9]*))+$")
_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\n(.*?)\n?-----END \1-----", re.DOTALL)

PEM_FORMAT_ERROR = "The specified PEM X.509 certificate content is in an unexpected format. Please check if certificate is in valid PEM format."
PKCS12_FORMAT_ERROR = "The specified PKCS#12 X.509 certificate content can not be read. Please check if certificate is in valid PKCS#12 format."
PEM_MISSING_KEY_ERROR = (
    "Private key is not specified in the specified X.509 PEM certificate content. Please specify private key in the X.509 PEM certificate content."
)
PKCS12_MISSING_KEY_ERROR = (
    "Private key is not specified in the specified X.509 PKCS#12 certificate content. "
    "Please specify private key in the X.509 PKCS#12 certificate content."
)
KEY_MISMATCH_ERROR = "The private key in the specified X.509 certificate content does not match the public key of the certificate."
EXPIRED_ERROR = "The specified X.509 certificate content is expired. Expired certificates can not be imported."
X5C_EMPTY_ERROR = "Property x5c has invalid value X5C must has at least one valid item"
X5C_NO_LEAF_ERROR = "Unable to parse X5c certificate chain and locate leaf certificate"
OUT_CONTENT_TYPE_ERROR = (
    "Property outContentType has invalid value: only conversion from application/x-pkcs12 to application/x-pem-file is supported."
)


class CertificateError(ValueError):
    """Input the service rejects as a bad parameter; ``str()`` is the service's message."""

    def __init__(self, message, inner_code=None):
        super().__init__(message)
        self.message = message
        self.inner_code = inner_code


def generate_private_key(key_props):
    """A new private key for the (already validated) ``key_props`` of a policy."""
    if key_props["kty"] in EC_KEY_TYPES:
        curve_class = EC_CURVES[key_props["crv"]][0]
        return ec.generate_private_key(curve_class())
    return rsa.generate_private_key(public_exponent=65537, key_size=key_props["key_size"])


def key_matches_properties(private_key, key_props):
    """Whether an existing key has the type and size ``key_props`` asks for (so it may be reused)."""
    described = describe_key(private_key)
    if (key_props["kty"] in EC_KEY_TYPES) != (described["kty"] == "EC"):
        return False
    if described["kty"] == "EC":
        return described["crv"] == key_props.get("crv")
    return described["key_size"] == key_props.get("key_size")


def describe_key(private_key):
    """The ``key_props`` the service reports for a key it did not generate itself."""
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        curve_name = next(name for name, (curve_class, _size) in EC_CURVES.items() if isinstance(private_key.curve, curve_class))
        return {"exportable": True, "kty": "EC", "key_size": EC_CURVES[curve_name][1], "reuse_key": False, "crv": curve_name}
    return {"exportable": True, "kty": "RSA", "key_size": private_key.key_size, "reuse_key": False}


def parse_subject(subject):
    """An ``x509.Name`` from a subject string such as ``CN=www.example.com, O=Example, C=US``.

    The string lists the most specific attribute first, as Windows and Key Vault show it, so the
    encoded name holds the attributes in reverse order.  Separators are ``,`` or ``;``; a value
    may be double-quoted or use backslash escapes.  An empty string is an empty name.
    """
    attributes = []
    for component in _split_subject(subject):
        keyword, separator, raw_value = component.partition("=")
        keyword = keyword.strip()
        if not separator or not keyword:
            raise CertificateError("Property subject has invalid value")
        try:
            # cryptography enforces the X.520 upper bounds (e.g. 64 characters for CN, 2 for C).
            attributes.append(x509.NameAttribute(_subject_oid(keyword), _unescape_subject_value(raw_value.strip())))
        except ValueError as error:
            raise CertificateError("Property subject has invalid value") from error
    return x509.Name(list(reversed(attributes)))


def _split_subject(subject):
    components = []
    current = []
    in_quotes = False
    escaped = False
    for character in subject:
        if escaped:
            current.append(character)
            escaped = False
        elif character == "\\":
            current.append(character)
            escaped = True
        elif character == '"':
            current.append(character)
            in_quotes = not in_quotes
        elif character in ",;" and not in_quotes:
            components.append("".join(current))
            current = []
        else:
            current.append(character)
    if in_quotes or escaped:
        raise CertificateError("Property subject has invalid value")
    components.append("".join(current))
    if len(components) == 1 and not components[0].strip():
        return []
    return components


def is_object_identifier(text):
    """Whether ``text`` is a dotted OID that DER can encode (the second arc is below 40 under arcs 0 and 1)."""
    if not isinstance(text, str) or not _DOTTED_OID.match(text):
        return False
    arcs = [int(arc) for arc in text.split(".")]
    return arcs[0] == 2 or arcs[1] < 40


def _subject_oid(keyword):
    oid = _SUBJECT_KEYWORDS.get(keyword.upper())
    if oid is not None:
        return oid
    dotted = _OID_KEYWORD.match(keyword)
    if dotted and is_object_identifier(dotted.group(1)):
        return x509.ObjectIdentifier(dotted.group(1))
    raise CertificateError("Property subject has invalid value")


def _unescape_subject_value(value):
    if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        return value[1:-1].replace('""', '"')
    return re.sub(r"\\(.)", r"\1", value)


def format_subject(name):
    """The subject string the service shows for an ``x509.Name`` (most specific attribute first)."""
    parts = []
    for attribute in reversed(list(name)):
        keyword = _SUBJECT_OUTPUT_KEYWORDS.get(attribute.oid, "OID." + attribute.oid.dotted_string)
        value = attribute.value if isinstance(attribute.value, str) else attribute.value.hex()
        if value == "" or any(character in value for character in ',+=";<>#\n') or value != value.strip():
            value = '"' + value.replace('"', '""') + '"'
        parts.append(keyword + "=" + value)
    return ", ".join(parts)


def _der_utf8_string(text):
    """DER of an ASN.1 UTF8String, the value type of a UPN other-name."""
    encoded = text.encode("utf-8")
    length = len(encoded)
    if length < 0x80:
        header = bytes([length])
    else:
        length_bytes = length.to_bytes((length.bit_length() + 7) // 8, "big")
        header = bytes([0x80 | len(length_bytes)]) + length_bytes
    return b"\x0c" + header + encoded


def _read_der_utf8_string(der):
    """Text of a DER UTF8String, or None when ``der`` is something else."""
    if len(der) < 2 or der[0] != 0x0C:
        return None
    if der[1] < 0x80:
        start, length = 2, der[1]
    else:
        size_of_length = der[1] & 0x7F
        start, length = 2 + size_of_length, int.from_bytes(der[2:2 + size_of_length], "big")
    try:
        return der[start:start + length].decode("utf-8")
    except UnicodeDecodeError:
        return None


def subject_alternative_names(sans):
    """The ``x509.GeneralName`` list for a policy's ``sans`` (wire shape); invalid entries raise."""
    names = []
    try:
        names.extend(x509.DNSName(value) for value in sans.get("dns_names") or [])
        names.extend(x509.RFC822Name(value) for value in sans.get("emails") or [])
        names.extend(x509.OtherName(UPN_OID, _der_utf8_string(value)) for value in sans.get("upns") or [])
        names.extend(x509.IPAddress(ipaddress.ip_address(value)) for value in sans.get("ipAddresses") or [])
        names.extend(x509.UniformResourceIdentifier(value) for value in sans.get("uris") or [])
    except (TypeError, ValueError) as error:
        raise CertificateError("Property sans has invalid value") from error
    return names


def key_usage_extension(usages):
    """The KeyUsage extension for the service's key usage names (already validated), as DER.

    The service issues certificates with ``encipherOnly``/``decipherOnly`` without ``keyAgreement``
    (the Azure SDK's ``test_policy`` creates one against it), a combination RFC 5280 leaves
    undefined and ``x509.KeyUsage`` refuses to build, so the bit string is encoded here: bit N is
    the N-th name of KEY_USAGES, trailing zero bits dropped as DER requires of named bit lists.
    """
    bits = [name in usages for name in KEY_USAGES]
    while bits and not bits[-1]:
        bits.pop()
    octets = bytearray((len(bits) + 7) // 8)
    for index, is_set in enumerate(bits):
        if is_set:
            octets[index // 8] |= 0x80 >> (index % 8)
    unused_bits = len(octets) * 8 - len(bits)
    bit_string = bytes([0x03, len(octets) + 1, unused_bits]) + bytes(octets)
    return x509.UnrecognizedExtension(ExtensionOID.KEY_USAGE, bit_string)


def _requested_extensions(x509_props):
    """(extension, critical) pairs a policy puts into a certificate or its CSR."""
    extensions = []
    if x509_props.get("key_usage"):
        extensions.append((key_usage_extension(x509_props["key_usage"]), True))
    ca = bool((x509_props.get("basic_constraints") or {}).get("ca", False))
    extensions.append((x509.BasicConstraints(ca=ca, path_length=None), False))
    if x509_props.get("ekus"):
        extensions.append((x509.ExtendedKeyUsage([x509.ObjectIdentifier(oid) for oid in x509_props["ekus"]]), False))
    names = subject_alternative_names(x509_props.get("sans") or {})
    if names:
        # RFC 5280: the SAN extension is critical when it is the certificate's only identity.
        extensions.append((x509.SubjectAlternativeName(names), not x509_props.get("subject")))
    return extensions


def signature_hash(private_key):
    """The digest Key Vault signs with for a key: SHA-256 for RSA, the curve's size for EC."""
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        return {384: hashes.SHA384(), 521: hashes.SHA512()}.get(private_key.curve.key_size, hashes.SHA256())
    return hashes.SHA256()


def add_months(moment, months):
    """``moment`` plus calendar months, clamping the day to the length of the target month."""
    month_index = moment.month - 1 + months
    year = moment.year + month_index // 12
    month = month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def validity_months_between(not_before, not_after):
    """Whole months (rounded up) that cover a validity period, as the service reports for imports."""
    months = 0
    while add_months(not_before, months) < not_after:
        months += 1
    return months


def build_self_signed(private_key, x509_props, now):
    """A self-signed certificate as the ``Self`` issuer makes it from a policy's ``x509_props``."""
    subject = parse_subject(x509_props.get("subject") or "")
    not_before = now - NOT_BEFORE_SKEW
    not_after = add_months(now, x509_props["validity_months"])
    public_key = private_key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    for extension, critical in _requested_extensions(x509_props):
        builder = builder.add_extension(extension, critical=critical)
    key_identifier = x509.SubjectKeyIdentifier.from_public_key(public_key)
    builder = builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(key_identifier), critical=False)
    builder = builder.add_extension(key_identifier, critical=False)
    return builder.sign(private_key, signature_hash(private_key))


def build_csr(private_key, x509_props):
    """The certificate signing request the service hands out for a pending certificate."""
    builder = x509.CertificateSigningRequestBuilder().subject_name(parse_subject(x509_props.get("subject") or ""))
    for extension, critical in _requested_extensions(x509_props):
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(private_key, signature_hash(private_key))


def _public_key_der(key):
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def leaf_of(private_key, chain):
    """The certificate of ``chain`` that holds ``private_key``'s public key."""
    return order_chain(private_key, chain)[0]


def order_chain(private_key, certificates):
    """``certificates`` with the one holding ``private_key``'s public key first; None if absent."""
    wanted = _public_key_der(private_key.public_key())
    for index, certificate in enumerate(certificates):
        if _public_key_der(certificate.public_key()) == wanted:
            return [certificate] + certificates[:index] + certificates[index + 1:]
    return None


def _certificates_from_bytes(data):
    """X.509 certificates in one ``x5c`` entry: DER, PEM text with one or more blocks, or the
    base64 text of a DER certificate without PEM armour (the service accepts that too: the Azure
    SDK's ``test_merge_certificate`` merges such an entry)."""
    if b"-----BEGIN" in data:
        try:
            return x509.load_pem_x509_certificates(data.replace(b"\r\n", b"\n"))
        except ValueError:
            return []
    try:
        return [x509.load_der_x509_certificate(data)]
    except ValueError:
        pass
    try:
        return [x509.load_der_x509_certificate(base64.b64decode(b"".join(data.split()), validate=True))]
    except (binascii.Error, ValueError):
        return []


def merge_chain(private_key, x5c, preserve_order=False):
    """The chain of a merge request's ``x5c`` entries for the pending ``private_key``.

    The leaf comes first unless ``preserve_order`` keeps the order the entries were given in.
    """
    certificates = []
    for entry in x5c:
        certificates.extend(_certificates_from_bytes(entry))
    if not certificates:
        raise CertificateError(X5C_EMPTY_ERROR)
    chain = order_chain(private_key, certificates)
    if chain is None:
        raise CertificateError(X5C_NO_LEAF_ERROR)
    return certificates if preserve_order else chain


def decode_import_value(value):
    """The bytes of an import request's ``value``: base64 as the SDKs send it, or raw PEM text."""
    if "-----BEGIN" in value:
        return value.encode("utf-8")
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        return None


def load_import(value, password, content_type, now, preserve_order=False):
    """(private key, chain) of an import request; the leaf comes first unless ``preserve_order``.

    ``content_type`` is the policy's secret content type and decides how ``value`` is read, like
    the service does: a PEM bundle must hold a PKCS#8 key (plain or encrypted with ``password``)
    and the certificates; anything else is read as PKCS#12.
    """
    data = decode_import_value(value) if isinstance(value, str) else None
    if content_type == PEM_CONTENT_TYPE:
        private_key, certificates = _load_pem_bundle(data, password)
        missing_key_error = PEM_MISSING_KEY_ERROR
    else:
        private_key, certificates = _load_pkcs12(data, password)
        missing_key_error = PKCS12_MISSING_KEY_ERROR
    if private_key is None:
        raise CertificateError(missing_key_error)
    chain = order_chain(private_key, certificates)
    if chain is None:
        raise CertificateError(KEY_MISMATCH_ERROR)
    if chain[0].not_valid_after_utc <= now:
        raise CertificateError(EXPIRED_ERROR)
    return private_key, certificates if preserve_order else chain


def _load_pem_bundle(data, password):
    # The service reads PEM with Unix line ends only; Windows line ends are its documented failure.
    if not data or b"\r\n" in data:
        raise CertificateError(PEM_FORMAT_ERROR)
    private_key = None
    certificates = []
    blocks = _PEM_BLOCK.findall(data)
    if not blocks:
        raise CertificateError(PEM_FORMAT_ERROR)
    for label, body in blocks:
        try:
            der = base64.b64decode(b"".join(body.split()), validate=True)
        except (binascii.Error, ValueError) as error:
            raise CertificateError(PEM_FORMAT_ERROR) from error
        if label == b"CERTIFICATE":
            certificates.append(_load_der_certificate(der))
        elif label in (b"PRIVATE KEY", b"ENCRYPTED PRIVATE KEY") and private_key is None:
            private_key = _load_pkcs8_key(der, password if label == b"ENCRYPTED PRIVATE KEY" else None)
        else:
            # Only PKCS#8 keys are accepted (no PKCS#1 "RSA PRIVATE KEY" or SEC1 "EC PRIVATE KEY").
            raise CertificateError(PEM_FORMAT_ERROR)
    if not certificates:
        raise CertificateError(PEM_FORMAT_ERROR)
    return private_key, certificates


def _load_der_certificate(der):
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError as error:
        raise CertificateError(PEM_FORMAT_ERROR) from error


def _load_pkcs8_key(der, password):
    try:
        private_key = serialization.load_der_private_key(der, password.encode("utf-8") if password else None)
    except (TypeError, ValueError, UnsupportedAlgorithm) as error:
        raise CertificateError(PEM_FORMAT_ERROR) from error
    if not isinstance(private_key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        raise CertificateError(PEM_FORMAT_ERROR)
    return private_key


def _load_pkcs12(data, password):
    if not data:
        raise CertificateError(PKCS12_FORMAT_ERROR)
    # A PFX "without" password may be protected by an empty one; OpenSSL treats the two apart.
    candidates = [password.encode("utf-8")] if password else [None, b""]
    for candidate in candidates:
        try:
            private_key, certificate, additional = pkcs12.load_key_and_certificates(data, candidate)
        except (TypeError, ValueError, UnsupportedAlgorithm):
            continue
        if private_key is not None and not isinstance(private_key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
            raise CertificateError(PKCS12_FORMAT_ERROR)
        certificates = ([certificate] if certificate is not None else []) + list(additional)
        if not certificates:
            raise CertificateError(PKCS12_FORMAT_ERROR)
        return private_key, certificates
    raise CertificateError(PKCS12_FORMAT_ERROR)


def describe_certificate(certificate):
    """The ``x509_props`` the service derives from a certificate it did not make (import, merge)."""
    props = {"subject": format_subject(certificate.subject)}
    extensions = certificate.extensions
    san = _extension_value(extensions, x509.SubjectAlternativeName)
    if san is not None:
        sans = {}
        dns_names = san.get_values_for_type(x509.DNSName)
        emails = san.get_values_for_type(x509.RFC822Name)
        upn_values = [_read_der_utf8_string(other.value) for other in san.get_values_for_type(x509.OtherName) if other.type_id == UPN_OID]
        upns = [value for value in upn_values if value is not None]
        addresses = [str(address) for address in san.get_values_for_type(x509.IPAddress)]
        uris = san.get_values_for_type(x509.UniformResourceIdentifier)
        for field, values in (("emails", emails), ("dns_names", dns_names), ("upns", upns), ("uris", uris), ("ipAddresses", addresses)):
            if values:
                sans[field] = values
        props["sans"] = sans
    eku = _extension_value(extensions, x509.ExtendedKeyUsage)
    if eku is not None:
        props["ekus"] = [oid.dotted_string for oid in eku]
    key_usage = _extension_value(extensions, x509.KeyUsage)
    if key_usage is not None:
        props["key_usage"] = _key_usage_names(key_usage)
    props["validity_months"] = validity_months_between(certificate.not_valid_before_utc, certificate.not_valid_after_utc)
    basic_constraints = _extension_value(extensions, x509.BasicConstraints)
    props["basic_constraints"] = {"ca": bool(basic_constraints and basic_constraints.ca)}
    return props


def _extension_value(extensions, extension_class):
    try:
        return extensions.get_extension_for_class(extension_class).value
    except x509.ExtensionNotFound:
        return None


def _key_usage_names(key_usage):
    names = []
    for name, argument in zip(KEY_USAGES, _KEY_USAGE_ARGUMENTS):
        try:
            if getattr(key_usage, argument):
                names.append(name)
        except ValueError:
            # encipher_only/decipher_only are undefined unless key_agreement is set.
            continue
    return names


def x5t(certificate):
    """The service's ``x5t``: base64url (unpadded) SHA-1 thumbprint of the DER certificate."""
    digest = hashlib.sha1(certificate.public_bytes(serialization.Encoding.DER)).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def certificate_to_base64(certificate):
    """The service's ``cer``: standard base64 of the DER certificate."""
    return base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode("ascii")


def certificate_from_base64(text):
    return x509.load_der_x509_certificate(base64.b64decode(text))


def csr_to_base64(csr):
    return base64.b64encode(csr.public_bytes(serialization.Encoding.DER)).decode("ascii")


def private_key_to_pem(private_key):
    """Unencrypted PKCS#8 PEM text of a key (the form kept in the store and in PEM secrets)."""
    return private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")


def private_key_from_pem(text):
    return serialization.load_pem_private_key(text.encode("ascii"), password=None)


def backing_secret_value(private_key, chain, content_type):
    """Value of a certificate's backing secret.

    PEM: the PKCS#8 key followed by the certificates (leaf first).  PKCS#12: base64 of a PFX
    without a password.  ``private_key`` is None for a non-exportable key, whose secret carries
    the certificates only.
    """
    if content_type == PEM_CONTENT_TYPE:
        parts = [private_key_to_pem(private_key)] if private_key is not None else []
        parts.extend(certificate.public_bytes(serialization.Encoding.PEM).decode("ascii") for certificate in chain)
        return "".join(parts)
    pfx = pkcs12.serialize_key_and_certificates(None, private_key, chain[0], chain[1:] or None, serialization.NoEncryption())
    return base64.b64encode(pfx).decode("ascii")


def convert_backing_secret(value, content_type, out_content_type):
    """A backing secret's value in ``out_content_type`` (GetSecret's ``outContentType``).

    The service converts PFX to PEM only; asking for the format the secret already has returns
    it unchanged, and any other conversion is rejected.
    """
    if out_content_type == content_type:
        return value
    if content_type != PKCS12_CONTENT_TYPE or out_content_type != PEM_CONTENT_TYPE:
        raise CertificateError(OUT_CONTENT_TYPE_ERROR)
    pfx = base64.b64decode(value)
    private_key, certificate, additional = pkcs12.load_key_and_certificates(pfx, None)
    chain = ([certificate] if certificate is not None else []) + list(additional)
    return backing_secret_value(private_key, chain, PEM_CONTENT_TYPE)
