"""Every REST operation of the Key Vault OpenAPI files is served, and its responses validate against them.

The OpenAPI descriptions live outside the repository (``../shared/kvspec/`` next to the checkout, as
on CI); a user's clone has no such folder, so this module is skipped there and only there.

The SDK drives one scenario per file; a response hook records every response, each is matched to
its operation by method and path, and its body is validated against the schema the spec gives for
its status (``default``, the KeyVaultError, for errors). Objects are validated strictly: a property
the spec does not define is an error.
"""

import copy
import datetime
import json
import os
import re
import urllib.parse
import uuid

import jsonschema
import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.keyvault.certificates import (CertificateClient, CertificateContact, CertificatePolicy, CertificateContentType,
                                         WellKnownIssuerNames)
from azure.keyvault.secrets import SecretClient
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

SPEC_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))), "shared", "kvspec")

pytestmark = pytest.mark.skipif(not os.path.isdir(SPEC_DIR), reason=f"the Key Vault OpenAPI files are not at {SPEC_DIR}")


# Properties the service is observed to send although the spec does not define them, keyed by a property
# that marks the schema they belong to: the policy defaults the service fills in include basic_constraints
# (kvspec README); recordings of real vaults in the Azure SDK repositories show "pending" on a certificate
# whose creation operation exists, and "zip": 0 added to an issuer's organization details.
UNDOCUMENTED_PROPERTIES = {
    "validity_months": {"basic_constraints": {"type": "object", "properties": {"ca": {"type": "boolean"}}, "additionalProperties": False}},
    "sid": {"pending": {"type": "object", "properties": {"id": {"type": "string"}}, "additionalProperties": False}},
    "admin_details": {"zip": {"type": "integer"}},
}


def _strict(schema):
    """A copy of a swagger schema that refuses unknown properties and allows what the service sends as null."""
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    strict = {key: _strict(value) for key, value in schema.items()}
    if "properties" in strict:
        strict.setdefault("additionalProperties", False)
        for marker, extra in UNDOCUMENTED_PROPERTIES.items():
            if marker in strict["properties"]:
                strict["properties"].update(extra)
        if "nextLink" in strict["properties"]:
            # The service ends paging with "nextLink": null (kvspec README) although the spec types it as a string.
            strict["properties"]["nextLink"] = {"type": ["string", "null"]}
    if strict.get("x-nullable") and isinstance(strict.get("type"), str):
        strict["type"] = [strict["type"], "null"]
    return strict


class Spec:
    """Operations of one OpenAPI file, found by method and path."""

    def __init__(self, file_name):
        with open(os.path.join(SPEC_DIR, file_name), encoding="utf-8") as handle:
            self.document = json.load(handle)
        self.definitions = _strict(self.document["definitions"])
        self.operations = []
        for path, methods in self.document["paths"].items():
            pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]*", re.escape(path)) + "$")
            literal_segments = sum(1 for segment in path.split("/") if segment and "{" not in segment)
            for method, operation in methods.items():
                if method != "parameters":
                    self.operations.append((method.upper(), pattern, literal_segments, operation))

    def operation_ids(self):
        return {operation["operationId"] for _verb, _pattern, _literals, operation in self.operations}

    def find(self, method, path):
        matches = [(literals, operation) for verb, pattern, literals, operation in self.operations if verb == method and pattern.match(path)]
        assert matches, f"{method} {path} is not an operation of the spec"
        return max(matches, key=lambda match: match[0])[1]

    def validate(self, method, path, status, body):
        operation = self.find(method, path)
        responses = operation["responses"]
        declared = responses.get(str(status))
        if declared is None:
            assert status >= 400, f"{operation['operationId']} answered {status}; the spec declares {sorted(responses)}"
            declared = responses["default"]
        if "schema" not in declared:
            assert body is None, f"{operation['operationId']} {status} must have no body"
        else:
            schema = {"allOf": [_strict(declared["schema"])], "definitions": self.definitions}
            jsonschema.Draft4Validator(schema).validate(body)
        return operation["operationId"]


class Recorder:
    """``raw_response_hook`` for SDK clients: keeps (method, path, status, body) of every response."""

    def __init__(self):
        self.responses = []

    def __call__(self, pipeline_response):
        request = pipeline_response.http_request
        response = pipeline_response.http_response
        text = response.text()
        self.responses.append((request.method, urllib.parse.urlsplit(request.url).path, response.status_code, json.loads(text) if text else None))

    def check(self, spec, collections):
        """Validate the recorded responses of paths under ``collections``; return the operations seen."""
        seen = set()
        for method, path, status, body in self.responses:
            if path.split("/")[1] in collections:
                seen.add(spec.validate(method, path, status, body))
        return seen


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def test_every_secret_operation_is_served_and_matches_the_spec(localvault, vault_env):  # pylint: disable=unused-argument
    spec = Spec("secrets.json")
    recorder = Recorder()
    client = SecretClient(localvault.vault_url, localvault.credential(), verify_challenge_resource=False,
                          connection_verify=localvault.ca_bundle, raw_response_hook=recorder)
    name = unique("spec")
    first = client.set_secret(name, "value", content_type="text/plain", tags={"k": "v"},
                              expires_on=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1))
    client.set_secret(name, "second")
    client.get_secret(name)
    client.get_secret(name, first.properties.version)
    client.update_secret_properties(name, first.properties.version, enabled=False)
    list(client.list_properties_of_secrets(max_page_size=2))
    list(client.list_properties_of_secret_versions(name, max_page_size=1))
    backup = client.backup_secret(name)
    client.begin_delete_secret(name).wait()
    client.get_deleted_secret(name)
    list(client.list_deleted_secrets(max_page_size=2))
    client.begin_recover_deleted_secret(name).wait()
    client.begin_delete_secret(name).wait()
    client.purge_deleted_secret(name)
    client.restore_secret_backup(backup)
    with pytest.raises(HttpResponseError):
        client.get_secret(name, first.properties.version)
    with pytest.raises(ResourceNotFoundError):
        client.get_secret(unique("missing"))
    with pytest.raises(HttpResponseError):
        client.set_secret("not_valid", "value")
    with pytest.raises(HttpResponseError):
        client.restore_secret_backup(backup)

    assert recorder.check(spec, {"secrets", "deletedsecrets"}) == spec.operation_ids()


def _self_signed_pfx(common_name):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
                   .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
    return pkcs12.serialize_key_and_certificates(None, key, certificate, None, serialization.NoEncryption())


def _sign_csr(csr_der):
    csr = x509.load_der_x509_csr(csr_der)
    issuer_key = ec.generate_private_key(ec.SECP256R1())
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "spec test issuer")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(csr.subject).issuer_name(issuer).public_key(csr.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
                   .not_valid_after(now + datetime.timedelta(days=30)).sign(issuer_key, hashes.SHA256()))
    return certificate.public_bytes(serialization.Encoding.DER)


def test_every_certificate_operation_is_served_and_matches_the_spec(localvault, vault_env):  # pylint: disable=unused-argument
    spec = Spec("certificates.json")
    recorder = Recorder()
    client = CertificateClient(localvault.vault_url, localvault.credential(), verify_challenge_resource=False,
                               connection_verify=localvault.ca_bundle, raw_response_hook=recorder)
    name = unique("spec")
    created = client.begin_create_certificate(name, CertificatePolicy.get_default(), tags={"k": "v"}).result()
    client.get_certificate(name)
    client.get_certificate_version(name, created.properties.version)
    client.update_certificate_properties(name, created.properties.version, tags={"k": "w"})
    client.get_certificate_policy(name)
    client.update_certificate_policy(name, CertificatePolicy(issuer_name=WellKnownIssuerNames.self, subject="CN=Updated",
                                                             content_type=CertificateContentType.pem))
    list(client.list_properties_of_certificates(max_page_size=2))
    list(client.list_properties_of_certificate_versions(name, max_page_size=1))
    backup = client.backup_certificate(name)
    client.begin_delete_certificate(name).wait()
    client.get_deleted_certificate(name)
    list(client.list_deleted_certificates(max_page_size=2))
    client.begin_recover_deleted_certificate(name).wait()
    client.begin_delete_certificate(name).wait()
    client.purge_deleted_certificate(name)
    client.restore_certificate_backup(backup)

    client.import_certificate(unique("imported"), _self_signed_pfx("imported"))

    pending = unique("pending")
    policy = CertificatePolicy(issuer_name=WellKnownIssuerNames.unknown, subject="CN=Merged")
    client.begin_create_certificate(pending, policy).wait()
    operation = client.get_certificate_operation(pending)
    client.merge_certificate(pending, [_sign_csr(operation.csr)])
    cancelled = unique("cancelled")
    client.begin_create_certificate(cancelled, policy).wait()
    client.cancel_certificate_operation(cancelled)
    client.delete_certificate_operation(cancelled)

    client.set_contacts([CertificateContact(email="ops@example.test", name="Ops", phone="0100")])
    client.get_contacts()
    client.delete_contacts()

    issuer = unique("issuer")
    client.create_issuer(issuer, "Test", account_id="account")
    client.get_issuer(issuer)
    client.update_issuer(issuer, account_id="other")
    list(client.list_properties_of_issuers())
    client.delete_issuer(issuer)

    with pytest.raises(ResourceNotFoundError):
        client.get_certificate(unique("missing"))

    assert recorder.check(spec, {"certificates", "deletedcertificates"}) == spec.operation_ids()


def test_strict_validation_catches_an_unknown_property():
    spec = Spec("secrets.json")
    bundle = {"id": "https://localhost/secrets/x/1", "value": "v", "attributes": {"enabled": True}}
    assert spec.validate("GET", "/secrets/x/1", 200, copy.deepcopy(bundle)) == "GetSecret"
    with pytest.raises(jsonschema.ValidationError):
        spec.validate("GET", "/secrets/x/1", 200, {**bundle, "valeu": "typo"})
    with pytest.raises(jsonschema.ValidationError):
        spec.validate("GET", "/secrets/x/1", 200, {**bundle, "attributes": {"created": "yesterday"}})
