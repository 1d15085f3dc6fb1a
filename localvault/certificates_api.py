"""The certificates part of the Key Vault REST API: certificates, their creation operations,
contacts and issuers.

Store layout: kind ``"certificates"``, object meta ``{"policy": <stored policy>}``; a version's data
holds ``attributes``, ``tags``, the PKCS#8 ``key``, and once issued ``cer``, ``x5t`` and ``chain``
(base64 DER, leaf first). A version is added when creation starts; it stays disabled and without
``cer`` while its operation is pending. Documents ``"certificate-operations"`` (one per certificate
name), ``"certificate-issuers"`` and ``"certificate-contacts"`` hold the rest.

A ``Self``-issued operation completes ``certificate_creation_delay_seconds`` after it started; the
completion happens lazily, on the first request that looks at the certificate afterwards. An
``Unknown``-issuer operation waits for a merge; one for a named issuer stays in progress, since the
local vault reaches no certificate authority, and so does one with a ``platformManaged`` policy
(API 2026-04-01), which the platform issues. Every issued version writes its backing secret (same
name and version) through ``secrets_api``. Keys are not served: ``kid`` points at a keys API the
local vault does not emulate.
"""

import base64
import binascii
import datetime
import functools
import uuid

from localvault import cert_policy, certs, lifecycle, secrets_api
from localvault.certs import CertificateError
from localvault.errors import KeyVaultError, bad_parameter
from localvault.routing import page
from localvault.store import ACTIVE

KIND = "certificates"
LABEL = "certificate"
OPERATIONS = "certificate-operations"
ISSUERS = "certificate-issuers"
CONTACTS = "certificate-contacts"
CONTACTS_KEY = "contacts"

IN_PROGRESS = "inProgress"
COMPLETED = "completed"
CANCELLED = "cancelled"
STATUS_DETAILS_ISSUING = (
    "Pending certificate created. Certificate request is in progress. This may take some time based on the issuer provider. "
    "Please check again later."
)
STATUS_DETAILS_MERGE = "Pending certificate created. Please Perform Merge to complete the request."
# What the service advises clients to wait between polls of a pending operation.
RETRY_AFTER_SECONDS = "10"


def register(router):
    routes = [
        ("GET", "/certificates", "GetCertificates", "list", list_certificates),
        ("GET", "/certificates/contacts", "GetCertificateContacts", "managecontacts", get_contacts),
        ("PUT", "/certificates/contacts", "SetCertificateContacts", "managecontacts", set_contacts),
        ("DELETE", "/certificates/contacts", "DeleteCertificateContacts", "managecontacts", delete_contacts),
        ("GET", "/certificates/issuers", "GetCertificateIssuers", ("listissuers", "manageissuers"), list_issuers),
        # Issuer routes come before the certificate ones: /certificates/issuers/pending names an issuer.
        ("GET", "/certificates/issuers/{name}", "GetCertificateIssuer", ("getissuers", "manageissuers"), get_issuer),
        ("PUT", "/certificates/issuers/{name}", "SetCertificateIssuer", ("setissuers", "manageissuers"), set_issuer),
        ("PATCH", "/certificates/issuers/{name}", "UpdateCertificateIssuer", ("setissuers", "manageissuers"), update_issuer),
        ("DELETE", "/certificates/issuers/{name}", "DeleteCertificateIssuer", ("deleteissuers", "manageissuers"), delete_issuer),
        ("POST", "/certificates/restore", "RestoreCertificate", "restore", restore_certificate),
        ("POST", "/certificates/{name}/create", "CreateCertificate", "create", create_certificate),
        ("POST", "/certificates/{name}/import", "ImportCertificate", "import", import_certificate),
        ("GET", "/certificates/{name}/pending", "GetCertificateOperation", "get", get_operation),
        ("PATCH", "/certificates/{name}/pending", "UpdateCertificateOperation", "update", update_operation),
        ("DELETE", "/certificates/{name}/pending", "DeleteCertificateOperation", "update", delete_operation),
        ("POST", "/certificates/{name}/pending/merge", "MergeCertificate", "create", merge_certificate),
        ("GET", "/certificates/{name}/policy", "GetCertificatePolicy", "get", get_policy),
        ("PATCH", "/certificates/{name}/policy", "UpdateCertificatePolicy", "update", update_policy),
        ("GET", "/certificates/{name}/versions", "GetCertificateVersions", "list", list_versions),
        ("POST", "/certificates/{name}/backup", "BackupCertificate", "backup", backup_certificate),
        ("DELETE", "/certificates/{name}", "DeleteCertificate", "delete", delete_certificate),
        # The service also answers a GET of the bare name with the latest version.
        ("GET", "/certificates/{name}", "GetCertificate", "get", get_certificate),
        ("GET", "/certificates/{name}/{version}", "GetCertificate", "get", get_certificate),
        ("PATCH", "/certificates/{name}/{version}", "UpdateCertificate", "update", update_certificate),
        ("GET", "/deletedcertificates", "GetDeletedCertificates", "list", list_deleted_certificates),
        ("GET", "/deletedcertificates/{name}", "GetDeletedCertificate", "get", get_deleted_certificate),
        ("DELETE", "/deletedcertificates/{name}", "PurgeDeletedCertificate", "purge", purge_deleted_certificate),
        ("POST", "/deletedcertificates/{name}/recover", "RecoverDeletedCertificate", "recover", recover_deleted_certificate),
    ]
    for method, pattern, operation, permission, handler in routes:
        router.add(method, pattern, operation, ("certificates", permission), _answering_crypto_errors(handler))


def _answering_crypto_errors(handler):
    """Turn what certs/cert_policy reject into the service's 400 BadParameter."""
    @functools.wraps(handler)
    def wrapper(request):
        try:
            return handler(request)
        except CertificateError as error:
            raise KeyVaultError(400, "BadParameter", error.message, inner_code=error.inner_code) from None
    return wrapper


def _utc(timestamp):
    return datetime.datetime.fromtimestamp(int(timestamp), tz=datetime.timezone.utc)


def _unix(moment):
    return int(moment.timestamp())


# rendering

def _attributes(request, data):
    attributes = {key: value for key, value in data["attributes"].items() if value is not None}
    attributes.update(lifecycle.recovery_attributes(request.vault.settings.current()))
    return attributes


def _policy_body(request, name, policy):
    return {"id": f"{request.base_url}/certificates/{name}/policy", **policy}


def _bundle(request, obj, stored, operation=None):
    """A CertificateBundle; a version still being created has no ``kid``/``sid``/``x5t``/``cer``."""
    base = request.base_url
    body = {"id": f"{base}/certificates/{obj.name}/{stored.version}"}
    if stored.data.get("cer"):
        body.update(kid=f"{base}/keys/{obj.name}/{stored.version}", sid=f"{base}/secrets/{obj.name}/{stored.version}",
                    x5t=stored.data["x5t"], cer=stored.data["cer"])
    body["attributes"] = _attributes(request, stored.data)
    if stored.data.get("tags") is not None:
        body["tags"] = stored.data["tags"]
    body["policy"] = _policy_body(request, obj.name, obj.meta["policy"])
    if stored.data.get("preserveCertOrder") is not None:
        body["preserveCertOrder"] = stored.data["preserveCertOrder"]
    if operation is not None:
        body["pending"] = {"id": f"{base}/certificates/{obj.name}/pending"}
    return body


def _deleted_bundle(request, obj, stored):
    return {**lifecycle.deleted_fields(request.base_url, "deletedcertificates", obj.name, obj.meta), **_bundle(request, obj, stored)}


def _item(request, name, stored, versioned):
    suffix = f"/{stored.version}" if versioned else ""
    item = {"id": f"{request.base_url}/certificates/{name}{suffix}"}
    if stored.data.get("x5t"):
        item["x5t"] = stored.data["x5t"]
    item["attributes"] = _attributes(request, stored.data)
    if stored.data.get("tags") is not None:
        item["tags"] = stored.data["tags"]
    return item


def _operation_body(request, name, operation):
    body = {"id": f"{request.base_url}/certificates/{name}/pending", "issuer": operation["issuer"], "csr": operation["csr"],
            "cancellation_requested": operation["cancellation_requested"], "status": operation["status"]}
    if operation["status"] == IN_PROGRESS:
        body["status_details"] = operation["status_details"]
    if operation["status"] == COMPLETED:
        body["target"] = f"{request.base_url}/certificates/{name}"
    if operation.get("preserveCertOrder") is not None:
        body["preserveCertOrder"] = operation["preserveCertOrder"]
    body["request_id"] = operation["request_id"]
    return body


# request validation

def _requested_enabled(body):
    attributes = body.get("attributes")
    if attributes is None:
        return None
    if not isinstance(attributes, dict):
        raise bad_parameter("Property attributes must be an object.")
    enabled = attributes.get("enabled")
    if enabled is not None and not isinstance(enabled, bool):
        raise bad_parameter("Property attributes.enabled must be true or false.")
    return enabled


def _requested_tags(body):
    tags = body.get("tags")
    if tags is None:
        return None
    if not isinstance(tags, dict) or not all(isinstance(value, str) for value in tags.values()):
        raise bad_parameter("Property tags must be an object of string values.")
    if len(tags) > secrets_api.MAX_TAGS:
        raise bad_parameter(f"The number of tags exceeds the maximum of {secrets_api.MAX_TAGS}.")
    return tags


def _requested_preserve_order(body):
    preserve = body.get("preserveCertOrder")
    if preserve is not None and not isinstance(preserve, bool):
        raise bad_parameter("Property preserveCertOrder must be true or false.")
    return preserve


# lookups and state changes inside a transaction

def _pending_not_found(name):
    return KeyVaultError(404, "PendingCertificateNotFound", f"Pending certificate not found: {name}")


def _check_issuer(tx, policy):
    if cert_policy.is_self_issuer(policy) or cert_policy.is_unknown_issuer(policy):
        return
    if tx.get_document(ISSUERS, cert_policy.issuer_name(policy)) is None:
        raise _issuer_not_found()


def _self_issued(policy):
    """Whether the local vault itself completes the creation; a platform-managed policy leaves that to the platform."""
    return cert_policy.is_self_issuer(policy) and not cert_policy.is_platform_managed(policy)


def _check_creatable(tx, request, name, now):
    """The active certificate (or None for a new name) a new version may be added to; else the service's 409."""
    obj = lifecycle.check_writable(tx, KIND, name, LABEL, now)
    if obj is not None:
        operation = _settle(tx, request, obj)
        if operation is not None and operation["status"] == IN_PROGRESS:
            raise KeyVaultError(409, "Conflict",
                                f"There is a pending certificate operation for certificate '{name}'. This can happen when multiple operations "
                                "are performed in parallel against the certificate. To avoid this error, wait for the pending operation to "
                                "complete or delete it, then retry.")
    secrets_api.check_backing_secret_name(tx, name, now)
    return obj


def _settle(tx, request, obj):
    """Bring the certificate's operation up to date; return the operation document (or None)."""
    operation = tx.get_document(OPERATIONS, obj.name)
    if operation is None or operation["status"] != IN_PROGRESS:
        return operation
    now = request.vault.now()
    due = operation.get("complete_at") is not None and now >= operation["complete_at"]
    if operation["cancellation_requested"] and (due or operation.get("complete_at") is None):
        operation["status"] = CANCELLED
    elif due:
        stored = tx.get_version(KIND, obj.name, operation["version"])
        if stored is None:
            return operation
        private_key = certs.private_key_from_pem(stored.data["key"])
        certificate = certs.build_self_signed(private_key, operation["x509_props"], _utc(operation["created"]))
        _issue(tx, request, obj, stored, private_key, [certificate], operation["enabled"], stored.data.get("tags"))
        operation["status"] = COMPLETED
    else:
        return operation
    tx.put_document(OPERATIONS, obj.name, operation)
    return operation


def _issue(tx, request, obj, stored, private_key, chain, enabled, tags):
    """Turn a pending version into an issued one and write its backing secret."""
    now = request.vault.now()
    policy = obj.meta["policy"]
    leaf = certs.leaf_of(private_key, chain)
    nbf, exp = _unix(leaf.not_valid_before_utc), _unix(leaf.not_valid_after_utc)
    stored.data.update(cer=certs.certificate_to_base64(leaf), x5t=certs.x5t(leaf), chain=[certs.certificate_to_base64(item) for item in chain],
                       tags=tags)
    stored.data["attributes"].update(enabled=True if enabled is None else enabled, nbf=nbf, exp=exp, updated=int(now))
    tx.replace_version(KIND, obj.name, stored.version, stored.data)
    content_type = cert_policy.content_type(policy)
    exported_key = private_key if policy["key_props"]["exportable"] else None
    value = certs.backing_secret_value(exported_key, chain, content_type)
    secrets_api.put_managed_version(tx, obj.name, stored.version, value, content_type, f"{request.base_url}/keys/{obj.name}/{stored.version}",
                                    {"enabled": stored.data["attributes"]["enabled"], "nbf": nbf, "exp": exp}, tags, now)


def _active(tx, request, name):
    obj = lifecycle.require_active(tx, KIND, name, LABEL, request.vault.now())
    return obj, _settle(tx, request, obj)


def _version(tx, obj, version):
    stored = tx.get_version(KIND, obj.name, version) if version else tx.latest_version(KIND, obj.name)
    if stored is None:
        raise lifecycle.not_found(LABEL, f"{obj.name}/{version}" if version else obj.name)
    return stored


def _store_policy(tx, obj, name, policy, now):
    """Create the certificate object or replace its policy; return the object."""
    policy["attributes"].update(created=int(now), updated=int(now))
    if obj is None:
        return tx.create_object(KIND, name, {"policy": policy})
    policy["attributes"]["created"] = obj.meta["policy"]["attributes"].get("created", int(now))
    obj.meta["policy"] = policy
    tx.update_meta(KIND, obj.name, obj.meta)
    return obj


# certificates

def create_certificate(request):
    name = request.params["name"]
    body = request.json()
    enabled = _requested_enabled(body)
    tags = _requested_tags(body)
    preserve_order = _requested_preserve_order(body)
    requested_policy = body.get("policy")
    policy = None if requested_policy is None else cert_policy.complete_policy(requested_policy)
    now = request.vault.now()
    with request.vault.store.transaction() as tx:
        obj = _check_creatable(tx, request, name, now)
        if policy is None:
            if obj is None:
                raise cert_policy.invalid("policy")
            policy = obj.meta["policy"]
        _check_issuer(tx, policy)
        reusable = tx.latest_version(KIND, obj.name) if obj is not None and policy["key_props"]["reuse_key"] else None
    private_key = None
    if reusable is not None:
        previous = certs.private_key_from_pem(reusable.data["key"])
        private_key = previous if certs.key_matches_properties(previous, policy["key_props"]) else None
    if private_key is None:
        # Made outside the transaction: an RSA key can take a while and would hold up every other request.
        private_key = certs.generate_private_key(policy["key_props"])
    csr = certs.build_csr(private_key, policy["x509_props"])
    with request.vault.store.transaction() as tx:
        # Checked again: the state may have changed while the key was made.
        obj = _check_creatable(tx, request, name, now)
        _check_issuer(tx, policy)
        obj = _store_policy(tx, obj, name, policy, now)
        version = uuid.uuid4().hex
        attributes = {"enabled": False, "created": int(now), "updated": int(now)}
        if not cert_policy.is_unknown_issuer(policy):
            # The pending version already shows the validity the certificate will get.
            start = _utc(now)
            attributes.update(nbf=_unix(start - certs.NOT_BEFORE_SKEW), exp=_unix(certs.add_months(start, policy["x509_props"]["validity_months"])))
        data = {"attributes": attributes, "tags": tags, "key": certs.private_key_to_pem(private_key)}
        if preserve_order is not None:
            data["preserveCertOrder"] = preserve_order
        tx.add_version(KIND, obj.name, version, data)
        operation = {
            "request_id": uuid.uuid4().hex, "version": version, "issuer": policy["issuer"], "csr": certs.csr_to_base64(csr),
            "cancellation_requested": False, "status": IN_PROGRESS, "created": int(now), "enabled": enabled,
            "x509_props": policy["x509_props"], "preserveCertOrder": preserve_order,
            "status_details": STATUS_DETAILS_MERGE if cert_policy.is_unknown_issuer(policy) else STATUS_DETAILS_ISSUING,
            "complete_at": now + request.vault.settings.current().certificate_creation_delay_seconds if _self_issued(policy) else None,
        }
        tx.put_document(OPERATIONS, obj.name, operation)
    location = f"{request.base_url}/certificates/{obj.name}/pending?api-version={request.api_version}&request_id={operation['request_id']}"
    return 202, _operation_body(request, obj.name, operation), {"Location": location, "Retry-After": RETRY_AFTER_SECONDS}


def import_certificate(request):
    name = request.params["name"]
    body = request.json()
    value = body.get("value")
    if not isinstance(value, str) or not value:
        raise cert_policy.invalid("value")
    password = body.get("pwd")
    if password is not None and not isinstance(password, str):
        raise cert_policy.invalid("pwd")
    enabled = _requested_enabled(body)
    tags = _requested_tags(body)
    preserve_order = _requested_preserve_order(body)
    requested_policy = body.get("policy")
    if requested_policy is not None and not isinstance(requested_policy, dict):
        raise cert_policy.invalid("policy")
    now = request.vault.now()
    with request.vault.store.transaction() as tx:
        obj = _check_creatable(tx, request, name, now)
        # A new version is read the way the certificate's policy says unless the request says otherwise.
        existing_type = cert_policy.content_type(obj.meta["policy"]) if obj is not None else certs.PKCS12_CONTENT_TYPE
    content_type = cert_policy.requested_content_type(requested_policy) or existing_type
    private_key, chain = certs.load_import(value, password, content_type, _utc(now), preserve_order=bool(preserve_order))
    policy = cert_policy.import_policy(requested_policy, private_key, certs.leaf_of(private_key, chain), content_type)
    with request.vault.store.transaction() as tx:
        obj = _check_creatable(tx, request, name, now)
        obj = _store_policy(tx, obj, name, policy, now)
        data = {"attributes": {"enabled": False, "created": int(now), "updated": int(now)}, "tags": tags,
                "key": certs.private_key_to_pem(private_key)}
        if preserve_order is not None:
            data["preserveCertOrder"] = preserve_order
        stored = tx.add_version(KIND, obj.name, uuid.uuid4().hex, data)
        _issue(tx, request, obj, stored, private_key, chain, enabled, tags)
        tx.delete_document(OPERATIONS, obj.name)
    return 200, _bundle(request, obj, stored)


def get_certificate(request):
    with request.vault.store.transaction() as tx:
        obj, operation = _active(tx, request, request.params["name"])
        stored = _version(tx, obj, request.params.get("version", ""))
    return 200, _bundle(request, obj, stored, operation)


def update_certificate(request):
    body = request.json()
    enabled = _requested_enabled(body)
    tags = _requested_tags(body)
    requested_policy = body.get("policy")
    now = request.vault.now()
    with request.vault.store.transaction() as tx:
        obj, operation = _active(tx, request, request.params["name"])
        stored = _version(tx, obj, request.params.get("version", ""))
        if requested_policy is not None:
            policy = cert_policy.update_policy(obj.meta["policy"], requested_policy)
            policy["attributes"]["updated"] = int(now)
            obj.meta["policy"] = policy
            tx.update_meta(KIND, obj.name, obj.meta)
        if enabled is not None:
            stored.data["attributes"]["enabled"] = enabled
        if "tags" in body:
            stored.data["tags"] = tags
        stored.data["attributes"]["updated"] = int(now)
        tx.replace_version(KIND, obj.name, stored.version, stored.data)
        if stored.data.get("cer"):
            secrets_api.update_managed_version(tx, obj.name, stored.version, {"enabled": stored.data["attributes"]["enabled"]},
                                               stored.data.get("tags") if "tags" in body else None, now)
    return 200, _bundle(request, obj, stored, operation)


def _issued(stored):
    return bool(stored.data.get("cer"))


def list_certificates(request):
    include_pending = request.query.get("includePending", "").lower() == "true"
    now = request.vault.now()
    entries = []
    with request.vault.store.transaction() as tx:
        for obj in tx.list_objects(KIND):
            if obj.state(now) != ACTIVE:
                continue
            _settle(tx, request, obj)
            versions = tx.list_versions(KIND, obj.name)
            issued = [stored for stored in versions if _issued(stored)]
            # A certificate whose only versions are still being created is listed on request only.
            shown = issued[-1] if issued else (versions[-1] if include_pending and versions else None)
            if shown is not None:
                entries.append((obj.name, shown))
    chosen, next_link = page(request, "/certificates", entries, lambda entry: entry[0].lower())
    if next_link and include_pending:
        next_link += "&includePending=true"
    return 200, {"value": [_item(request, name, stored, versioned=False) for name, stored in chosen], "nextLink": next_link}


def list_versions(request):
    name = request.params["name"]
    now = request.vault.now()
    with request.vault.store.transaction() as tx:
        obj = lifecycle.find_active(tx, KIND, name, now)
        if obj is not None:
            _settle(tx, request, obj)
        versions = tx.list_versions(KIND, obj.name) if obj else []
    chosen, next_link = page(request, f"/certificates/{name}/versions", versions, lambda stored: stored.seq)
    return 200, {"value": [_item(request, stored.name, stored, versioned=True) for stored in chosen], "nextLink": next_link}


def delete_certificate(request):
    with request.vault.store.transaction() as tx:
        obj, _operation = _active(tx, request, request.params["name"])
        obj.meta = lifecycle.soft_delete(tx, KIND, obj.name, request.vault)
        if lifecycle.find_active(tx, secrets_api.KIND, obj.name, request.vault.now()) is not None:
            lifecycle.soft_delete(tx, secrets_api.KIND, obj.name, request.vault)
        # A deleted certificate's creation stops; what was pending stays a disabled version.
        tx.delete_document(OPERATIONS, obj.name)
        stored = tx.latest_version(KIND, obj.name)
    return 200, _deleted_bundle(request, obj, stored)


def get_deleted_certificate(request):
    with request.vault.store.transaction() as tx:
        obj = lifecycle.require_deleted(tx, KIND, request.params["name"], LABEL, request.vault.now())
        stored = tx.latest_version(KIND, obj.name)
    return 200, _deleted_bundle(request, obj, stored)


def list_deleted_certificates(request):
    include_pending = request.query.get("includePending", "").lower() == "true"
    now = request.vault.now()
    entries = []
    with request.vault.store.transaction() as tx:
        for obj in tx.list_objects(KIND):
            if not lifecycle.is_listed_deleted(obj, now):
                continue
            stored = tx.latest_version(KIND, obj.name)
            if stored is not None and (include_pending or _issued(stored)):
                entries.append((obj, stored))
    chosen, next_link = page(request, "/deletedcertificates", entries, lambda entry: entry[0].name.lower())
    if next_link and include_pending:
        next_link += "&includePending=true"
    items = [{**lifecycle.deleted_fields(request.base_url, "deletedcertificates", obj.name, obj.meta), **_item(request, obj.name, stored, False)}
             for obj, stored in chosen]
    return 200, {"value": items, "nextLink": next_link}


def recover_deleted_certificate(request):
    with request.vault.store.transaction() as tx:
        obj = lifecycle.require_deleted(tx, KIND, request.params["name"], LABEL, request.vault.now(), conflict_while_deleting=True)
        lifecycle.recover(tx, KIND, obj.name, request.vault)
        secret = tx.get_object(secrets_api.KIND, obj.name)
        if secret is not None and secret.deleted:
            lifecycle.recover(tx, secrets_api.KIND, obj.name, request.vault)
        obj = tx.get_object(KIND, obj.name)
        stored = tx.latest_version(KIND, obj.name)
    return 200, _bundle(request, obj, stored)


def purge_deleted_certificate(request):
    with request.vault.store.transaction() as tx:
        obj = lifecycle.require_deleted(tx, KIND, request.params["name"], LABEL, request.vault.now(), conflict_while_deleting=True)
        lifecycle.check_purge_allowed(request.vault.settings.current())
        tx.purge(KIND, obj.name)
        secret = tx.get_object(secrets_api.KIND, obj.name)
        if secret is not None and secret.meta.get("managed"):
            tx.purge(secrets_api.KIND, obj.name)
        tx.delete_document(OPERATIONS, obj.name)
    return 204, None


def backup_certificate(request):
    with request.vault.store.transaction() as tx:
        obj, _operation = _active(tx, request, request.params["name"])
        payload = {
            "name": obj.name,
            "policy": obj.meta["policy"],
            "versions": [{"version": stored.version, "data": stored.data} for stored in tx.list_versions(KIND, obj.name)],
            "secret_versions": [{"version": stored.version, "data": stored.data} for stored in tx.list_versions(secrets_api.KIND, obj.name)],
        }
    return 200, {"value": lifecycle.seal_backup(request.vault.backup_key, KIND, payload)}


def restore_certificate(request):
    body = request.json()
    payload = lifecycle.open_backup(request.vault.backup_key, KIND, body.get("value"))
    name = payload["name"]
    now = request.vault.now()
    with request.vault.store.transaction() as tx:
        if lifecycle.check_writable(tx, KIND, name, LABEL, now) is not None:
            raise KeyVaultError(409, "Conflict", f"Certificate {name} already exists.")
        secrets_api.check_backing_secret_name(tx, name, now)
        obj = tx.create_object(KIND, name, {"policy": payload["policy"]})
        for entry in payload["versions"]:
            tx.add_version(KIND, name, entry["version"], entry["data"])
        if payload["secret_versions"]:
            tx.create_object(secrets_api.KIND, name, {"managed": True})
            for entry in payload["secret_versions"]:
                tx.add_version(secrets_api.KIND, name, entry["version"], entry["data"])
        stored = tx.latest_version(KIND, name)
    return 200, _bundle(request, obj, stored)


# policies

def get_policy(request):
    with request.vault.store.transaction() as tx:
        obj, _operation = _active(tx, request, request.params["name"])
    return 200, _policy_body(request, obj.name, obj.meta["policy"])


def update_policy(request):
    patch = request.json()
    now = request.vault.now()
    with request.vault.store.transaction() as tx:
        obj, _operation = _active(tx, request, request.params["name"])
        policy = cert_policy.update_policy(obj.meta["policy"], patch)
        policy["attributes"]["updated"] = int(now)
        obj.meta["policy"] = policy
        tx.update_meta(KIND, obj.name, obj.meta)
    return 200, _policy_body(request, obj.name, policy)


# creation operations

def _existing_operation(tx, request, name):
    obj = lifecycle.find_active(tx, KIND, name, request.vault.now())
    operation = _settle(tx, request, obj) if obj is not None else None
    if operation is None:
        raise _pending_not_found(name)
    return obj, operation


def get_operation(request):
    with request.vault.store.transaction() as tx:
        obj, operation = _existing_operation(tx, request, request.params["name"])
    return 200, _operation_body(request, obj.name, operation)


def update_operation(request):
    body = request.json()
    cancel = body.get("cancellation_requested")
    if not isinstance(cancel, bool):
        raise cert_policy.invalid("cancellation_requested")
    with request.vault.store.transaction() as tx:
        obj, operation = _existing_operation(tx, request, request.params["name"])
        if operation["status"] != IN_PROGRESS:
            raise KeyVaultError(403, "Forbidden", "Pending status must be in progress to allow update.")
        if cancel:
            operation["cancellation_requested"] = True
            tx.put_document(OPERATIONS, obj.name, operation)
            operation = _settle(tx, request, obj)
    return 200, _operation_body(request, obj.name, operation)


def delete_operation(request):
    with request.vault.store.transaction() as tx:
        obj, operation = _existing_operation(tx, request, request.params["name"])
        tx.delete_document(OPERATIONS, obj.name)
    return 200, _operation_body(request, obj.name, operation)


def merge_certificate(request):
    body = request.json()
    x5c = body.get("x5c")
    if not isinstance(x5c, list) or not x5c or not all(isinstance(entry, str) for entry in x5c):
        raise CertificateError(certs.X5C_EMPTY_ERROR)
    try:
        entries = [base64.b64decode(entry, validate=True) for entry in x5c]
    except (binascii.Error, ValueError):
        raise CertificateError(certs.X5C_EMPTY_ERROR) from None
    enabled = _requested_enabled(body)
    tags = _requested_tags(body)
    with request.vault.store.transaction() as tx:
        obj, operation = _existing_operation(tx, request, request.params["name"])
        if operation["status"] != IN_PROGRESS or not cert_policy.is_unknown_issuer({"issuer": operation["issuer"]}):
            raise KeyVaultError(403, "Forbidden", "Pending status must be in progress to allow update.")
        stored = tx.get_version(KIND, obj.name, operation["version"])
        private_key = certs.private_key_from_pem(stored.data["key"])
        chain = certs.merge_chain(private_key, entries, preserve_order=bool(operation.get("preserveCertOrder")))
        _issue(tx, request, obj, stored, private_key, chain, enabled if enabled is not None else operation["enabled"],
               tags if "tags" in body else stored.data.get("tags"))
        operation["status"] = COMPLETED
        tx.put_document(OPERATIONS, obj.name, operation)
    location = f"{request.base_url}/certificates/{obj.name}?api-version={request.api_version}"
    return 201, _bundle(request, obj, stored, operation), {"Location": location}


# contacts

def _contacts_not_found():
    return KeyVaultError(404, "ContactsNotFound", "Contacts not found")


def _contacts_body(request, contacts):
    return {"id": f"{request.base_url}/certificates/contacts", "contacts": contacts}


def get_contacts(request):
    with request.vault.store.transaction() as tx:
        stored = tx.get_document(CONTACTS, CONTACTS_KEY)
    if stored is None:
        raise _contacts_not_found()
    return 200, _contacts_body(request, stored["contacts"])


def set_contacts(request):
    contacts = request.json().get("contacts")
    if not isinstance(contacts, list) or not all(isinstance(contact, dict) for contact in contacts):
        raise cert_policy.invalid("contacts")
    cleaned = []
    for contact in contacts:
        entry = {field: contact[field] for field in ("email", "name", "phone") if contact.get(field) is not None}
        if not all(isinstance(value, str) for value in entry.values()):
            raise cert_policy.invalid("contacts")
        cleaned.append(entry)
    with request.vault.store.transaction() as tx:
        tx.put_document(CONTACTS, CONTACTS_KEY, {"contacts": cleaned})
    return 200, _contacts_body(request, cleaned)


def delete_contacts(request):
    with request.vault.store.transaction() as tx:
        stored = tx.get_document(CONTACTS, CONTACTS_KEY)
        if stored is None:
            raise _contacts_not_found()
        tx.delete_document(CONTACTS, CONTACTS_KEY)
    return 200, _contacts_body(request, stored["contacts"])


# issuers

def _issuer_not_found():
    return KeyVaultError(404, "CertificateIssuerNotFound", "Issuer not found")


def _issuer_body(request, name, issuer):
    body = {"id": f"{request.base_url}/certificates/issuers/{name}", "provider": issuer["provider"]}
    if issuer.get("credentials"):
        # The password is write-only: the service never returns it.
        body["credentials"] = {key: value for key, value in issuer["credentials"].items() if key != "pwd"}
    if issuer.get("org_details") is not None:
        body["org_details"] = issuer["org_details"]
    body["attributes"] = issuer["attributes"]
    return body


def _issuer_fields(body, current):
    """``current`` issuer document updated with the members of a set/update request."""
    issuer = dict(current)
    if "provider" in body and body["provider"] is not None:
        if not isinstance(body["provider"], str) or not body["provider"]:
            raise cert_policy.invalid("provider")
        issuer["provider"] = body["provider"]
    credentials = body.get("credentials")
    if credentials is not None:
        if not isinstance(credentials, dict) or not all(isinstance(credentials.get(key, ""), str) for key in ("account_id", "pwd")):
            raise cert_policy.invalid("credentials")
        issuer["credentials"] = {**issuer.get("credentials", {}), **{key: credentials[key] for key in ("account_id", "pwd") if key in credentials}}
    org_details = body.get("org_details")
    if org_details is not None:
        if not isinstance(org_details, dict) or not isinstance(org_details.get("admin_details", []), list):
            raise cert_policy.invalid("org_details")
        details = {key: value for key, value in org_details.items() if value is not None}
        # The service adds a zip member to the organization details it returns.
        issuer["org_details"] = {"zip": 0, **details}
    enabled = _requested_enabled(body)
    if enabled is not None:
        issuer["attributes"] = {**issuer["attributes"], "enabled": enabled}
    return issuer


def get_issuer(request):
    name = request.params["name"]
    with request.vault.store.transaction() as tx:
        issuer = tx.get_document(ISSUERS, name)
    if issuer is None:
        raise _issuer_not_found()
    return 200, _issuer_body(request, name, issuer)


def set_issuer(request):
    name = request.params["name"]
    body = request.json()
    if not body.get("provider"):
        raise cert_policy.invalid("provider")
    now = int(request.vault.now())
    issuer = _issuer_fields(body, {"attributes": {"enabled": True, "created": now, "updated": now}})
    with request.vault.store.transaction() as tx:
        previous = tx.get_document(ISSUERS, name)
        if previous is not None:
            issuer["attributes"]["created"] = previous["attributes"]["created"]
        tx.put_document(ISSUERS, name, issuer)
    return 200, _issuer_body(request, name, issuer)


def update_issuer(request):
    name = request.params["name"]
    body = request.json()
    with request.vault.store.transaction() as tx:
        current = tx.get_document(ISSUERS, name)
        if current is None:
            raise _issuer_not_found()
        issuer = _issuer_fields(body, current)
        issuer["attributes"] = {**issuer["attributes"], "updated": int(request.vault.now())}
        tx.put_document(ISSUERS, name, issuer)
    return 200, _issuer_body(request, name, issuer)


def delete_issuer(request):
    name = request.params["name"]
    with request.vault.store.transaction() as tx:
        issuer = tx.get_document(ISSUERS, name)
        if issuer is None:
            raise _issuer_not_found()
        tx.delete_document(ISSUERS, name)
    return 200, _issuer_body(request, name, issuer)


def list_issuers(request):
    with request.vault.store.transaction() as tx:
        issuers = tx.list_documents(ISSUERS)
    chosen, next_link = page(request, "/certificates/issuers", issuers, lambda entry: entry[0].lower())
    items = [{"id": f"{request.base_url}/certificates/issuers/{name}", "provider": issuer["provider"]} for name, issuer in chosen]
    return 200, {"value": items, "nextLink": next_link}
