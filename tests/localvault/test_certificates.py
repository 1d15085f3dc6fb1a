"""Every certificate operation of the local vault, driven through azure-keyvault-certificates' CertificateClient
(and SecretClient for the backing secrets) with managed-identity credentials."""

import base64
import datetime
import hashlib
import ipaddress
import threading
import time
import uuid

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.keyvault.certificates import (
    AdministratorContact, CertificateClient, CertificateContact, CertificateContentType, CertificateOperation, CertificatePolicy,
    CertificatePolicyAction, KeyCurveName, KeyType, KeyUsageType, LifetimeAction, PlatformManaged, WellKnownIssuerNames,
)
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

UTC = datetime.timezone.utc
SERVER_AUTH = ExtendedKeyUsageOID.SERVER_AUTH.dotted_string
CLIENT_AUTH = ExtendedKeyUsageOID.CLIENT_AUTH.dotted_string
ISSUING_DETAILS = ("Pending certificate created. Certificate request is in progress. This may take some time based on the issuer provider. "
                   "Please check again later.")
# The SDK polls a creation every 5 s by default; a test that waits on a pending one polls faster.
FAST_POLLING = {"_polling_interval": 0.1}


def unique(prefix="cert"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def raw(localvault, method, path, body=None, identity="operator", query=""):
    """A request the SDK would not send, made with a real token of ``identity``."""
    url = f"{localvault.vault_url.rstrip('/')}{path}?api-version=2026-04-01{query}"
    return localvault.request(method, url, body, headers={"Authorization": f"Bearer {localvault.token(identity)}"})


@pytest.fixture(name="certificate_client")
def fixture_certificate_client(localvault, vault_env):  # pylint: disable=unused-argument
    """``certificate_client(identity="operator")`` -> CertificateClient on the session vault."""
    def build(identity="operator"):
        return CertificateClient(localvault.vault_url, localvault.credential(identity), verify_challenge_resource=False,
                                 connection_verify=localvault.ca_bundle)
    return build


@pytest.fixture(name="ca", scope="module")
def fixture_ca():
    """A test certificate authority: (key, certificate)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localvault test CA")])
    now = datetime.datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def sign(ca, subject, public_key, extensions=(), days=90):
    ca_key, ca_certificate = ca
    now = datetime.datetime.now(UTC)
    builder = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(ca_certificate.subject).public_key(public_key)
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
    )
    for extension in extensions:
        builder = builder.add_extension(extension.value, critical=extension.critical)
    return builder.sign(ca_key, hashes.SHA256())


def der(certificate):
    return certificate.public_bytes(serialization.Encoding.DER)


def pem(certificate):
    return certificate.public_bytes(serialization.Encoding.PEM)


def pkcs8(key, password=None):
    encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def public_der(key):
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def create(client, name, policy=None, **kwargs):
    return client.begin_create_certificate(name, policy or CertificatePolicy.get_default(), **kwargs).result()


def assert_error(caught, status, code, message=None, inner_code=None):
    error = caught.value
    assert error.status_code == status
    assert error.error.code == code
    if message is not None:
        assert error.error.message == message
    if inner_code is not None:
        assert error.error.innererror["code"] == inner_code


def pem_blocks(text):
    return [block for block in text.split("-----END ") if "-----BEGIN " in block]


# --- creation ----------------------------------------------------------------------------------


def test_default_policy_creates_a_self_signed_certificate_with_the_service_defaults(certificate_client):
    client = certificate_client()
    name = unique()
    before = int(time.time())
    certificate = create(client, name)

    policy = certificate.policy
    assert policy.issuer_name == "Self"
    assert policy.subject == "CN=DefaultPolicy"
    assert (policy.key_type, policy.key_size, policy.exportable, policy.reuse_key) == (KeyType.rsa, 2048, True, False)
    assert policy.content_type == CertificateContentType.pkcs12
    assert policy.enhanced_key_usage == [SERVER_AUTH, CLIENT_AUTH]
    assert policy.key_usage == [KeyUsageType.digital_signature, KeyUsageType.key_encipherment]
    assert policy.validity_in_months == 12
    assert [(action.action, action.lifetime_percentage) for action in policy.lifetime_actions] == [(CertificatePolicyAction.auto_renew, 80)]

    x509_certificate = x509.load_der_x509_certificate(certificate.cer)
    assert x509_certificate.subject == x509_certificate.issuer
    assert x509_certificate.subject.rfc4514_string() == "CN=DefaultPolicy"
    assert x509_certificate.public_key().key_size == 2048
    x509_certificate.verify_directly_issued_by(x509_certificate)
    assert certificate.properties.x509_thumbprint == hashlib.sha1(certificate.cer).digest()

    base = client.vault_url.rstrip("/")
    version = certificate.properties.version
    assert certificate.id == f"{base}/certificates/{name}/{version}"
    assert certificate.key_id == f"{base}/keys/{name}/{version}"
    assert certificate.secret_id == f"{base}/secrets/{name}/{version}"
    assert certificate.properties.enabled is True
    created = certificate.properties.created_on.timestamp()
    assert before <= created <= time.time() + 1
    assert certificate.properties.not_before == x509_certificate.not_valid_before_utc
    assert certificate.properties.expires_on == x509_certificate.not_valid_after_utc
    assert created - certificate.properties.not_before.timestamp() == 600
    assert certificate.properties.recovery_level == "CustomizedRecoverable+Purgeable"
    assert certificate.properties.recoverable_days == 7


def test_ec_certificate_with_sans_in_pem_and_its_backing_secret(certificate_client, secret_client):
    client = certificate_client()
    name = unique("ec")
    policy = CertificatePolicy(
        issuer_name=WellKnownIssuerNames.self, subject="CN=ec.example, O=Example Corp", key_type=KeyType.ec, key_curve_name=KeyCurveName.p_384,
        san_dns_names=["ec.example", "www.ec.example"], san_ip_addresses=["192.0.2.10"], san_emails=["ops@example.com"],
        san_user_principal_names=["svc@example.com"], content_type=CertificateContentType.pem, validity_in_months=6,
        key_usage=[KeyUsageType.digital_signature], enhanced_key_usage=[SERVER_AUTH], reuse_key=True,
    )
    certificate = create(client, name, policy, tags={"env": "test"})

    assert certificate.policy.key_type == KeyType.ec
    assert certificate.policy.key_curve_name == KeyCurveName.p_384
    assert certificate.policy.key_size == 384
    assert certificate.policy.san_dns_names == ["ec.example", "www.ec.example"]
    assert certificate.properties.tags == {"env": "test"}
    x509_certificate = x509.load_der_x509_certificate(certificate.cer)
    assert isinstance(x509_certificate.public_key(), ec.EllipticCurvePublicKey)
    assert x509_certificate.public_key().curve.name == "secp384r1"
    assert x509_certificate.subject.rfc4514_string() == "CN=ec.example,O=Example Corp"
    san = x509_certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["ec.example", "www.ec.example"]
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("192.0.2.10")]
    assert san.get_values_for_type(x509.RFC822Name) == ["ops@example.com"]
    key_usage = x509_certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert key_usage.digital_signature and not key_usage.key_encipherment
    lifetime = x509_certificate.not_valid_after_utc - certificate.properties.created_on
    assert datetime.timedelta(days=180) <= lifetime <= datetime.timedelta(days=185)

    secret = secret_client().get_secret(name)
    assert secret.properties.content_type == "application/x-pem-file"
    assert secret.properties.managed is True
    assert secret.properties.version == certificate.properties.version
    assert secret.properties.key_id == certificate.key_id
    assert secret.properties.tags == {"env": "test"}
    assert secret.value.startswith("-----BEGIN PRIVATE KEY-----\n")
    key = serialization.load_pem_private_key(secret.value.encode(), password=None)
    assert public_der(key.public_key()) == public_der(x509_certificate.public_key())
    assert [der(item) for item in x509.load_pem_x509_certificates(secret.value.encode())] == [certificate.cer]


def test_pkcs12_backing_secret_opens_with_an_empty_password_and_converts_to_pem(certificate_client, secret_client):
    name = unique("pfx")
    certificate = create(certificate_client(), name)
    secret = secret_client().get_secret(name)
    assert secret.properties.content_type == "application/x-pkcs12"
    assert secret.id == certificate.secret_id
    key, x509_certificate, additional = pkcs12.load_key_and_certificates(base64.b64decode(secret.value), b"")
    assert der(x509_certificate) == certificate.cer
    assert additional == []
    assert public_der(key.public_key()) == public_der(x509_certificate.public_key())
    converted = secret_client().get_secret(name, out_content_type="application/x-pem-file")
    assert converted.properties.content_type == "application/x-pem-file"
    assert len(pem_blocks(converted.value)) == 2
    assert x509.load_pem_x509_certificate(converted.value.encode()) == x509_certificate


@pytest.mark.parametrize("key_type, size, curve", [(KeyType.rsa, 3072, None), (KeyType.ec, None, KeyCurveName.p_521),
                                                   (KeyType.ec, None, KeyCurveName.p_256)])
def test_key_types_and_sizes(certificate_client, key_type, size, curve):
    policy = CertificatePolicy(issuer_name="Self", subject="CN=keys.example", key_type=key_type, key_size=size, key_curve_name=curve)
    certificate = create(certificate_client(), unique("keys"), policy)
    public_key = x509.load_der_x509_certificate(certificate.cer).public_key()
    if key_type == KeyType.rsa:
        assert isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size == size
    else:
        assert isinstance(public_key, ec.EllipticCurvePublicKey) and certificate.policy.key_curve_name == curve


def test_creation_is_a_long_running_operation(certificate_client, secret_client, localvault, clean_controls):
    client = certificate_client()
    name = unique("lro")
    with clean_controls.changed_settings(certificate_creation_delay_seconds=1.5):
        poller = client.begin_create_certificate(name, CertificatePolicy.get_default(), **FAST_POLLING)
        operation = client.get_certificate_operation(name)
        assert operation.status == "inProgress"
        assert operation.status_details == ISSUING_DETAILS
        assert operation.issuer_name == "Self"
        assert operation.cancellation_requested is False
        assert operation.id == f"{client.vault_url.rstrip('/')}/certificates/{name}/pending"
        csr = x509.load_der_x509_csr(operation.csr)
        assert csr.subject.rfc4514_string() == "CN=DefaultPolicy"

        pending = client.get_certificate(name)
        assert pending.properties.enabled is False
        assert pending.cer is None and pending.properties.x509_thumbprint is None
        assert name not in {item.name for item in client.list_properties_of_certificates()}
        assert name in {item.name for item in client.list_properties_of_certificates(include_pending=True)}
        with pytest.raises(ResourceNotFoundError):
            secret_client().get_secret(name)
        status, _headers, body = raw(localvault, "GET", f"/certificates/{name}/")
        assert status == 200 and body["pending"] == {"id": operation.id}

        certificate = poller.result()
    assert poller.status() == "completed"
    assert public_der(x509.load_der_x509_certificate(certificate.cer).public_key()) == public_der(csr.public_key())
    finished = client.get_certificate_operation(name)
    assert finished.status == "completed"
    assert finished.target == f"{client.vault_url.rstrip('/')}/certificates/{name}"
    assert finished.status_details is None
    assert secret_client().get_secret(name).properties.version == certificate.properties.version


def test_create_response_is_202_with_location(localvault):
    name = unique("raw")
    status, headers, body = raw(localvault, "POST", f"/certificates/{name}/create", {"policy": {"x509_props": {"subject": "CN=raw"}}})
    assert status == 202
    assert body["status"] == "inProgress"
    assert headers["Location"].endswith(f"/certificates/{name}/pending?api-version=2026-04-01&request_id={body['request_id']}")
    assert headers["Retry-After"] == "10"


def test_cancel_and_delete_a_pending_operation(certificate_client, clean_controls):
    client = certificate_client()
    name = unique("cancel")
    with clean_controls.changed_settings(certificate_creation_delay_seconds=60):
        client.begin_create_certificate(name, CertificatePolicy.get_default())
        with pytest.raises(ResourceExistsError) as caught:
            client.begin_create_certificate(name, CertificatePolicy.get_default())
        assert_error(caught, 409, "Conflict")
        cancelled = client.cancel_certificate_operation(name)
        assert cancelled.cancellation_requested is True
        assert cancelled.status == "inProgress"
        deleted = client.delete_certificate_operation(name)
        assert deleted.cancellation_requested is True
        with pytest.raises(ResourceNotFoundError) as caught:
            client.get_certificate_operation(name)
        assert_error(caught, 404, "PendingCertificateNotFound", f"Pending certificate not found: {name}")
        leftover = client.get_certificate(name)
    assert leftover.properties.enabled is False and leftover.cer is None


def test_cancelled_creation_ends_cancelled(certificate_client, clean_controls):
    client = certificate_client()
    name = unique("cancelled")
    with clean_controls.changed_settings(certificate_creation_delay_seconds=5):
        poller = client.begin_create_certificate(name, CertificatePolicy.get_default(), **FAST_POLLING)
        client.cancel_certificate_operation(name)
        result = poller.result()
    assert isinstance(result, CertificateOperation)
    assert result.status == "cancelled"
    with pytest.raises(HttpResponseError) as caught:
        client.cancel_certificate_operation(name)
    assert_error(caught, 403, "Forbidden", "Pending status must be in progress to allow update.")


def test_new_version_and_reuse_key(certificate_client):
    client = certificate_client()
    name = unique("reuse")
    policy = CertificatePolicy(issuer_name="Self", subject="CN=reuse.example", reuse_key=True)
    first = create(client, name, policy)
    second = create(client, name, policy)
    assert first.properties.version != second.properties.version
    first_key = x509.load_der_x509_certificate(first.cer).public_key()
    second_key = x509.load_der_x509_certificate(second.cer).public_key()
    assert public_der(first_key) == public_der(second_key)
    third = create(client, name, CertificatePolicy(issuer_name="Self", subject="CN=reuse.example"))
    assert public_der(x509.load_der_x509_certificate(third.cer).public_key()) != public_der(second_key)
    versions = list(client.list_properties_of_certificate_versions(name))
    assert {item.version for item in versions} == {first.properties.version, second.properties.version, third.properties.version}
    assert client.get_certificate_version(name, first.properties.version).cer == first.cer
    assert client.get_certificate(name).properties.version == third.properties.version


def test_create_without_a_policy_uses_the_stored_one(localvault, certificate_client):
    client = certificate_client()
    name = unique("nopolicy")
    create(client, name, CertificatePolicy(issuer_name="Self", subject="CN=stored.example", validity_in_months=3))
    status, _headers, _body = raw(localvault, "POST", f"/certificates/{name}/create", {})
    assert status == 202
    certificate = client.get_certificate(name)
    assert x509.load_der_x509_certificate(certificate.cer).subject.rfc4514_string() == "CN=stored.example"
    status, _headers, body = raw(localvault, "POST", f"/certificates/{unique('nopolicy')}/create", {})
    assert status == 400 and body["error"] == {"code": "BadParameter", "message": "Property policy has invalid value"}


@pytest.mark.parametrize("policy, message, inner_code", [
    (CertificatePolicy(issuer_name="Self", subject="CN=x", key_type=KeyType.rsa, key_size=1024),
     "Unsupported key size (1024). Supported sizes are [2048, 3072, 4096]", "KeySizeNotSupported"),
    (CertificatePolicy(issuer_name="Self", subject="CN=x", key_type=KeyType.ec, key_size=2048),
     "Unsupported key size (2048). Supported sizes are [256, 384, 521]", "KeySizeNotSupported"),
    (CertificatePolicy(issuer_name="Self", subject="CN=x", validity_in_months=1201), "Property validity_months has invalid value", None),
    (CertificatePolicy(issuer_name="Self", subject="CN=x", lifetime_actions=[
        LifetimeAction(CertificatePolicyAction.auto_renew, lifetime_percentage=80),
        LifetimeAction(CertificatePolicyAction.email_contacts, days_before_expiry=10)]), "At most one action is allowed", None),
    (CertificatePolicy(issuer_name="Self", subject="CN=x", lifetime_actions=[
        LifetimeAction(CertificatePolicyAction.auto_renew, lifetime_percentage=100)]), "Property lifetime_percentage has invalid value", None),
    (CertificatePolicy(issuer_name="Self", subject="not a distinguished name"), "Property subject has invalid value", None),
    (CertificatePolicy(issuer_name="Self", subject="CN=x", enhanced_key_usage=["serverAuth"]), "Property ekus has invalid value", None),
])
def test_invalid_policies_are_bad_parameters(certificate_client, policy, message, inner_code):
    with pytest.raises(HttpResponseError) as caught:
        certificate_client().begin_create_certificate(unique("invalid"), policy)
    assert_error(caught, 400, "BadParameter", message, inner_code)


def test_unknown_issuer_name_is_not_found(certificate_client):
    with pytest.raises(ResourceNotFoundError) as caught:
        certificate_client().begin_create_certificate(unique("issuer"), CertificatePolicy(issuer_name="NoSuchIssuer", subject="CN=x"))
    assert_error(caught, 404, "CertificateIssuerNotFound", "Issuer not found")


# --- CSR flow ----------------------------------------------------------------------------------


def test_unknown_issuer_csr_and_merge(certificate_client, secret_client, ca):
    client = certificate_client()
    name = unique("merge")
    policy = CertificatePolicy(issuer_name=WellKnownIssuerNames.unknown, subject="CN=merge.example", san_dns_names=["merge.example"],
                               content_type=CertificateContentType.pem)
    operation = client.begin_create_certificate(name, policy).result()
    assert isinstance(operation, CertificateOperation)
    assert operation.status == "inProgress"
    assert operation.status_details == "Pending certificate created. Please Perform Merge to complete the request."
    assert client.get_certificate_policy(name).lifetime_actions[0].action == CertificatePolicyAction.email_contacts

    csr = x509.load_der_x509_csr(operation.csr)
    assert csr.is_signature_valid
    assert csr.subject.rfc4514_string() == "CN=merge.example"
    other = sign(ca, csr.subject, ec.generate_private_key(ec.SECP256R1()).public_key())
    with pytest.raises(HttpResponseError) as caught:
        client.merge_certificate(name, [der(other)])
    assert_error(caught, 400, "BadParameter", "Unable to parse X5c certificate chain and locate leaf certificate")

    leaf = sign(ca, csr.subject, csr.public_key(), csr.extensions)
    merged = client.merge_certificate(name, [der(ca[1]), der(leaf)], tags={"merged": "yes"})
    assert merged.cer == der(leaf)
    assert merged.properties.enabled is True
    assert merged.properties.tags == {"merged": "yes"}
    assert merged.policy.issuer_name == "Unknown"
    assert client.get_certificate_operation(name).status == "completed"
    secret = secret_client().get_secret(name)
    assert [der(item) for item in x509.load_pem_x509_certificates(secret.value.encode())] == [der(leaf), der(ca[1])]
    key = serialization.load_pem_private_key(secret.value.encode(), password=None)
    assert public_der(key.public_key()) == public_der(csr.public_key())
    with pytest.raises(HttpResponseError) as caught:
        client.merge_certificate(name, [der(leaf)])
    assert_error(caught, 403, "Forbidden")


def test_merge_takes_the_base64_text_of_the_signed_certificate(certificate_client, ca):
    # What the SDK's own test_merge_certificate sends: PEM with its armour and line breaks stripped.
    client = certificate_client()
    name = unique("mergetext")
    operation = client.begin_create_certificate(name, CertificatePolicy(issuer_name=WellKnownIssuerNames.unknown, subject="CN=text.example")).result()
    csr = x509.load_der_x509_csr(operation.csr)
    leaf = sign(ca, csr.subject, csr.public_key())
    merged = client.merge_certificate(name, [base64.b64encode(der(leaf))])
    assert merged.cer == der(leaf)
    assert client.get_certificate_operation(name).status == "completed"


def test_merge_without_a_pending_operation_is_not_found(certificate_client, ca):
    with pytest.raises(ResourceNotFoundError) as caught:
        certificate_client().merge_certificate(unique("nomerge"), [der(ca[1])])
    assert caught.value.error.code == "PendingCertificateNotFound"


# --- import ------------------------------------------------------------------------------------


def test_import_pem_bundle_with_chain(certificate_client, secret_client, ca):
    client = certificate_client()
    name = unique("pem")
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "imported.example"), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example")])
    san = x509.SubjectAlternativeName([x509.DNSName("imported.example")])
    leaf = sign(ca, subject, key.public_key(), [x509.Extension(x509.SubjectAlternativeName.oid, False, san)])
    bundle = pkcs8(key) + pem(leaf) + pem(ca[1])
    imported = client.import_certificate(name, bundle, policy=CertificatePolicy(content_type=CertificateContentType.pem), tags={"src": "pem"})

    assert imported.cer == der(leaf)
    assert imported.properties.x509_thumbprint == hashlib.sha1(der(leaf)).digest()
    assert imported.policy.issuer_name == "Unknown"
    assert imported.policy.subject == "O=Example, CN=imported.example"
    assert imported.policy.san_dns_names == ["imported.example"]
    assert imported.policy.key_type == KeyType.ec and imported.policy.key_curve_name == KeyCurveName.p_256
    assert imported.policy.content_type == CertificateContentType.pem
    assert imported.policy.lifetime_actions[0].action == CertificatePolicyAction.email_contacts
    assert imported.properties.tags == {"src": "pem"}
    secret = secret_client().get_secret(name)
    assert secret.properties.version == imported.properties.version
    assert serialization.load_pem_private_key(secret.value.encode(), None).private_numbers() == key.private_numbers()
    assert [der(item) for item in x509.load_pem_x509_certificates(secret.value.encode())] == [der(leaf), der(ca[1])]


def test_import_encrypted_pem_key_with_password(certificate_client, ca):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    leaf = sign(ca, x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "encrypted.example")]), key.public_key())
    bundle = pkcs8(key, b"pem-password") + pem(leaf)
    policy = CertificatePolicy(content_type=CertificateContentType.pem)
    imported = certificate_client().import_certificate(unique("encpem"), bundle, password="pem-password", policy=policy)
    assert imported.cer == der(leaf)
    with pytest.raises(HttpResponseError) as caught:
        certificate_client().import_certificate(unique("encpem"), bundle, password="wrong", policy=policy)
    assert_error(caught, 400, "BadParameter",
                 "The specified PEM X.509 certificate content is in an unexpected format. Please check if certificate is in valid PEM format.")


def test_import_pkcs12_with_password_and_errors(certificate_client, secret_client, ca):
    client = certificate_client()
    name = unique("p12")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    leaf = sign(ca, x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "p12.example")]), key.public_key())
    pfx = pkcs12.serialize_key_and_certificates(b"friendly", key, leaf, [ca[1]], serialization.BestAvailableEncryption(b"pfx-pass"))
    imported = client.import_certificate(name, pfx, password="pfx-pass", enabled=False)
    assert imported.cer == der(leaf)
    assert imported.properties.enabled is False
    assert imported.policy.content_type == CertificateContentType.pkcs12
    assert imported.policy.key_size == 2048

    with pytest.raises(HttpResponseError) as caught:
        secret_client().get_secret(name)
    assert_error(caught, 403, "Forbidden", "Operation get is not allowed on a disabled secret.", "SecretDisabled")
    client.update_certificate_properties(name, enabled=True)
    secret = secret_client().get_secret(name)
    opened_key, opened, additional = pkcs12.load_key_and_certificates(base64.b64decode(secret.value), None)
    assert opened == leaf and additional == [ca[1]]
    assert opened_key.private_numbers() == key.private_numbers()

    pkcs12_error = "The specified PKCS#12 X.509 certificate content can not be read. Please check if certificate is in valid PKCS#12 format."
    with pytest.raises(HttpResponseError) as caught:
        client.import_certificate(unique("p12"), pfx, password="not-it")
    assert_error(caught, 400, "BadParameter", pkcs12_error)
    with pytest.raises(HttpResponseError) as caught:
        client.import_certificate(unique("p12"), pkcs8(key) + pem(leaf))
    assert_error(caught, 400, "BadParameter", pkcs12_error)
    with pytest.raises(HttpResponseError) as caught:
        client.import_certificate(unique("pem"), pem(leaf), policy=CertificatePolicy(content_type=CertificateContentType.pem))
    assert_error(caught, 400, "BadParameter", "Private key is not specified in the specified X.509 PEM certificate content. "
                                              "Please specify private key in the X.509 PEM certificate content.")


def test_import_new_version_reads_content_the_way_the_stored_policy_says(certificate_client, ca):
    client = certificate_client()
    name = unique("again")
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = sign(ca, x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "again.example")]), key.public_key())
    first = client.import_certificate(name, pkcs8(key) + pem(leaf), policy=CertificatePolicy(content_type=CertificateContentType.pem))
    renewed = sign(ca, leaf.subject, key.public_key())
    second = client.import_certificate(name, pkcs8(key) + pem(renewed))
    assert second.properties.version != first.properties.version
    assert second.cer == der(renewed)
    assert [item.version for item in client.list_properties_of_certificate_versions(name)] == [first.properties.version, second.properties.version]


# --- properties, policy, lists -------------------------------------------------------------------


def test_update_properties_follows_on_the_backing_secret(certificate_client, secret_client):
    client = certificate_client()
    name = unique("props")
    certificate = create(client, name)
    updated = client.update_certificate_properties(name, enabled=False, tags={"owner": "team-a"})
    assert updated.properties.enabled is False and updated.properties.tags == {"owner": "team-a"}
    assert updated.properties.version == certificate.properties.version
    with pytest.raises(HttpResponseError) as caught:
        secret_client().get_secret(name)
    assert caught.value.status_code == 403
    client.update_certificate_properties(name, certificate.properties.version, enabled=True)
    assert secret_client().get_secret(name).properties.tags == {"owner": "team-a"}
    assert client.get_certificate(name).properties.tags == {"owner": "team-a"}


def test_get_and_update_policy(certificate_client):
    client = certificate_client()
    name = unique("policy")
    create(client, name)
    assert client.get_certificate_policy(name).subject == "CN=DefaultPolicy"
    change = CertificatePolicy(validity_in_months=24, content_type=CertificateContentType.pem,
                               lifetime_actions=[LifetimeAction(CertificatePolicyAction.email_contacts, days_before_expiry=30)])
    updated = client.update_certificate_policy(name, change)
    assert updated.validity_in_months == 24
    assert updated.content_type == CertificateContentType.pem
    assert [(action.action, action.days_before_expiry) for action in updated.lifetime_actions] == [(CertificatePolicyAction.email_contacts, 30)]
    assert updated.key_size == 2048 and updated.subject == "CN=DefaultPolicy"
    renewed = create(client, name, updated)
    lifetime = x509.load_der_x509_certificate(renewed.cer).not_valid_after_utc - renewed.properties.created_on
    assert lifetime >= datetime.timedelta(days=720)
    with pytest.raises(HttpResponseError) as caught:
        client.update_certificate_policy(name, CertificatePolicy(key_type=KeyType.rsa, key_size=1000))
    assert caught.value.error.message == "Unsupported key size (1000). Supported sizes are [2048, 3072, 4096]"


def test_partial_policy_update_keeps_the_other_members(localvault, certificate_client):
    client = certificate_client()
    name = unique("patch")
    create(client, name, CertificatePolicy(issuer_name="Self", subject="CN=patch.example", san_dns_names=["patch.example"]))
    status, _headers, body = raw(localvault, "PATCH", f"/certificates/{name}/policy", {"x509_props": {"subject": "CN=patched.example"}})
    assert status == 200
    assert body["x509_props"]["subject"] == "CN=patched.example"
    assert body["x509_props"]["sans"] == {"dns_names": ["patch.example"]}
    assert body["id"] == f"{localvault.vault_url.rstrip('/')}/certificates/{name}/policy"


def test_list_certificates_and_versions_page_with_maxresults(certificate_client, ca):
    client = certificate_client()
    prefix = unique("paged")
    key = ec.generate_private_key(ec.SECP256R1())
    names = [f"{prefix}-{index}" for index in range(4)]
    for name in names:
        leaf = sign(ca, x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]), key.public_key())
        client.import_certificate(name, pkcs8(key) + pem(leaf), policy=CertificatePolicy(content_type=CertificateContentType.pem))
    pages = list(client.list_properties_of_certificates(max_page_size=2).by_page())
    seen = [item.name for current in pages for item in current]
    assert set(names) <= set(seen) and len(seen) == len(set(seen))
    assert all(len(list(current)) <= 2 for current in client.list_properties_of_certificates(max_page_size=2).by_page())
    listed = {item.name: item for item in client.list_properties_of_certificates()}
    assert listed[names[0]].x509_thumbprint == hashlib.sha1(client.get_certificate(names[0]).cer).digest()
    assert listed[names[0]].id == f"{client.vault_url.rstrip('/')}/certificates/{names[0]}"

    for index in range(2):
        leaf = sign(ca, x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{names[0]}-{index}")]), key.public_key())
        client.import_certificate(names[0], pkcs8(key) + pem(leaf))
    version_pages = list(client.list_properties_of_certificate_versions(names[0], max_page_size=1).by_page())
    assert len(version_pages) == 3
    assert all(item.version for current in version_pages for item in current)


def test_missing_certificates_and_versions_are_not_found(certificate_client):
    client = certificate_client()
    name = unique("missing")
    with pytest.raises(ResourceNotFoundError) as caught:
        client.get_certificate(name)
    assert_error(caught, 404, "CertificateNotFound",
                 f"A certificate with (name/id) {name} was not found in this key vault. If you recently deleted this certificate you may be able "
                 "to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182")
    create(client, name)
    with pytest.raises(ResourceNotFoundError) as caught:
        client.get_certificate_version(name, "0" * 32)
    assert caught.value.error.message.startswith(f"A certificate with (name/id) {name}/{'0' * 32} was not found")
    with pytest.raises(ResourceNotFoundError):
        client.get_certificate_policy(unique("missing"))


def test_a_plain_secret_name_cannot_become_a_certificate(certificate_client, secret_client):
    name = unique("taken")
    secret_client().set_secret(name, "plain")
    with pytest.raises(ResourceExistsError) as caught:
        certificate_client().begin_create_certificate(name, CertificatePolicy.get_default())
    assert caught.value.status_code == 409


# --- deletion, recovery, purge, backup -------------------------------------------------------------


def test_delete_recover_and_purge_carry_the_backing_secret(certificate_client, secret_client):
    client = certificate_client()
    secrets = secret_client()
    name = unique("lifecycle")
    certificate = create(client, name)

    deleted = client.begin_delete_certificate(name).result()
    assert deleted.recovery_id == f"{client.vault_url.rstrip('/')}/deletedcertificates/{name}"
    assert deleted.deleted_on is not None
    assert (deleted.scheduled_purge_date - deleted.deleted_on) == datetime.timedelta(days=7)
    assert deleted.cer == certificate.cer
    assert client.get_deleted_certificate(name).properties.version == certificate.properties.version
    assert name in {item.name for item in client.list_deleted_certificates()}
    with pytest.raises(ResourceNotFoundError):
        secrets.get_secret(name)
    with pytest.raises(ResourceNotFoundError):
        client.get_certificate(name)
    with pytest.raises(ResourceExistsError) as caught:
        client.begin_create_certificate(name, CertificatePolicy.get_default())
    assert_error(caught, 409, "Conflict",
                 f"Certificate {name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, "
                 "the certificate can only be recovered or purged.", "ObjectIsDeletedButRecoverable")

    recovered = client.begin_recover_deleted_certificate(name).result()
    assert recovered.properties.version == certificate.properties.version
    assert secrets.get_secret(name).properties.version == certificate.properties.version

    client.begin_delete_certificate(name).result()
    client.purge_deleted_certificate(name)
    with pytest.raises(ResourceNotFoundError) as caught:
        client.get_deleted_certificate(name)
    assert_error(caught, 404, "CertificateNotFound", f"Deleted Certificate not found: {name}")
    assert secrets.set_secret(name, "the name is free again").value == "the name is free again"


def test_deletion_is_asynchronous(localvault, certificate_client, clean_controls):
    client = certificate_client()
    name = unique("slowdelete")
    create(client, name)
    with clean_controls.changed_settings(deletion_delay_seconds=1.5):
        status, _headers, body = raw(localvault, "DELETE", f"/certificates/{name}")
        assert status == 200 and body["recoveryId"].endswith(f"/deletedcertificates/{name}")
        status, _headers, _body = raw(localvault, "GET", f"/deletedcertificates/{name}")
        assert status == 404
        with pytest.raises(ResourceExistsError) as caught:
            client.begin_create_certificate(name, CertificatePolicy.get_default())
        assert_error(caught, 409, "Conflict", "Certificate is currently being deleted.", "ObjectIsBeingDeleted")
        time.sleep(1.6)
        assert client.get_deleted_certificate(name).name == name


def test_purge_protection_refuses_purge(certificate_client, clean_controls):
    client = certificate_client()
    name = unique("protected")
    create(client, name)
    client.begin_delete_certificate(name).result()
    with clean_controls.changed_settings(purge_protection=True):
        with pytest.raises(HttpResponseError) as caught:
            client.purge_deleted_certificate(name)
        assert caught.value.status_code == 403
        assert caught.value.error.message.startswith('Operation "purge" is not allowed because purge protection is enabled')
    client.purge_deleted_certificate(name)


def test_backup_and_restore(certificate_client, secret_client):
    client = certificate_client()
    name = unique("backup")
    first = create(client, name)
    second = create(client, name)
    backup = client.backup_certificate(name)
    assert isinstance(backup, bytes) and len(backup) > 100
    with pytest.raises(ResourceExistsError) as caught:
        client.restore_certificate_backup(backup)
    assert_error(caught, 409, "Conflict", f"Certificate {name} already exists.")

    client.begin_delete_certificate(name).result()
    client.purge_deleted_certificate(name)
    restored = client.restore_certificate_backup(backup)
    assert restored.properties.version == second.properties.version
    assert restored.cer == second.cer
    assert client.get_certificate_version(name, first.properties.version).cer == first.cer
    assert secret_client().get_secret(name).properties.version == second.properties.version
    with pytest.raises(HttpResponseError) as caught:
        client.restore_certificate_backup(b"not a backup")
    assert_error(caught, 400, "BadParameter")


# --- contacts and issuers --------------------------------------------------------------------------


def test_contacts_set_get_delete(certificate_client):
    client = certificate_client()
    contacts = [CertificateContact(email="admin@example.com", name="Admin", phone="555-0100"), CertificateContact(email="ops@example.com")]
    stored = client.set_contacts(contacts)
    assert [(contact.email, contact.name, contact.phone) for contact in stored] == [
        ("admin@example.com", "Admin", "555-0100"), ("ops@example.com", None, None)]
    assert [contact.email for contact in client.get_contacts()] == ["admin@example.com", "ops@example.com"]
    assert [contact.email for contact in client.delete_contacts()] == ["admin@example.com", "ops@example.com"]
    with pytest.raises(ResourceNotFoundError) as caught:
        client.get_contacts()
    assert_error(caught, 404, "ContactsNotFound", "Contacts not found")


def test_issuers_crud_and_a_certificate_waiting_on_a_named_issuer(certificate_client):
    client = certificate_client()
    name = unique("issuer")
    admin = AdministratorContact(first_name="John", last_name="Doe", email="admin@example.com", phone="4255555555")
    created = client.create_issuer(name, "Test", account_id="keyvaultuser", password="issuer-password", admin_contacts=[admin])
    assert created.provider == "Test"
    assert created.account_id == "keyvaultuser"
    assert created.password is None
    assert created.enabled is True
    assert created.id == f"{client.vault_url.rstrip('/')}/certificates/issuers/{name}"
    assert [contact.email for contact in created.admin_contacts] == ["admin@example.com"]

    updated = client.update_issuer(name, account_id="keyvaultuser2", enabled=False)
    assert (updated.account_id, updated.provider, updated.enabled) == ("keyvaultuser2", "Test", False)
    assert client.get_issuer(name).account_id == "keyvaultuser2"
    assert name in {issuer.name for issuer in client.list_properties_of_issuers()}

    # The local vault reaches no certificate authority, so a named issuer's request stays in progress.
    certificate_name = unique("issued")
    client.begin_create_certificate(certificate_name, CertificatePolicy(issuer_name=name, subject="CN=issued.example"))
    operation = client.get_certificate_operation(certificate_name)
    assert operation.issuer_name == name and operation.status == "inProgress"
    assert operation.status_details == ISSUING_DETAILS
    assert client.get_certificate_policy(certificate_name).lifetime_actions[0].action == CertificatePolicyAction.auto_renew
    client.delete_certificate_operation(certificate_name)

    deleted = client.delete_issuer(name)
    assert deleted.account_id == "keyvaultuser2"
    with pytest.raises(ResourceNotFoundError) as caught:
        client.get_issuer(name)
    assert_error(caught, 404, "CertificateIssuerNotFound", "Issuer not found")


def test_decipher_only_key_usage_without_key_agreement_is_issued(certificate_client):
    # The SDK's own test_policy asks the service for exactly this and gets a certificate.
    client = certificate_client()
    name = unique("decipher")
    policy = CertificatePolicy(issuer_name="Self", subject="CN=decipher.example", key_usage=[KeyUsageType.decipher_only])
    certificate = create(client, name, policy)
    assert client.get_certificate_policy(name).key_usage == [KeyUsageType.decipher_only]
    # critical KeyUsage whose bit string holds decipherOnly (bit 8) alone; x509.KeyUsage cannot represent it
    assert bytes.fromhex("0603551d0f0101ff04050303070080") in certificate.cer


def test_platform_managed_policy_is_kept_and_left_to_the_platform(localvault, certificate_client):
    client = certificate_client()
    name = unique("platform")
    managed = PlatformManaged(certificate_usage="PublicTLSServerAuth", metadata={"sans": {"dns_names": ["platform.example"]}})
    client.begin_create_certificate(name, CertificatePolicy(platform_managed=managed))
    stored = client.get_certificate_policy(name)
    assert stored.platform_managed.certificate_usage == "PublicTLSServerAuth"
    assert stored.platform_managed.metadata == {"sans": {"dns_names": ["platform.example"]}}
    # The platform issues it; the local vault reaches no platform, as it reaches no named issuer.
    operation = client.get_certificate_operation(name)
    assert operation.status == "inProgress" and operation.status_details == ISSUING_DETAILS
    client.delete_certificate_operation(name)
    status, _headers, body = raw(localvault, "POST", f"/certificates/{unique('platform')}/create",
                                 {"policy": {"platformManaged": {"metadata": {}}}})
    assert (status, body["error"]["code"], body["error"]["message"]) == (400, "BadParameter", "Property platformManaged has invalid value")


# --- access policies -------------------------------------------------------------------------------


def test_the_vm_identity_has_no_certificate_permissions(certificate_client, localvault):
    with pytest.raises(HttpResponseError) as caught:
        list(certificate_client("vm").list_properties_of_certificates())
    assert "does not have certificates list permission" in caught.value.error.message
    with pytest.raises(HttpResponseError) as caught:
        certificate_client("vm").get_certificate(unique("denied"))
    assert caught.value.status_code == 403
    assert caught.value.error.code == "Forbidden"
    assert caught.value.error.innererror["code"] == "ForbiddenByPolicy"
    vm = localvault.identities["vm"]
    assert f"appid={vm['client_id']};oid={vm['object_id']}" in caught.value.error.message
    assert "does not have certificates get permission" in caught.value.error.message


def test_each_certificate_permission_is_enforced(localvault_factory, monkeypatch, ca):
    permissions = ["get", "list", "getissuers"]
    config = {"certificate_creation_delay_seconds": 0, "identities": [
        {"name": "reader", "permissions": {"certificates": permissions}},
        {"name": "issuer-admin", "permissions": {"certificates": ["manageissuers"]}},
    ]}
    vault = localvault_factory(config=config)
    for variable, value in vault.env.items():
        monkeypatch.setenv(variable, value)
    operator = CertificateClient(vault.vault_url, vault.credential("operator"), verify_challenge_resource=False, connection_verify=vault.ca_bundle)
    reader = CertificateClient(vault.vault_url, vault.credential("reader"), verify_challenge_resource=False, connection_verify=vault.ca_bundle)
    issuer_admin = CertificateClient(vault.vault_url, vault.credential("issuer-admin"), verify_challenge_resource=False,
                                     connection_verify=vault.ca_bundle)
    name = unique("perm")
    create(operator, name)
    operator.create_issuer("perm-issuer", "Test")

    assert reader.get_certificate(name).name == name
    assert name in {item.name for item in reader.list_properties_of_certificates()}
    assert reader.get_issuer("perm-issuer").provider == "Test"
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = sign(ca, x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "perm.example")]), key.public_key())
    denied = {
        "create": lambda: reader.begin_create_certificate(unique("perm"), CertificatePolicy.get_default()),
        "import": lambda: reader.import_certificate(unique("perm"), pkcs8(key) + pem(leaf)),
        "update": lambda: reader.update_certificate_properties(name, enabled=False),
        "delete": lambda: reader.begin_delete_certificate(name),
        "backup": lambda: reader.backup_certificate(name),
        "restore": lambda: reader.restore_certificate_backup(b"any blob"),
        "managecontacts": reader.get_contacts,
        "listissuers": lambda: list(reader.list_properties_of_issuers()),
        "setissuers": lambda: reader.create_issuer("other", "Test"),
        "deleteissuers": lambda: reader.delete_issuer("perm-issuer"),
    }
    for permission, call in denied.items():
        with pytest.raises(HttpResponseError) as caught:
            call()
        assert caught.value.status_code == 403, permission
        assert f"does not have certificates {permission} permission" in caught.value.error.message
    # manageissuers alone covers every issuer operation, and nothing else.
    assert issuer_admin.create_issuer("admin-issuer", "Test").provider == "Test"
    assert "admin-issuer" in {issuer.name for issuer in issuer_admin.list_properties_of_issuers()}
    assert issuer_admin.get_issuer("admin-issuer").name == "admin-issuer"
    issuer_admin.delete_issuer("admin-issuer")
    with pytest.raises(HttpResponseError) as caught:
        issuer_admin.get_certificate(name)
    assert "does not have certificates get permission" in caught.value.error.message

    operator.begin_delete_certificate(name).result()
    for permission, call in {"recover": lambda: reader.begin_recover_deleted_certificate(name),
                             "purge": lambda: reader.purge_deleted_certificate(name)}.items():
        with pytest.raises(HttpResponseError) as caught:
            call()
        assert f"does not have certificates {permission} permission" in caught.value.error.message


# --- names, keys that stay in the vault, restarts, concurrency ---------------------------------------


def test_latest_version_answers_with_and_without_a_trailing_slash(localvault, certificate_client):
    name = unique("slash")
    certificate = create(certificate_client(), name)
    for path in (f"/certificates/{name}/", f"/certificates/{name}"):
        status, _headers, body = raw(localvault, "GET", path)
        assert status == 200
        assert body["id"] == certificate.id and body["x5t"] == base64.urlsafe_b64encode(hashlib.sha1(certificate.cer).digest()).decode().rstrip("=")


def test_invalid_certificate_names_are_bad_parameters(certificate_client):
    with pytest.raises(HttpResponseError) as caught:
        certificate_client().begin_create_certificate("not_valid", CertificatePolicy.get_default())
    assert_error(caught, 400, "BadParameter", "The request URI contains an invalid name: not_valid")


@pytest.mark.parametrize("content_type", [CertificateContentType.pem, CertificateContentType.pkcs12])
def test_a_key_that_is_not_exportable_stays_out_of_the_backing_secret(certificate_client, secret_client, content_type):
    name = unique("hsm")
    policy = CertificatePolicy(issuer_name="Self", subject="CN=hsm.example", key_type=KeyType.rsa_hsm, content_type=content_type)
    certificate = create(certificate_client(), name, policy)
    assert certificate.policy.exportable is False
    value = secret_client().get_secret(name).value
    if content_type == CertificateContentType.pem:
        assert "PRIVATE KEY" not in value
        assert der(x509.load_pem_x509_certificate(value.encode())) == certificate.cer
    else:
        key, x509_certificate, additional = pkcs12.load_key_and_certificates(base64.b64decode(value), None)
        assert key is None
        assert [der(item) for item in [x509_certificate, *additional] if item is not None] == [certificate.cer]


def test_certificates_and_pending_operations_survive_a_restart(localvault_factory, monkeypatch, tmp_path):
    state_dir = tmp_path / "state"
    config = {"certificate_creation_delay_seconds": 0}

    def clients(vault):
        for variable, value in vault.env.items():
            monkeypatch.setenv(variable, value)
        return (CertificateClient(vault.vault_url, vault.credential(), verify_challenge_resource=False, connection_verify=vault.ca_bundle),
                vault.secret_client())

    vault = localvault_factory(config=config, state_dir=state_dir)
    client, _secrets = clients(vault)
    issued = create(client, "kept")
    csr = client.begin_create_certificate("csr", CertificatePolicy(issuer_name="Unknown", subject="CN=csr.example")).result().csr
    assert vault.stop() == 0

    restarted = localvault_factory(config=config, state_dir=state_dir)
    client, secrets = clients(restarted)
    assert client.get_certificate("kept").cer == issued.cer
    assert secrets.get_secret("kept").properties.version == issued.properties.version
    operation = client.get_certificate_operation("csr")
    assert operation.status == "inProgress" and operation.csr == csr


def test_concurrent_creates_of_one_name_make_one_operation(certificate_client):
    name = unique("race")
    outcomes = []

    def attempt():
        try:
            certificate_client().begin_create_certificate(name, CertificatePolicy(issuer_name="Unknown", subject="CN=race.example"))
            outcomes.append(202)
        except HttpResponseError as error:
            outcomes.append(error.status_code)

    threads = [threading.Thread(target=attempt) for _attempt in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [202, 409, 409, 409]
    assert len(list(certificate_client().list_properties_of_certificate_versions(name))) == 1
