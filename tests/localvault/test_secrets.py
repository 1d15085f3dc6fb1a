"""Every secret operation of the local vault, driven through azure-keyvault-secrets' SecretClient."""

import datetime
import time
import uuid

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

UTC = datetime.timezone.utc


def unique(prefix="secret"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def vault_path(localvault, path):
    return localvault.vault_url.rstrip("/") + path


def raw(localvault, method, path, body=None, identity="operator", api_version="2026-04-01", extra_query=""):
    """A request the SDK would not send, made with a real token of ``identity``."""
    separator = "&" if "?" in path else "?"
    url = vault_path(localvault, f"{path}{separator}api-version={api_version}{extra_query}")
    headers = {"Authorization": f"Bearer {localvault.token(identity)}"}
    return localvault.request(method, url, body, headers=headers)


def test_set_then_get_latest_and_each_version(secret_client):
    client = secret_client()
    name = unique()
    first = client.set_secret(name, "first value", content_type="text/plain", tags={"team": "ops"})
    second = client.set_secret(name, "second value")

    assert first.value == "first value"
    assert first.properties.content_type == "text/plain"
    assert first.properties.tags == {"team": "ops"}
    assert first.properties.enabled is True
    assert first.properties.version != second.properties.version
    assert first.id == f"{client.vault_url.rstrip('/')}/secrets/{name}/{first.properties.version}"
    assert client.get_secret(name).value == "second value"
    assert client.get_secret(name).properties.version == second.properties.version
    assert client.get_secret(name, first.properties.version).value == "first value"
    assert second.properties.tags is None


def test_bundle_carries_the_vault_recovery_attributes_and_times(secret_client):
    client = secret_client()
    before = int(time.time())
    secret = client.set_secret(unique(), "value")
    properties = secret.properties
    assert properties.recoverable_days == 7
    assert properties.recovery_level == "CustomizedRecoverable+Purgeable"
    assert before <= properties.created_on.timestamp() <= time.time() + 1
    assert properties.updated_on == properties.created_on
    assert properties.not_before is None and properties.expires_on is None


def test_get_latest_with_trailing_slash_and_bare_name_as_the_service(localvault, secret_client):
    name = unique()
    secret_client().set_secret(name, "value")
    for path in (f"/secrets/{name}/", f"/secrets/{name}"):
        status, _headers, body = raw(localvault, "GET", path)
        assert status == 200
        assert body["value"] == "value"


def test_names_are_case_insensitive(secret_client):
    client = secret_client()
    name = unique("Mixed-Case")
    client.set_secret(name, "value")
    assert client.get_secret(name.lower()).value == "value"
    assert client.get_secret(name.upper()).name == name


def test_update_properties_changes_one_version_without_a_new_one(secret_client):
    client = secret_client()
    name = unique()
    first = client.set_secret(name, "one")
    client.set_secret(name, "two")
    expires = datetime.datetime.now(UTC).replace(microsecond=0) + datetime.timedelta(days=30)
    updated = client.update_secret_properties(name, first.properties.version, content_type="application/json",
                                              tags={"rotated": "no"}, expires_on=expires)
    assert updated.version == first.properties.version
    assert updated.expires_on == expires
    assert updated.tags == {"rotated": "no"}
    assert updated.content_type == "application/json"
    assert client.get_secret(name).value == "two"
    reread = client.get_secret(name, first.properties.version)
    assert reread.value == "one" and reread.properties.expires_on == expires
    assert len(list(client.list_properties_of_secret_versions(name))) == 2


def test_update_without_version_changes_the_latest(secret_client):
    client = secret_client()
    name = unique()
    client.set_secret(name, "one")
    latest = client.set_secret(name, "two")
    updated = client.update_secret_properties(name, tags={"latest": "yes"})
    assert updated.version == latest.properties.version
    assert updated.tags == {"latest": "yes"}


def test_disabled_secret_cannot_be_read_but_is_listed(secret_client):
    client = secret_client()
    name = unique()
    client.set_secret(name, "hidden", enabled=False)
    with pytest.raises(HttpResponseError) as caught:
        client.get_secret(name)
    assert caught.value.status_code == 403
    assert caught.value.error.code == "Forbidden"
    assert caught.value.error.message == "Operation get is not allowed on a disabled secret."
    assert caught.value.error.innererror["code"] == "SecretDisabled"
    assert name in {item.name for item in client.list_properties_of_secrets()}
    client.update_secret_properties(name, enabled=True)
    assert client.get_secret(name).value == "hidden"


def test_expired_and_not_yet_valid_secrets_are_returned_like_the_service_does(secret_client):
    client = secret_client()
    now = datetime.datetime.now(UTC).replace(microsecond=0)
    expired = unique("expired")
    client.set_secret(expired, "old", expires_on=now - datetime.timedelta(days=1))
    future = unique("future")
    client.set_secret(future, "new", not_before=now + datetime.timedelta(days=1))
    assert client.get_secret(expired).properties.expires_on == now - datetime.timedelta(days=1)
    assert client.get_secret(expired).value == "old"
    assert client.get_secret(future).value == "new"


def test_list_secrets_pages_with_maxresults_and_next_link(localvault, secret_client):
    client = secret_client()
    prefix = unique("paged")
    names = {f"{prefix}-{index}" for index in range(7)}
    for name in names:
        client.set_secret(name, "value")
    pages = list(client.list_properties_of_secrets(max_page_size=3).by_page())
    seen = [item.name for current in pages for item in current]
    assert names <= set(seen)
    assert len(seen) == len(set(seen))
    assert len(pages) >= 3
    status, _headers, body = raw(localvault, "GET", "/secrets", extra_query="&maxresults=3")
    assert status == 200
    assert len(body["value"]) == 3
    assert body["nextLink"].startswith(vault_path(localvault, "/secrets?api-version=2026-04-01&$skiptoken="))
    assert all("value" not in item for item in body["value"])


def test_last_page_has_a_null_next_link(localvault, secret_client):
    name = unique()
    secret_client().set_secret(name, "value")
    status, _headers, body = raw(localvault, "GET", f"/secrets/{name}/versions")
    assert status == 200
    assert len(body["value"]) == 1
    assert body["nextLink"] is None


@pytest.mark.parametrize("maxresults", ["0", "26", "many"])
def test_maxresults_outside_1_to_25_is_a_bad_parameter(localvault, maxresults):
    status, _headers, body = raw(localvault, "GET", "/secrets", extra_query=f"&maxresults={maxresults}")
    assert status == 400
    assert body["error"]["code"] == "BadParameter"


def test_list_versions_pages_through_every_version(secret_client):
    client = secret_client()
    name = unique()
    created = [client.set_secret(name, f"value {index}").properties.version for index in range(5)]
    listed = list(client.list_properties_of_secret_versions(name, max_page_size=2))
    assert sorted(item.version for item in listed) == sorted(created)
    assert all(item.id.endswith(f"/{item.version}") for item in listed)


def test_list_versions_of_an_unknown_name_is_empty(secret_client):
    assert not list(secret_client().list_properties_of_secret_versions(unique("nothing")))


def test_delete_get_deleted_list_deleted_recover(secret_client):
    client = secret_client()
    name = unique()
    client.set_secret(name, "keep me", tags={"a": "b"})
    deleted = client.begin_delete_secret(name).result()
    assert deleted.recovery_id == f"{client.vault_url.rstrip('/')}/deletedsecrets/{name}"
    assert deleted.scheduled_purge_date - deleted.deleted_date == datetime.timedelta(days=7)
    with pytest.raises(ResourceNotFoundError):
        client.get_secret(name)
    assert name not in {item.name for item in client.list_properties_of_secrets()}
    fetched = client.get_deleted_secret(name)
    assert fetched.properties.tags == {"a": "b"}
    assert name in {item.name for item in client.list_deleted_secrets()}
    recovered = client.begin_recover_deleted_secret(name).result()
    assert recovered.name == name
    assert client.get_secret(name).value == "keep me"
    assert name not in {item.name for item in client.list_deleted_secrets()}


def test_deleted_bundles_and_items_carry_no_value(localvault, secret_client):
    name = unique()
    secret_client().set_secret(name, "value")
    status, _headers, deleted = raw(localvault, "DELETE", f"/secrets/{name}")
    assert status == 200 and "value" not in deleted
    assert set(deleted) >= {"id", "attributes", "recoveryId", "deletedDate", "scheduledPurgeDate"}
    _status, _headers, listed = raw(localvault, "GET", "/deletedsecrets")
    assert all("value" not in item for item in listed["value"])


def test_deletion_is_asynchronous_like_the_service(localvault, secret_client, clean_controls):
    client = secret_client()
    name = unique()
    client.set_secret(name, "value")
    with clean_controls.changed_settings(deletion_delay_seconds=1.5):
        poller = client.begin_delete_secret(name)
        status, _headers, body = raw(localvault, "GET", f"/deletedsecrets/{name}")
        assert status == 404
        assert body["error"] == {"code": "SecretNotFound", "message": f"Deleted Secret not found: {name}"}
        with pytest.raises(ResourceExistsError) as caught:
            client.set_secret(name, "again")
        assert caught.value.error.message == "Secret is currently being deleted."
        assert caught.value.error.innererror["code"] == "ObjectIsBeingDeleted"
        poller.wait()
        assert poller.done()
    assert client.get_deleted_secret(name).name == name
    with pytest.raises(ResourceExistsError) as caught:
        client.set_secret(name, "again")
    assert caught.value.status_code == 409
    assert caught.value.error.code == "Conflict"
    assert caught.value.error.message == (
        f"Secret {name} is currently in a deleted but recoverable state, and its name cannot be reused; "
        "in this state, the secret can only be recovered or purged.")
    assert caught.value.error.innererror["code"] == "ObjectIsDeletedButRecoverable"


def test_recovery_is_asynchronous_and_the_sdk_polls_until_done(localvault, secret_client, clean_controls):
    client = secret_client()
    name = unique()
    client.set_secret(name, "value")
    client.begin_delete_secret(name).wait()
    with clean_controls.changed_settings(recovery_delay_seconds=1.5):
        poller = client.begin_recover_deleted_secret(name)
        status, _headers, _body = raw(localvault, "GET", f"/secrets/{name}/")
        assert status == 404
        poller.wait()
    assert client.get_secret(name).value == "value"


def test_purge_removes_the_secret_for_good(localvault, secret_client):
    client = secret_client()
    name = unique()
    client.set_secret(name, "value")
    client.begin_delete_secret(name).wait()
    status, headers, body = raw(localvault, "DELETE", f"/deletedsecrets/{name}")
    assert status == 204 and body is None
    assert headers["x-ms-request-id"]
    with pytest.raises(ResourceNotFoundError) as caught:
        client.get_deleted_secret(name)
    assert caught.value.error.message == f"Deleted Secret not found: {name}"
    with pytest.raises(ResourceNotFoundError):
        client.purge_deleted_secret(name)
    assert client.set_secret(name, "fresh").value == "fresh"
    assert len(list(client.list_properties_of_secret_versions(name))) == 1


def test_purge_of_a_secret_that_is_not_deleted_is_not_found(secret_client):
    client = secret_client()
    name = unique()
    client.set_secret(name, "value")
    with pytest.raises(ResourceNotFoundError):
        client.purge_deleted_secret(name)
    with pytest.raises(ResourceNotFoundError):
        client.begin_recover_deleted_secret(name)


def test_purge_protection_refuses_purge_and_changes_the_recovery_level(secret_client, clean_controls):
    client = secret_client()
    name = unique()
    with clean_controls.changed_settings(purge_protection=True):
        secret = client.set_secret(name, "value")
        assert secret.properties.recovery_level == "CustomizedRecoverable"
        client.begin_delete_secret(name).wait()
        with pytest.raises(HttpResponseError) as caught:
            client.purge_deleted_secret(name)
        assert caught.value.status_code == 403
        assert caught.value.error.message.startswith('Operation "purge" is not allowed because purge protection is enabled for this vault.')
    client.purge_deleted_secret(name)


def test_backup_and_restore_bring_back_every_version(secret_client):
    client = secret_client()
    name = unique()
    versions = [client.set_secret(name, f"value {index}", tags={"index": str(index)}).properties.version for index in range(3)]
    backup = client.backup_secret(name)
    assert isinstance(backup, bytes) and b"value 2" not in backup
    client.begin_delete_secret(name).wait()
    client.purge_deleted_secret(name)
    restored = client.restore_secret_backup(backup)
    assert restored.name == name and restored.version == versions[-1]
    assert sorted(item.version for item in client.list_properties_of_secret_versions(name)) == sorted(versions)
    assert client.get_secret(name, versions[0]).value == "value 0"
    assert client.get_secret(name).properties.tags == {"index": "2"}


def test_restore_onto_an_existing_or_deleted_name_conflicts(secret_client):
    client = secret_client()
    name = unique()
    client.set_secret(name, "value")
    backup = client.backup_secret(name)
    with pytest.raises(ResourceExistsError) as caught:
        client.restore_secret_backup(backup)
    assert caught.value.status_code == 409
    client.begin_delete_secret(name).wait()
    with pytest.raises(ResourceExistsError) as caught:
        client.restore_secret_backup(backup)
    assert caught.value.error.innererror["code"] == "ObjectIsDeletedButRecoverable"


def test_restore_of_a_damaged_blob_is_a_bad_parameter(secret_client):
    client = secret_client()
    name = unique()
    client.set_secret(name, "value")
    backup = bytearray(client.backup_secret(name))
    backup[len(backup) // 2] ^= 0x01
    with pytest.raises(HttpResponseError) as caught:
        client.restore_secret_backup(bytes(backup))
    assert caught.value.status_code == 400
    assert caught.value.error.code == "BadParameter"


def test_backup_of_a_missing_secret_is_not_found(secret_client):
    with pytest.raises(ResourceNotFoundError) as caught:
        secret_client().backup_secret(unique("missing"))
    assert caught.value.error.code == "SecretNotFound"


def test_missing_secret_and_missing_version_are_secret_not_found(secret_client):
    client = secret_client()
    name = unique("missing")
    with pytest.raises(ResourceNotFoundError) as caught:
        client.get_secret(name)
    assert caught.value.status_code == 404
    assert caught.value.error.code == "SecretNotFound"
    assert caught.value.error.message.startswith(f"A secret with (name/id) {name} was not found in this key vault.")
    client.set_secret(name, "value")
    with pytest.raises(ResourceNotFoundError) as caught:
        client.get_secret(name, "0" * 32)
    assert caught.value.error.message.startswith(f"A secret with (name/id) {name}/{'0' * 32} was not found")


@pytest.mark.parametrize("name", ["under_score", "dot.ted", "x" * 128])
def test_invalid_names_are_bad_parameters(secret_client, name):
    with pytest.raises(HttpResponseError) as caught:
        secret_client().set_secret(name, "value")
    assert caught.value.status_code == 400
    assert caught.value.error.code == "BadParameter"
    assert caught.value.error.message == f"The request URI contains an invalid name: {name}"


def test_names_of_127_characters_are_valid(secret_client):
    name = "n" * 95 + uuid.uuid4().hex
    assert len(name) == 127
    assert secret_client().set_secret(name, "value").name == name


def test_secret_values_are_limited_to_25_kb(secret_client):
    client = secret_client()
    name = unique()
    assert client.set_secret(name, "x" * 25600).value == "x" * 25600
    with pytest.raises(HttpResponseError) as caught:
        client.set_secret(name, "x" * 25601)
    assert caught.value.status_code == 400
    assert caught.value.error.code == "BadParameter"


def test_empty_values_are_accepted(secret_client):
    client = secret_client()
    name = unique()
    client.set_secret(name, "")
    assert client.get_secret(name).value == ""


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", {"tags": {"a": "b"}}, {"value": 5}, {"value": "v", "attributes": {"exp": "soon"}},
                                  {"value": "v", "tags": {"n": 1}}])
def test_malformed_set_requests_are_bad_parameters(localvault, body):
    status, _headers, answer = raw(localvault, "PUT", f"/secrets/{unique()}", body=body)
    assert status == 400
    assert answer["error"]["code"] == "BadParameter"


@pytest.mark.parametrize("api_version", ["2026-04-01", "2025-07-01", "7.6", "7.5", "7.4", "7.3", "7.2", "7.1", "7.0", "2016-10-01"])
def test_every_api_version_the_sdk_can_send_is_served(localvault, vault_env, api_version):  # pylint: disable=unused-argument
    client = localvault.secret_client(api_version=api_version)
    name = unique()
    client.set_secret(name, "versioned")
    assert client.get_secret(name).value == "versioned"


def test_an_unknown_api_version_is_a_bad_parameter(localvault):
    status, _headers, body = raw(localvault, "GET", "/secrets", api_version="7.9")
    assert status == 400
    assert body["error"] == {
        "code": "BadParameter",
        "message": "The specified version (7.9) is not recognized. Consider using the latest supported version (2026-04-01).",
    }


def test_responses_carry_the_service_headers(localvault, secret_client):
    name = unique()
    secret_client().set_secret(name, "value")
    status, headers, _body = raw(localvault, "GET", f"/secrets/{name}/")
    assert status == 200
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["Cache-Control"] == "no-cache"
    assert uuid.UUID(headers["x-ms-request-id"])
    assert headers["x-ms-keyvault-service-version"]
    _status, other, _body = raw(localvault, "GET", f"/secrets/{name}/")
    assert other["x-ms-request-id"] != headers["x-ms-request-id"]


def test_unknown_paths_and_methods_are_refused(localvault):
    status, _headers, body = raw(localvault, "GET", "/keys")
    assert status == 404 and body["error"]["code"] == "NotFound"
    status, headers, body = raw(localvault, "POST", f"/secrets/{unique()}")
    assert status == 405 and "PUT" in headers["Allow"]
