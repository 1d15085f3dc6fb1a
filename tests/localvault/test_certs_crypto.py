"""Unit tests of the local vault's certificate crypto and certificate policies (no server)."""

import base64
import datetime
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from localvault import cert_policy, certs
from localvault.certs import CertificateError

NOW = datetime.datetime(2026, 3, 15, 12, 0, 0, tzinfo=datetime.timezone.utc)
DEFAULT_POLICY_REQUEST = {"x509_props": {"subject": "CN=DefaultPolicy", "sans": {}}, "issuer": {"name": "Self"}}


def policy(**sections):
    """A complete policy from a default request with some sections replaced."""
    request = {"x509_props": {"subject": "CN=unit.example"}, "issuer": {"name": "Self"}}
    request.update(sections)
    return cert_policy.complete_policy(request)


@pytest.fixture(scope="module", name="rsa_key")
def fixture_rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module", name="ca")
def fixture_ca():
    """A small CA (key, certificate) that signs leaf certificates for merge and import tests."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Unit Test CA")])
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - datetime.timedelta(days=1)).not_valid_after(NOW + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def issue(ca, public_key, subject="CN=leaf.example", not_after=None, sans=None):
    ca_key, ca_certificate = ca
    not_after = not_after or certs.add_months(NOW, 12)
    builder = (
        x509.CertificateBuilder().subject_name(certs.parse_subject(subject)).issuer_name(ca_certificate.subject)
        .public_key(public_key).serial_number(x509.random_serial_number())
        .not_valid_before(min(NOW, not_after) - datetime.timedelta(minutes=10))
        .not_valid_after(not_after)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(ca_key, hashes.SHA256())


def pem_of(*objects):
    parts = []
    for item in objects:
        if isinstance(item, x509.Certificate):
            parts.append(item.public_bytes(serialization.Encoding.PEM))
        else:
            parts.append(item)
    return b"".join(parts)


def pkcs8(key, password=None):
    encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def b64(data):
    return base64.b64encode(data).decode("ascii")


def assert_rejected(call, message, inner_code=None):
    with pytest.raises(CertificateError) as caught:
        call()
    assert caught.value.message == message
    assert caught.value.inner_code == inner_code


# --- policy defaults and validation -------------------------------------------------------------


def test_default_policy_gets_the_service_defaults():
    completed = cert_policy.complete_policy(DEFAULT_POLICY_REQUEST)
    assert completed == {
        "key_props": {"exportable": True, "kty": "RSA", "key_size": 2048, "reuse_key": False},
        "secret_props": {"contentType": "application/x-pkcs12"},
        "x509_props": {
            "subject": "CN=DefaultPolicy",
            "sans": {},
            "ekus": ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"],
            "key_usage": ["digitalSignature", "keyEncipherment"],
            "validity_months": 12,
            "basic_constraints": {"ca": False},
        },
        "lifetime_actions": [{"trigger": {"lifetime_percentage": 80}, "action": {"action_type": "AutoRenew"}}],
        "issuer": {"name": "Self"},
        "attributes": {"enabled": True},
    }


def test_unknown_issuer_defaults_to_emailing_contacts_and_keeps_issuer_fields():
    completed = cert_policy.complete_policy({"x509_props": {"subject": "cn=MyCert"}, "issuer": {"name": "Unknown", "cert_transparency": False}})
    assert completed["lifetime_actions"] == [{"trigger": {"lifetime_percentage": 80}, "action": {"action_type": "EmailContacts"}}]
    assert completed["issuer"] == {"name": "Unknown", "cert_transparency": False}
    assert completed["x509_props"]["subject"] == "cn=MyCert"
    assert "sans" not in completed["x509_props"]


def test_null_members_count_as_not_given():
    completed = cert_policy.complete_policy({"key_props": {"kty": None, "key_size": None}, "x509_props": {"subject": "CN=x", "ekus": None}})
    assert completed["key_props"]["kty"] == "RSA"
    assert completed["x509_props"]["ekus"] == list(cert_policy.DEFAULT_EKUS)


@pytest.mark.parametrize("key_props, expected_curve, expected_size", [
    ({"kty": "EC"}, "P-256", 256),
    ({"kty": "EC", "key_size": 384}, "P-384", 384),
    ({"kty": "EC", "crv": "P-521"}, "P-521", 521),
    ({"kty": "EC-HSM", "crv": "P-256K"}, "P-256K", 256),
])
def test_ec_key_properties_are_completed(key_props, expected_curve, expected_size):
    completed = policy(key_props=key_props)["key_props"]
    assert completed["crv"] == expected_curve
    assert completed["key_size"] == expected_size
    assert completed["exportable"] is not key_props["kty"].endswith("-HSM")


@pytest.mark.parametrize("sections, message, inner_code", [
    ({"key_props": {"kty": "RSA", "key_size": 1024}}, "Unsupported key size (1024). Supported sizes are [2048, 3072, 4096]", "KeySizeNotSupported"),
    ({"key_props": {"kty": "EC", "key_size": 2048}}, "Unsupported key size (2048). Supported sizes are [256, 384, 521]", "KeySizeNotSupported"),
    ({"key_props": {"kty": "EC", "crv": "P-384", "key_size": 256}}, "Property key_size has invalid value", None),
    ({"key_props": {"kty": "EC", "crv": "P-192"}}, "Property crv has invalid value", None),
    ({"key_props": {"kty": "RSA", "crv": "P-256"}}, "Property crv has invalid value", None),
    ({"key_props": {"kty": "oct"}}, "Property kty has invalid value", None),
    ({"key_props": {"kty": "RSA-HSM", "exportable": True}}, "Property exportable has invalid value", None),
    ({"key_props": {"reuse_key": "yes"}}, "Property reuse_key has invalid value", None),
    ({"secret_props": {"contentType": "text/plain"}}, "Property contentType has invalid value", None),
    ({"x509_props": {"subject": "CN=x", "validity_months": 0}}, "Property validity_months has invalid value", None),
    ({"x509_props": {"subject": "CN=x", "validity_months": 1201}}, "Property validity_months has invalid value", None),
    ({"x509_props": {"subject": "CN=x", "ekus": ["serverAuth"]}}, "Property ekus has invalid value", None),
    ({"x509_props": {"subject": "CN=x", "ekus": ["0.99"]}}, "Property ekus has invalid value", None),
    ({"x509_props": {"subject": "CN=x", "key_usage": ["signEverything"]}}, "Property key_usage has invalid value", None),
    ({"platformManaged": {"metadata": {"sans": {}}}}, "Property platformManaged has invalid value", None),
    ({"platformManaged": {"certificateUsage": "PublicTLSServerAuth", "metadata": ["not", "an", "object"]}},
     "Property platformManaged has invalid value", None),
    ({"x509_props": {"sans": {}}}, "Property subject has invalid value", None),
    ({"x509_props": {"subject": "no equals sign"}}, "Property subject has invalid value", None),
    ({"x509_props": {"subject": "CN=x", "sans": {"ipAddresses": ["300.1.1.1"]}}}, "Property sans has invalid value", None),
    ({"lifetime_actions": [{"trigger": {"lifetime_percentage": 80}, "action": {"action_type": "AutoRenew"}},
                           {"trigger": {"days_before_expiry": 30}, "action": {"action_type": "EmailContacts"}}]},
     "At most one action is allowed", None),
    ({"lifetime_actions": [{"trigger": {"lifetime_percentage": 80, "days_before_expiry": 3}, "action": {"action_type": "AutoRenew"}}]},
     "Property trigger has invalid value", None),
    ({"lifetime_actions": [{"trigger": {"lifetime_percentage": 100}, "action": {"action_type": "AutoRenew"}}]},
     "Property lifetime_percentage has invalid value", None),
    ({"lifetime_actions": [{"trigger": {"days_before_expiry": 12 * 27 + 1}, "action": {"action_type": "AutoRenew"}}]},
     "Property days_before_expiry has invalid value", None),
    ({"lifetime_actions": [{"trigger": {"days_before_expiry": 30}, "action": {"action_type": "Renew"}}]},
     "Property action_type has invalid value", None),
])
def test_invalid_policies_are_bad_parameters(sections, message, inner_code):
    assert_rejected(lambda: policy(**sections), message, inner_code)


def test_policy_must_be_an_object():
    assert_rejected(lambda: cert_policy.complete_policy("CN=x"), "Property policy has invalid value")


def test_update_merges_members_and_keeps_the_rest():
    current = policy(lifetime_actions=[{"trigger": {"days_before_expiry": 30}, "action": {"action_type": "EmailContacts"}}])
    current["attributes"] = {"enabled": True, "created": 100, "updated": 100}
    updated = cert_policy.update_policy(current, {"x509_props": {"subject": "CN=new.example", "validity_months": 24}, "secret_props": None})
    assert updated["x509_props"]["subject"] == "CN=new.example"
    assert updated["x509_props"]["validity_months"] == 24
    assert updated["x509_props"]["ekus"] == current["x509_props"]["ekus"]
    assert updated["lifetime_actions"] == current["lifetime_actions"]
    assert updated["attributes"] == {"enabled": True, "created": 100, "updated": 100}


def test_update_to_another_key_type_takes_that_types_defaults():
    updated = cert_policy.update_policy(policy(key_props={"kty": "RSA", "key_size": 4096}), {"key_props": {"kty": "EC"}})
    assert updated["key_props"] == {"exportable": True, "kty": "EC", "key_size": 256, "reuse_key": False, "crv": "P-256"}
    to_hsm = cert_policy.update_policy(policy(), {"key_props": {"kty": "RSA-HSM"}})
    assert to_hsm["key_props"]["exportable"] is False


def test_platform_managed_policy_needs_no_subject_and_survives_an_update():
    requested = {"platformManaged": {"certificateUsage": "PublicTLSServerAuth", "metadata": {"sans": {"dns_names": ["a.example"]}}}}
    completed = cert_policy.complete_policy(requested)
    assert completed["platformManaged"] == requested["platformManaged"]
    assert "subject" not in completed["x509_props"] and cert_policy.is_platform_managed(completed)
    updated = cert_policy.update_policy(completed, {"x509_props": {"validity_months": 6}})
    assert updated["platformManaged"] == requested["platformManaged"] and updated["x509_props"]["validity_months"] == 6
    replaced = cert_policy.update_policy(completed, {"platformManaged": {"certificateUsage": "PublicTLSClientAuth"}})
    assert replaced["platformManaged"] == {"certificateUsage": "PublicTLSClientAuth"}
    assert not cert_policy.is_platform_managed(policy())


def test_update_is_validated_like_a_new_policy():
    assert_rejected(lambda: cert_policy.update_policy(policy(), {"x509_props": {"validity_months": -1}}), "Property validity_months has invalid value")


# --- subject names -------------------------------------------------------------------------------


def test_subject_lists_the_most_specific_attribute_first():
    name = certs.parse_subject("CN=www.example.com, O=Example Ltd, C=US")
    assert [attribute.oid for attribute in name] == [NameOID.COUNTRY_NAME, NameOID.ORGANIZATION_NAME, NameOID.COMMON_NAME]
    assert name.rfc4514_string() == "CN=www.example.com,O=Example Ltd,C=US"


def test_subject_accepts_quotes_escapes_semicolons_and_oids():
    name = certs.parse_subject('cn=a\\, b; OU="Sales, EMEA"; E=admin@example.com; S=Bavaria; OID.2.5.4.5=1234')
    values = {attribute.oid: attribute.value for attribute in name}
    assert values == {
        NameOID.COMMON_NAME: "a, b",
        NameOID.ORGANIZATIONAL_UNIT_NAME: "Sales, EMEA",
        NameOID.EMAIL_ADDRESS: "admin@example.com",
        NameOID.STATE_OR_PROVINCE_NAME: "Bavaria",
        NameOID.SERIAL_NUMBER: "1234",
    }


def test_subject_is_formatted_the_way_the_service_shows_it():
    name = certs.parse_subject('CN=sss, OU=cc, O="ffbb, inc", S=aabb, C=FR, E=eff@ee.com')
    assert certs.format_subject(name) == 'CN=sss, OU=cc, O="ffbb, inc", S=aabb, C=FR, E=eff@ee.com'


@pytest.mark.parametrize("subject", ["CN", "=value", "XX=unknown keyword", 'CN="unterminated', "CN=x\\", "CN=", "C=USA", "CN=" + "a" * 65, "OID.1.40=x"])
def test_malformed_subjects_are_rejected(subject):
    assert_rejected(lambda: certs.parse_subject(subject), "Property subject has invalid value")


def test_empty_subject_is_an_empty_name():
    assert len(certs.parse_subject("")) == 0


# --- self-signed certificates --------------------------------------------------------------------


@pytest.mark.parametrize("key_props, key_class, size, digest", [
    ({"kty": "RSA", "key_size": 3072}, rsa.RSAPublicKey, 3072, hashes.SHA256),
    ({"kty": "RSA-HSM", "key_size": 4096, "exportable": False}, rsa.RSAPublicKey, 4096, hashes.SHA256),
    ({"kty": "EC", "crv": "P-256"}, ec.EllipticCurvePublicKey, 256, hashes.SHA256),
    ({"kty": "EC", "crv": "P-384"}, ec.EllipticCurvePublicKey, 384, hashes.SHA384),
    ({"kty": "EC-HSM", "crv": "P-521"}, ec.EllipticCurvePublicKey, 521, hashes.SHA512),
    ({"kty": "EC", "crv": "P-256K"}, ec.EllipticCurvePublicKey, 256, hashes.SHA256),
])
def test_self_signed_certificate_for_each_key_type(key_props, key_class, size, digest):
    completed = policy(key_props=key_props)
    key = certs.generate_private_key(completed["key_props"])
    certificate = certs.build_self_signed(key, completed["x509_props"], NOW)
    assert isinstance(certificate.public_key(), key_class)
    assert certificate.public_key().key_size == size
    assert isinstance(certificate.signature_hash_algorithm, digest)
    certificate.verify_directly_issued_by(certificate)
    assert certs.key_matches_properties(key, completed["key_props"])


def test_self_signed_certificate_follows_the_policy(rsa_key):
    x509_props = policy(x509_props={
        "subject": "CN=app.example, O=Example",
        "sans": {"dns_names": ["app.example", "www.app.example"], "ipAddresses": ["10.1.2.3", "2001:db8::1"],
                 "emails": ["ops@example.com"], "upns": ["svc@example.com"], "uris": ["https://app.example/"]},
        "ekus": ["1.3.6.1.5.5.7.3.1"],
        "key_usage": ["digitalSignature", "keyAgreement", "decipherOnly"],
        "validity_months": 3,
    })["x509_props"]
    certificate = certs.build_self_signed(rsa_key, x509_props, NOW)
    assert certificate.subject == certificate.issuer == certs.parse_subject("CN=app.example, O=Example")
    assert certificate.not_valid_before_utc == NOW - datetime.timedelta(minutes=10)
    assert certificate.not_valid_after_utc == datetime.datetime(2026, 6, 15, 12, 0, 0, tzinfo=datetime.timezone.utc)
    extensions = certificate.extensions
    key_usage = extensions.get_extension_for_class(x509.KeyUsage)
    assert key_usage.critical
    assert key_usage.value.digital_signature and key_usage.value.key_agreement and key_usage.value.decipher_only
    assert not key_usage.value.key_encipherment and not key_usage.value.encipher_only
    assert list(extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    san = extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert not san.critical
    assert san.value.get_values_for_type(x509.DNSName) == ["app.example", "www.app.example"]
    assert san.value.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("10.1.2.3"), ipaddress.ip_address("2001:db8::1")]
    assert san.value.get_values_for_type(x509.RFC822Name) == ["ops@example.com"]
    assert san.value.get_values_for_type(x509.UniformResourceIdentifier) == ["https://app.example/"]
    assert certs.describe_certificate(certificate)["sans"]["upns"] == ["svc@example.com"]
    key_id = extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    assert extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier == key_id


@pytest.mark.parametrize("usages, bit_string", [
    (["decipherOnly"], "0303070080"),
    (["encipherOnly"], "03020001"),
    (["digitalSignature", "decipherOnly"], "0303078080"),
])
def test_encipher_or_decipher_only_without_key_agreement_is_issued_as_asked(rsa_key, usages, bit_string):
    # RFC 5280 leaves these bits undefined without keyAgreement and x509.KeyUsage refuses them, but the
    # service issues such a certificate, so the DER is checked directly: critical KeyUsage holding exactly these bits.
    completed = policy(x509_props={"subject": "CN=x", "key_usage": usages})
    assert completed["x509_props"]["key_usage"] == usages
    extension = bytes.fromhex("0603551d0f" + "0101ff" + "04%02x" % (len(bit_string) // 2) + bit_string)
    certificate = certs.build_self_signed(rsa_key, completed["x509_props"], NOW)
    assert extension in certificate.public_bytes(serialization.Encoding.DER)
    assert extension in certs.build_csr(rsa_key, completed["x509_props"]).public_bytes(serialization.Encoding.DER)


def test_key_usage_encoding_matches_cryptography_for_every_combination_it_allows():
    for mask in range(1 << len(certs.KEY_USAGES)):
        usages = [name for index, name in enumerate(certs.KEY_USAGES) if mask & (1 << index)]
        if {"encipherOnly", "decipherOnly"} & set(usages) and "keyAgreement" not in usages:
            continue
        flags = {argument: name in usages for name, argument in zip(certs.KEY_USAGES, certs._KEY_USAGE_ARGUMENTS)}  # pylint: disable=protected-access
        assert certs.key_usage_extension(usages).value == x509.KeyUsage(**flags).public_bytes(), usages


def test_san_only_certificate_has_an_empty_subject_and_critical_san(rsa_key):
    x509_props = policy(x509_props={"sans": {"dns_names": ["only.example"]}})["x509_props"]
    certificate = certs.build_self_signed(rsa_key, x509_props, NOW)
    assert len(certificate.subject) == 0
    assert certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).critical


def test_long_upn_survives_the_round_trip(rsa_key):
    upn = "u" * 200 + "@example.com"
    certificate = certs.build_self_signed(rsa_key, policy(x509_props={"subject": "CN=x", "sans": {"upns": [upn]}})["x509_props"], NOW)
    assert certs.describe_certificate(certificate)["sans"] == {"upns": [upn]}


def test_empty_key_usage_and_ekus_leave_the_extensions_out(rsa_key):
    certificate = certs.build_self_signed(rsa_key, policy(x509_props={"subject": "CN=x", "key_usage": [], "ekus": []})["x509_props"], NOW)
    classes = {type(extension.value) for extension in certificate.extensions}
    assert x509.KeyUsage not in classes and x509.ExtendedKeyUsage not in classes


def test_ca_basic_constraint_is_honoured(rsa_key):
    x509_props = policy(x509_props={"subject": "CN=ca", "basic_constraints": {"ca": True}})["x509_props"]
    certificate = certs.build_self_signed(rsa_key, x509_props, NOW)
    assert certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True


def test_reuse_only_matches_the_same_key_type_and_size(rsa_key):
    assert certs.key_matches_properties(rsa_key, policy()["key_props"])
    assert not certs.key_matches_properties(rsa_key, policy(key_props={"key_size": 3072})["key_props"])
    assert not certs.key_matches_properties(rsa_key, policy(key_props={"kty": "EC"})["key_props"])


def test_month_arithmetic_clamps_to_the_end_of_the_month():
    january_end = datetime.datetime(2027, 1, 31, 8, 30, tzinfo=datetime.timezone.utc)
    assert certs.add_months(january_end, 1) == datetime.datetime(2027, 2, 28, 8, 30, tzinfo=datetime.timezone.utc)
    assert certs.add_months(january_end, 13) == datetime.datetime(2028, 2, 29, 8, 30, tzinfo=datetime.timezone.utc)
    assert certs.add_months(january_end, 0) == january_end


def test_validity_months_round_up_like_the_service_reports_them():
    # A certificate the service made for 12 months starts 10 minutes early, so it reports 13.
    assert certs.validity_months_between(NOW - certs.NOT_BEFORE_SKEW, certs.add_months(NOW, 12)) == 13
    assert certs.validity_months_between(NOW, certs.add_months(NOW, 12)) == 12


# --- CSR and merge -------------------------------------------------------------------------------


def test_csr_carries_subject_key_and_requested_extensions(rsa_key):
    x509_props = policy(x509_props={"subject": "CN=csr.example", "sans": {"dns_names": ["csr.example"]}})["x509_props"]
    csr = x509.load_der_x509_csr(base64.b64decode(certs.csr_to_base64(certs.build_csr(rsa_key, x509_props))))
    assert csr.is_signature_valid
    assert csr.subject == certs.parse_subject("CN=csr.example")
    assert csr.public_key().public_numbers() == rsa_key.public_key().public_numbers()
    classes = {type(extension.value) for extension in csr.extensions}
    assert classes == {x509.KeyUsage, x509.BasicConstraints, x509.ExtendedKeyUsage, x509.SubjectAlternativeName}


def test_merge_puts_the_leaf_for_the_pending_key_first(rsa_key, ca):
    leaf = issue(ca, rsa_key.public_key())
    ca_der = ca[1].public_bytes(serialization.Encoding.DER)
    chain = certs.merge_chain(rsa_key, [ca_der, leaf.public_bytes(serialization.Encoding.DER)])
    assert chain == [leaf, ca[1]]
    assert certs.merge_chain(rsa_key, [pem_of(ca[1], leaf)]) == [leaf, ca[1]]


def test_merge_takes_the_base64_text_of_a_certificate_without_pem_armour(rsa_key, ca):
    leaf = issue(ca, rsa_key.public_key())
    text = base64.b64encode(leaf.public_bytes(serialization.Encoding.DER))
    assert certs.merge_chain(rsa_key, [text]) == [leaf]
    assert certs.merge_chain(rsa_key, [text[:40] + b"\r\n" + text[40:]]) == [leaf]


def test_merge_rejects_certificates_for_another_key(rsa_key, ca):
    other = issue(ca, ec.generate_private_key(ec.SECP256R1()).public_key())
    assert_rejected(lambda: certs.merge_chain(rsa_key, [other.public_bytes(serialization.Encoding.DER)]), certs.X5C_NO_LEAF_ERROR)
    assert_rejected(lambda: certs.merge_chain(rsa_key, [b"not a certificate"]), certs.X5C_EMPTY_ERROR)
    assert_rejected(lambda: certs.merge_chain(rsa_key, [b"-----BEGIN PKCS7-----\nAAAA\n-----END PKCS7-----\n"]), certs.X5C_EMPTY_ERROR)


# --- import --------------------------------------------------------------------------------------


def test_pem_bundle_import_orders_the_chain_and_accepts_raw_or_base64(rsa_key, ca):
    leaf = issue(ca, rsa_key.public_key())
    bundle = pem_of(ca[1], pkcs8(rsa_key), leaf)
    for value in (b64(bundle), bundle.decode("ascii")):
        key, chain = certs.load_import(value, None, certs.PEM_CONTENT_TYPE, NOW)
        assert key.private_numbers() == rsa_key.private_numbers()
        assert chain == [leaf, ca[1]]


def test_encrypted_pkcs8_key_needs_its_password(ca):
    key = ec.generate_private_key(ec.SECP384R1())
    bundle = b64(pem_of(pkcs8(key, b"s3cret"), issue(ca, key.public_key())))
    imported, _chain = certs.load_import(bundle, "s3cret", certs.PEM_CONTENT_TYPE, NOW)
    assert imported.private_numbers() == key.private_numbers()
    assert_rejected(lambda: certs.load_import(bundle, "wrong", certs.PEM_CONTENT_TYPE, NOW), certs.PEM_FORMAT_ERROR)
    assert_rejected(lambda: certs.load_import(bundle, None, certs.PEM_CONTENT_TYPE, NOW), certs.PEM_FORMAT_ERROR)


@pytest.mark.parametrize("private_format", [serialization.PrivateFormat.TraditionalOpenSSL])
def test_only_pkcs8_keys_are_accepted_in_pem(rsa_key, ca, private_format):
    traditional_rsa = rsa_key.private_bytes(serialization.Encoding.PEM, private_format, serialization.NoEncryption())
    ec_key = ec.generate_private_key(ec.SECP256R1())
    traditional_ec = ec_key.private_bytes(serialization.Encoding.PEM, private_format, serialization.NoEncryption())
    assert traditional_rsa.startswith(b"-----BEGIN RSA PRIVATE KEY-----")
    assert traditional_ec.startswith(b"-----BEGIN EC PRIVATE KEY-----")
    for bundle in (pem_of(traditional_rsa, issue(ca, rsa_key.public_key())), pem_of(traditional_ec, issue(ca, ec_key.public_key()))):
        assert_rejected(lambda value=b64(bundle): certs.load_import(value, None, certs.PEM_CONTENT_TYPE, NOW), certs.PEM_FORMAT_ERROR)


def test_pem_import_errors(rsa_key, ca):
    leaf = issue(ca, rsa_key.public_key())
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    expired = issue(ca, rsa_key.public_key(), not_after=NOW - datetime.timedelta(days=1))
    cases = [
        (pem_of(leaf), certs.PEM_MISSING_KEY_ERROR),
        (pem_of(pkcs8(rsa_key)), certs.PEM_FORMAT_ERROR),
        (pem_of(pkcs8(rsa_key), leaf).replace(b"\n", b"\r\n"), certs.PEM_FORMAT_ERROR),
        (pem_of(pkcs8(other_key), leaf), certs.KEY_MISMATCH_ERROR),
        (pem_of(pkcs8(rsa_key), expired), certs.EXPIRED_ERROR),
        (b"plain text", certs.PEM_FORMAT_ERROR),
    ]
    for bundle, message in cases:
        assert_rejected(lambda value=b64(bundle): certs.load_import(value, None, certs.PEM_CONTENT_TYPE, NOW), message)
    assert_rejected(lambda: certs.load_import("%%% not base64", None, certs.PEM_CONTENT_TYPE, NOW), certs.PEM_FORMAT_ERROR)


def test_pem_content_needs_the_pem_content_type(rsa_key, ca):
    bundle = b64(pem_of(pkcs8(rsa_key), issue(ca, rsa_key.public_key())))
    assert_rejected(lambda: certs.load_import(bundle, None, certs.PKCS12_CONTENT_TYPE, NOW), certs.PKCS12_FORMAT_ERROR)


def test_pkcs12_import_with_and_without_password(rsa_key, ca):
    leaf = issue(ca, rsa_key.public_key())
    protected = pkcs12.serialize_key_and_certificates(b"x", rsa_key, leaf, [ca[1]], serialization.BestAvailableEncryption(b"pfx-pass"))
    key, chain = certs.load_import(b64(protected), "pfx-pass", certs.PKCS12_CONTENT_TYPE, NOW)
    assert key.private_numbers() == rsa_key.private_numbers()
    assert chain == [leaf, ca[1]]
    assert_rejected(lambda: certs.load_import(b64(protected), "wrong", certs.PKCS12_CONTENT_TYPE, NOW), certs.PKCS12_FORMAT_ERROR)
    assert_rejected(lambda: certs.load_import(b64(protected), None, certs.PKCS12_CONTENT_TYPE, NOW), certs.PKCS12_FORMAT_ERROR)
    assert_rejected(lambda: certs.load_import(b64(protected), "pfx-pass", certs.PEM_CONTENT_TYPE, NOW), certs.PEM_FORMAT_ERROR)
    open_pfx = pkcs12.serialize_key_and_certificates(None, rsa_key, leaf, None, serialization.NoEncryption())
    assert certs.load_import(b64(open_pfx), None, certs.PKCS12_CONTENT_TYPE, NOW)[1] == [leaf]
    without_key = pkcs12.serialize_key_and_certificates(None, None, leaf, None, serialization.NoEncryption())
    assert_rejected(lambda: certs.load_import(b64(without_key), None, certs.PKCS12_CONTENT_TYPE, NOW), certs.PKCS12_MISSING_KEY_ERROR)
    assert_rejected(lambda: certs.load_import(b64(b"garbage"), None, certs.PKCS12_CONTENT_TYPE, NOW), certs.PKCS12_FORMAT_ERROR)


def test_imported_certificate_gets_a_derived_policy(ca):
    key = ec.generate_private_key(ec.SECP384R1())
    sans = [x509.DNSName("imported.example"), x509.IPAddress(ipaddress.ip_address("192.0.2.7"))]
    leaf = issue(ca, key.public_key(), subject="CN=imported.example, O=Example", sans=sans)
    derived = cert_policy.import_policy(None, key, leaf, certs.PEM_CONTENT_TYPE)
    assert derived == {
        "key_props": {"exportable": True, "kty": "EC", "key_size": 384, "reuse_key": False, "crv": "P-384"},
        "secret_props": {"contentType": "application/x-pem-file"},
        "x509_props": {
            "subject": "CN=imported.example, O=Example",
            "sans": {"dns_names": ["imported.example"], "ipAddresses": ["192.0.2.7"]},
            "validity_months": 13,
            "basic_constraints": {"ca": False},
        },
        "lifetime_actions": [{"trigger": {"lifetime_percentage": 80}, "action": {"action_type": "EmailContacts"}}],
        "issuer": {"name": "Unknown"},
        "attributes": {"enabled": True},
    }


def test_import_policy_takes_the_requested_settings_that_fit_the_material(rsa_key, ca):
    leaf = issue(ca, rsa_key.public_key())
    requested = {"key_props": {"exportable": False, "reuse_key": True, "kty": "EC"}, "x509_props": {"subject": "CN=ignored"},
                 "lifetime_actions": [{"trigger": {"days_before_expiry": 30}, "action": {"action_type": "AutoRenew"}}],
                 "issuer": {"name": "Self"}}
    derived = cert_policy.import_policy(requested, rsa_key, leaf, certs.PKCS12_CONTENT_TYPE)
    assert derived["key_props"] == {"exportable": False, "kty": "RSA", "key_size": 2048, "reuse_key": True}
    assert derived["x509_props"]["subject"] == "CN=leaf.example"
    assert derived["lifetime_actions"] == requested["lifetime_actions"]
    assert derived["issuer"] == {"name": "Self"}


# --- backing secret, x5t and cer -----------------------------------------------------------------


def test_pem_secret_is_the_pkcs8_key_then_the_chain(rsa_key, ca):
    leaf = issue(ca, rsa_key.public_key())
    value = certs.backing_secret_value(rsa_key, [leaf, ca[1]], certs.PEM_CONTENT_TYPE)
    assert value.startswith("-----BEGIN PRIVATE KEY-----\n")
    key = serialization.load_pem_private_key(value.encode(), password=None)
    assert key.private_numbers() == rsa_key.private_numbers()
    assert x509.load_pem_x509_certificates(value.encode()) == [leaf, ca[1]]
    assert certs.backing_secret_value(None, [leaf], certs.PEM_CONTENT_TYPE) == leaf.public_bytes(serialization.Encoding.PEM).decode()


def test_pkcs12_secret_opens_with_an_empty_password(rsa_key, ca):
    leaf = issue(ca, rsa_key.public_key())
    pfx = base64.b64decode(certs.backing_secret_value(rsa_key, [leaf, ca[1]], certs.PKCS12_CONTENT_TYPE))
    for password in (None, b""):
        key, certificate, additional = pkcs12.load_key_and_certificates(pfx, password)
        assert key.private_numbers() == rsa_key.private_numbers()
        assert certificate == leaf
        assert additional == [ca[1]]
    without_key = base64.b64decode(certs.backing_secret_value(None, [leaf], certs.PKCS12_CONTENT_TYPE))
    key, certificate, additional = pkcs12.load_key_and_certificates(without_key, None)
    assert key is None
    assert [item for item in [certificate, *additional] if item is not None] == [leaf]


def test_x5t_and_cer_describe_the_der_certificate(rsa_key):
    certificate = certs.build_self_signed(rsa_key, policy()["x509_props"], NOW)
    expected_x5t = base64.urlsafe_b64encode(certificate.fingerprint(hashes.SHA1())).decode().rstrip("=")
    assert certs.x5t(certificate) == expected_x5t
    assert "=" not in certs.x5t(certificate) and len(certs.x5t(certificate)) == 27
    assert certs.certificate_from_base64(certs.certificate_to_base64(certificate)) == certificate
    assert base64.b64decode(certs.certificate_to_base64(certificate)) == certificate.public_bytes(serialization.Encoding.DER)


def test_stored_key_round_trip(rsa_key):
    assert certs.private_key_from_pem(certs.private_key_to_pem(rsa_key)).private_numbers() == rsa_key.private_numbers()
    signature = rsa_key.sign(b"data", padding.PKCS1v15(), hashes.SHA256())
    certs.private_key_from_pem(certs.private_key_to_pem(rsa_key)).public_key().verify(signature, b"data", padding.PKCS1v15(), hashes.SHA256())


def test_pfx_secret_converts_to_pem(rsa_key, ca):
    leaf = issue(ca, rsa_key.public_key())
    pfx_value = certs.backing_secret_value(rsa_key, [leaf, ca[1]], certs.PKCS12_CONTENT_TYPE)
    pem_value = certs.backing_secret_value(rsa_key, [leaf, ca[1]], certs.PEM_CONTENT_TYPE)
    assert certs.convert_backing_secret(pfx_value, certs.PKCS12_CONTENT_TYPE, certs.PEM_CONTENT_TYPE) == pem_value
    assert certs.convert_backing_secret(pfx_value, certs.PKCS12_CONTENT_TYPE, certs.PKCS12_CONTENT_TYPE) == pfx_value
    public_only = certs.backing_secret_value(None, [leaf], certs.PKCS12_CONTENT_TYPE)
    assert certs.convert_backing_secret(public_only, certs.PKCS12_CONTENT_TYPE, certs.PEM_CONTENT_TYPE) == pem_of(leaf).decode()
    assert_rejected(lambda: certs.convert_backing_secret(pem_value, certs.PEM_CONTENT_TYPE, certs.PKCS12_CONTENT_TYPE), certs.OUT_CONTENT_TYPE_ERROR)
