"""The secrets part of the Key Vault REST API, and the backing secrets certificates keep here.

Secrets are store kind ``"secrets"``. Object meta: ``{"managed": true}`` for a certificate's
backing secret. Version data: ``{"value", "contentType", "tags", "attributes": {"enabled", "nbf",
"exp", "created", "updated"}, "kid", "managed"}`` (``nbf``/``exp``/``kid``/``managed`` when set).
"""

import uuid

from localvault import certs, lifecycle
from localvault.errors import KeyVaultError, bad_parameter
from localvault.routing import page
from localvault.store import ACTIVE

KIND = "secrets"
LABEL = "secret"
MAX_VALUE_BYTES = 25 * 1024
MAX_TAGS = 15
OUT_CONTENT_TYPES = (certs.PKCS12_CONTENT_TYPE, certs.PEM_CONTENT_TYPE)


def register(router):
    router.add("GET", "/secrets", "GetSecrets", ("secrets", "list"), list_secrets)
    router.add("POST", "/secrets/restore", "RestoreSecret", ("secrets", "restore"), restore_secret)
    router.add("PUT", "/secrets/{name}", "SetSecret", ("secrets", "set"), set_secret)
    router.add("DELETE", "/secrets/{name}", "DeleteSecret", ("secrets", "delete"), delete_secret)
    # The service also answers a GET of the bare name with the latest version.
    router.add("GET", "/secrets/{name}", "GetSecret", ("secrets", "get"), get_secret)
    router.add("GET", "/secrets/{name}/{version}", "GetSecret", ("secrets", "get"), get_secret)
    router.add("PATCH", "/secrets/{name}/{version}", "UpdateSecret", ("secrets", "set"), update_secret)
    router.add("GET", "/secrets/{name}/versions", "GetSecretVersions", ("secrets", "list"), list_secret_versions)
    router.add("POST", "/secrets/{name}/backup", "BackupSecret", ("secrets", "backup"), backup_secret)
    router.add("GET", "/deletedsecrets", "GetDeletedSecrets", ("secrets", "list"), list_deleted_secrets)
    router.add("GET", "/deletedsecrets/{name}", "GetDeletedSecret", ("secrets", "get"), get_deleted_secret)
    router.add("DELETE", "/deletedsecrets/{name}", "PurgeDeletedSecret", ("secrets", "purge"), purge_deleted_secret)
    router.add("POST", "/deletedsecrets/{name}/recover", "RecoverDeletedSecret", ("secrets", "recover"), recover_deleted_secret)


def _attributes(request, data):
    attributes = {key: value for key, value in data["attributes"].items() if value is not None}
    attributes.update(lifecycle.recovery_attributes(request.vault.settings.current()))
    return attributes


def _common(request, data):
    body = {"attributes": _attributes(request, data)}
    if data.get("contentType") is not None:
        body["contentType"] = data["contentType"]
    if data.get("tags") is not None:
        body["tags"] = data["tags"]
    if data.get("managed"):
        body["managed"] = True
    return body


def _bundle(request, stored, with_value):
    body = {"id": f"{request.base_url}/secrets/{stored.name}/{stored.version}", **_common(request, stored.data)}
    if with_value:
        body["value"] = stored.data["value"]
    if stored.data.get("kid"):
        body["kid"] = stored.data["kid"]
    return body


def _deleted_bundle(request, obj, stored):
    return {**_bundle(request, stored, with_value=False), **lifecycle.deleted_fields(request.base_url, "deletedsecrets", obj.name, obj.meta)}


def _item(request, stored, versioned):
    suffix = f"/{stored.version}" if versioned else ""
    return {"id": f"{request.base_url}/secrets/{stored.name}{suffix}", **_common(request, stored.data)}


def _optional_int(attributes, key):
    value = attributes.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise bad_parameter(f"Property attributes.{key} must be a unix time in seconds.")
    return value


def _requested_attributes(body):
    attributes = body.get("attributes")
    if attributes is None:
        return {}
    if not isinstance(attributes, dict):
        raise bad_parameter("Property attributes must be an object.")
    requested = {}
    if "enabled" in attributes and attributes["enabled"] is not None:
        if not isinstance(attributes["enabled"], bool):
            raise bad_parameter("Property attributes.enabled must be true or false.")
        requested["enabled"] = attributes["enabled"]
    for key in ("nbf", "exp"):
        if key in attributes:
            requested[key] = _optional_int(attributes, key)
    return requested


def _requested_tags(body):
    tags = body.get("tags")
    if tags is None:
        return None
    if not isinstance(tags, dict) or not all(isinstance(value, str) for value in tags.values()):
        raise bad_parameter("Property tags must be an object of string values.")
    if len(tags) > MAX_TAGS:
        raise bad_parameter(f"The number of tags exceeds the maximum of {MAX_TAGS}.")
    return tags


def _requested_content_type(body):
    content_type = body.get("contentType")
    if content_type is not None and not isinstance(content_type, str):
        raise bad_parameter("Property contentType must be a string.")
    return content_type


def _refuse_managed(obj, operation):
    if obj.meta.get("managed"):
        raise KeyVaultError(403, "Forbidden", f"Operation {operation} is not allowed on a managed secret.")


def set_secret(request):
    name = request.params["name"]
    body = request.json()
    value = body.get("value")
    if value is None:
        raise bad_parameter("Property value is required.")
    if not isinstance(value, str):
        raise bad_parameter("Property value must be a string.")
    if len(value.encode("utf-8")) > MAX_VALUE_BYTES:
        raise bad_parameter(f"Secret value is too large: the maximum size of a secret value is {MAX_VALUE_BYTES} bytes.")
    attributes = _requested_attributes(body)
    data = {"value": value, "contentType": _requested_content_type(body), "tags": _requested_tags(body)}
    now = request.vault.now()
    with request.vault.store.transaction() as tx:
        obj = lifecycle.check_writable(tx, KIND, name, LABEL, now)
        if obj is None:
            obj = tx.create_object(KIND, name, {})
        _refuse_managed(obj, "set")
        data["attributes"] = {"enabled": attributes.get("enabled", True), "nbf": attributes.get("nbf"), "exp": attributes.get("exp"),
                              "created": int(now), "updated": int(now)}
        stored = tx.add_version(KIND, obj.name, uuid.uuid4().hex, data)
    return 200, _bundle(request, stored, with_value=True)


def _find_version(tx, obj, version):
    stored = tx.get_version(KIND, obj.name, version) if version else tx.latest_version(KIND, obj.name)
    if stored is None:
        raise lifecycle.not_found(LABEL, f"{obj.name}/{version}" if version else obj.name)
    return stored


def get_secret(request):
    out_content_type = request.query.get("outContentType")
    if out_content_type is not None and out_content_type not in OUT_CONTENT_TYPES:
        raise bad_parameter(f"The outContentType {out_content_type} is not supported; use one of {', '.join(OUT_CONTENT_TYPES)}.")
    with request.vault.store.transaction() as tx:
        obj = lifecycle.require_active(tx, KIND, request.params["name"], LABEL, request.vault.now())
        stored = _find_version(tx, obj, request.params.get("version", ""))
    # The service returns secrets outside their nbf/exp window (its documented date-time rule for
    # secrets); only a disabled one is refused.
    if not stored.data["attributes"].get("enabled", True):
        raise KeyVaultError(403, "Forbidden", "Operation get is not allowed on a disabled secret.", inner_code="SecretDisabled")
    body = _bundle(request, stored, with_value=True)
    if out_content_type and stored.data.get("managed") and stored.data.get("contentType") != out_content_type:
        try:
            body["value"] = certs.convert_backing_secret(stored.data["value"], stored.data.get("contentType"), out_content_type)
        except certs.CertificateError as exc:
            raise bad_parameter(exc.message) from None
        body["contentType"] = out_content_type
    return 200, body


def update_secret(request):
    body = request.json()
    attributes = _requested_attributes(body)
    tags = _requested_tags(body)
    content_type = _requested_content_type(body)
    now = request.vault.now()
    with request.vault.store.transaction() as tx:
        obj = lifecycle.require_active(tx, KIND, request.params["name"], LABEL, now)
        stored = _find_version(tx, obj, request.params.get("version", ""))
        _refuse_managed(obj, "update")
        stored.data["attributes"].update(attributes, updated=int(now))
        if "tags" in body:
            stored.data["tags"] = tags
        if "contentType" in body:
            stored.data["contentType"] = content_type
        tx.replace_version(KIND, obj.name, stored.version, stored.data)
    return 200, _bundle(request, stored, with_value=False)


def list_secrets(request):
    now = request.vault.now()
    with request.vault.store.transaction() as tx:
        latest = [tx.latest_version(KIND, obj.name) for obj in tx.list_objects(KIND) if obj.state(now) == ACTIVE]
    chosen, next_link = page(request, "/secrets", [stored for stored in latest if stored], lambda stored: stored.name.lower())
    return 200, {"value": [_item(request, stored, versioned=False) for stored in chosen], "nextLink": next_link}


def list_secret_versions(request):
    name = request.params["name"]
    now = request.vault.now()
    with request.vault.store.transaction() as tx:
        obj = lifecycle.find_active(tx, KIND, name, now)
        versions = tx.list_versions(KIND, obj.name) if obj else []
    chosen, next_link = page(request, f"/secrets/{name}/versions", versions, lambda stored: stored.seq)
    return 200, {"value": [_item(request, stored, versioned=True) for stored in chosen], "nextLink": next_link}


def delete_secret(request):
    with request.vault.store.transaction() as tx:
        obj = lifecycle.require_active(tx, KIND, request.params["name"], LABEL, request.vault.now())
        _refuse_managed(obj, "delete")
        obj.meta = lifecycle.soft_delete(tx, KIND, obj.name, request.vault)
        stored = tx.latest_version(KIND, obj.name)
    return 200, _deleted_bundle(request, obj, stored)


def get_deleted_secret(request):
    with request.vault.store.transaction() as tx:
        obj = lifecycle.require_deleted(tx, KIND, request.params["name"], LABEL, request.vault.now())
        stored = tx.latest_version(KIND, obj.name)
    return 200, _deleted_bundle(request, obj, stored)


def list_deleted_secrets(request):
    now = request.vault.now()
    with request.vault.store.transaction() as tx:
        # A certificate's deleted backing secret is listed with the deleted certificates only.
        pairs = [(obj, tx.latest_version(KIND, obj.name)) for obj in tx.list_objects(KIND)
                 if lifecycle.is_listed_deleted(obj, now) and not obj.meta.get("managed")]
    chosen, next_link = page(request, "/deletedsecrets", pairs, lambda pair: pair[0].name.lower())
    items = [{**_item(request, stored, versioned=False), **lifecycle.deleted_fields(request.base_url, "deletedsecrets", obj.name, obj.meta)}
             for obj, stored in chosen]
    return 200, {"value": items, "nextLink": next_link}


def recover_deleted_secret(request):
    with request.vault.store.transaction() as tx:
        obj = lifecycle.require_deleted(tx, KIND, request.params["name"], LABEL, request.vault.now(), conflict_while_deleting=True)
        _refuse_managed(obj, "recover")
        lifecycle.recover(tx, KIND, obj.name, request.vault)
        stored = tx.latest_version(KIND, obj.name)
    return 200, _bundle(request, stored, with_value=False)


def purge_deleted_secret(request):
    with request.vault.store.transaction() as tx:
        obj = lifecycle.require_deleted(tx, KIND, request.params["name"], LABEL, request.vault.now(), conflict_while_deleting=True)
        _refuse_managed(obj, "purge")
        lifecycle.check_purge_allowed(request.vault.settings.current())
        tx.purge(KIND, obj.name)
    return 204, None


def backup_secret(request):
    with request.vault.store.transaction() as tx:
        obj = lifecycle.require_active(tx, KIND, request.params["name"], LABEL, request.vault.now())
        _refuse_managed(obj, "backup")
        versions = [{"version": stored.version, "data": stored.data} for stored in tx.list_versions(KIND, obj.name)]
    blob = lifecycle.seal_backup(request.vault.backup_key, KIND, {"name": obj.name, "versions": versions})
    return 200, {"value": blob}


def restore_secret(request):
    body = request.json()
    payload = lifecycle.open_backup(request.vault.backup_key, KIND, body.get("value"))
    name = payload["name"]
    with request.vault.store.transaction() as tx:
        if lifecycle.check_writable(tx, KIND, name, LABEL, request.vault.now()) is not None:
            raise KeyVaultError(409, "Conflict", f"Secret {name} already exists.")
        tx.create_object(KIND, name, {})
        for entry in payload["versions"]:
            tx.add_version(KIND, name, entry["version"], entry["data"])
        stored = tx.latest_version(KIND, name)
    return 200, _bundle(request, stored, with_value=False)


def check_backing_secret_name(tx, name, now):
    """The backing secret object of a certificate named ``name``, or None when the name is free; else the 409 to answer."""
    obj = lifecycle.check_writable(tx, KIND, name, LABEL, now)
    if obj is not None and not obj.meta.get("managed"):
        raise KeyVaultError(409, "Conflict", f"A secret named {name} already exists; a certificate cannot use its name.")
    return obj


def put_managed_version(tx, name, version, value, content_type, kid, attributes, tags, now):
    """Write a certificate's backing secret version; the name must be free or already a backing secret."""
    obj = check_backing_secret_name(tx, name, now)
    if obj is None:
        obj = tx.create_object(KIND, name, {"managed": True})
    data = {"value": value, "contentType": content_type, "tags": tags, "kid": kid, "managed": True,
            "attributes": {"enabled": attributes.get("enabled", True), "nbf": attributes.get("nbf"), "exp": attributes.get("exp"),
                           "created": int(now), "updated": int(now)}}
    return tx.add_version(KIND, obj.name, version, data)


def update_managed_version(tx, name, version, attributes, tags, now):
    """Follow a certificate's attribute/tag update on its backing secret version."""
    stored = tx.get_version(KIND, name, version)
    if stored is None:
        return None
    stored.data["attributes"].update({key: value for key, value in attributes.items() if key in ("enabled", "nbf", "exp")}, updated=int(now))
    if tags is not None:
        stored.data["tags"] = tags
    tx.replace_version(KIND, name, version, stored.data)
    return stored
