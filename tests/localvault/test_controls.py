"""Operator controls of the local vault: counters, injected faults, reset and run-time settings."""

import http.client
import time
import urllib.error
import uuid

import pytest
from azure.core.exceptions import HttpResponseError

from localvault.controls import REQUEST_LOG_SIZE, Counters


def unique(prefix="controls"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def test_counters_count_operations_per_identity_status_and_imds(secret_client, clean_controls):
    name = unique()
    client = secret_client("operator")
    client.set_secret(name, "value")
    client.get_secret(name)
    client.get_secret(name)
    secret_client("vm").get_secret(name)
    counters = clean_controls.counters()
    assert counters["identities"]["operator"] == {"SetSecret": 1, "GetSecret": 2}
    assert counters["identities"]["vm"] == {"GetSecret": 1}
    assert counters["statuses"]["GetSecret"]["200"] == 3
    assert counters["operations"]["GetSecret"] == sum(counters["statuses"]["GetSecret"].values())
    assert counters["total"] == sum(counters["operations"].values())
    assert counters["imds"]["identities"] == {"operator": 1, "vm": 1}
    assert counters["imds"]["statuses"] == {"200": 2}


def test_counters_count_refused_requests_under_the_caller(localvault, secret_client, clean_controls):
    with pytest.raises(HttpResponseError):
        secret_client("vm").set_secret(unique(), "value")
    counters = clean_controls.counters()
    assert counters["identities"]["vm"]["SetSecret"] == 1
    assert counters["statuses"]["SetSecret"]["403"] == 1
    localvault.request("GET", f"{localvault.vault_url}secrets?api-version=2026-04-01")
    assert clean_controls.counters()["identities"]["anonymous"]["GetSecrets"] == 1


def test_throttling_with_retry_after_is_retried_by_the_sdk(secret_client, clean_controls):
    name = unique()
    client = secret_client()
    client.set_secret(name, "value")
    clean_controls.add_fault(operation="GetSecret", status=429, retry_after=1, count=2)
    started = time.monotonic()
    assert client.get_secret(name).value == "value"
    assert time.monotonic() - started >= 2
    counters = clean_controls.counters()
    assert counters["faults"] == {"GetSecret": 2}
    assert counters["statuses"]["GetSecret"] == {"429": 2, "200": 1}
    assert clean_controls.control("GET", "faults") == {"faults": []}


def test_a_throttled_response_looks_like_the_service(localvault, clean_controls):
    clean_controls.add_fault(operation="GetSecrets", status=429, retry_after=3, count=1)
    token = localvault.token()
    status, headers, body = localvault.request("GET", f"{localvault.vault_url}secrets?api-version=2026-04-01",
                                               headers={"Authorization": f"Bearer {token}"})
    assert status == 429
    assert headers["Retry-After"] == "3"
    assert body["error"]["code"] == "Throttled"


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_retried_by_the_sdk(secret_client, clean_controls, status):
    client = secret_client()
    clean_controls.add_fault(operation="SetSecret", status=status, count=1)
    assert client.set_secret(unique(), "value").value == "value"
    assert clean_controls.counters()["statuses"]["SetSecret"] == {str(status): 1, "200": 1}


def test_a_persistent_fault_reaches_the_caller_until_cleared(secret_client, clean_controls):
    client = secret_client(retry_total=1, retry_backoff_factor=0.01)
    name = unique()
    client.set_secret(name, "value")
    clean_controls.add_fault(operation="*", status=500)
    with pytest.raises(HttpResponseError) as caught:
        client.get_secret(name)
    assert caught.value.status_code == 500
    assert caught.value.error.code == "InternalServerError"
    clean_controls.control("DELETE", "faults")
    assert client.get_secret(name).value == "value"


def test_a_dropped_connection_is_retried_by_the_sdk(secret_client, clean_controls):
    client = secret_client()
    name = unique()
    client.set_secret(name, "value")
    clean_controls.add_fault(operation="GetSecret", drop=True, count=1)
    assert client.get_secret(name).value == "value"
    counters = clean_controls.counters()
    assert counters["faults"] == {"GetSecret": 1}
    assert counters["statuses"]["GetSecret"] == {"200": 1}


def test_a_fault_on_every_nth_request_hits_a_share_of_them(localvault, clean_controls):
    clean_controls.add_fault(operation="GetSecrets", status=503, every=3)
    token = localvault.token()
    statuses = [localvault.request("GET", f"{localvault.vault_url}secrets?api-version=2026-04-01&maxresults=1",
                                   headers={"Authorization": f"Bearer {token}"})[0] for _attempt in range(9)]
    assert statuses == [200, 200, 503] * 3


def test_added_latency_delays_the_answer(secret_client, clean_controls):
    client = secret_client()
    name = unique()
    client.set_secret(name, "value")
    clean_controls.add_fault(operation="GetSecret", latency=0.6, count=1)
    started = time.monotonic()
    assert client.get_secret(name).value == "value"
    assert time.monotonic() - started >= 0.6


def test_imds_faults_are_retried_by_azure_identity(secret_client, clean_controls):
    clean_controls.add_fault(operation="ImdsToken", status=503, count=1)
    client = secret_client()
    client.set_secret(unique(), "value")
    assert clean_controls.counters()["imds"]["statuses"] == {"503": 1, "200": 1}


def test_reset_zeroes_counters_and_clears_faults(secret_client, clean_controls):
    secret_client().set_secret(unique(), "value")
    clean_controls.add_fault(operation="GetSecret", status=503)
    answer = clean_controls.reset()
    assert answer["faults"] == []
    assert answer["counters"]["total"] == 0 and answer["counters"]["operations"] == {}
    assert clean_controls.control("GET", "faults") == {"faults": []}


def test_the_request_log_lists_each_request_when_it_arrived(secret_client, clean_controls):
    name = unique()
    clean_controls.add_fault(operation="SetSecret", latency=0.5, count=1)
    started = time.time()
    secret_client("operator").set_secret(name, "value")
    finished = time.time()
    requests = clean_controls.control("GET", "requests")["requests"]
    # The SDK sends the challenge request only if no client in this process has met the vault's challenge yet.
    challenges = [entry for entry in requests if entry["status"] == 401]
    assert [(entry["operation"], entry["identity"]) for entry in challenges] in ([], [("SetSecret", "anonymous")])
    assert [(entry["operation"], entry["status"], entry["identity"]) for entry in requests[len(challenges):]] == [
        ("ImdsToken", 200, "operator"), ("SetSecret", 200, "operator")]
    times = [entry["time"] for entry in requests]
    assert started <= times[0] and times == sorted(times) and times[-1] <= finished
    # The time is the request's arrival, not its answer, which the latency held back.
    assert times[-1] <= finished - 0.5
    clean_controls.reset()
    assert clean_controls.control("GET", "requests") == {"requests": []}


def test_the_request_log_keeps_the_latest_requests():
    counters = Counters()
    for number in range(REQUEST_LOG_SIZE + 5):
        counters.record("GetSecret", "vm", 200, received=float(number))
    requests = counters.requests()
    assert len(requests) == REQUEST_LOG_SIZE
    assert requests[0] == {"time": 5.0, "operation": "GetSecret", "status": 200, "identity": "vm"}
    assert requests[-1]["time"] == float(REQUEST_LOG_SIZE + 4)


@pytest.mark.parametrize("spec", [
    {"operation": "NoSuchOperation", "status": 500},
    {"operation": "GetSecret", "status": 200},
    {"operation": "GetSecret", "status": 500, "count": 0},
    {"operation": "GetSecret"},
    {"operation": "GetSecret", "status": 500, "drop": True},
    {"operation": "GetSecret", "latency": -1},
    {"operation": "GetSecret", "status": 500, "colour": "red"},
    {"operation": "GetSecret", "status": 500, "every": 0},
    {"operation": "GetSecret", "status": 500, "matched": 3},
])
def test_invalid_faults_are_refused(localvault, spec):
    status, _headers, body = localvault.request("POST", localvault.connection["controls_url"] + "/faults", spec)
    assert status == 400
    assert body["error"]


def test_settings_can_be_read_changed_and_restored(localvault, clean_controls):
    configured = clean_controls.settings()
    assert configured["deletion_delay_seconds"] == 0
    assert configured["soft_delete_retention_days"] == 7
    changed = clean_controls.control("POST", "settings", {"deletion_delay_seconds": 4, "purge_protection": True})
    assert changed["deletion_delay_seconds"] == 4 and changed["purge_protection"] is True
    for invalid in ({"deletion_delay_seconds": -1}, {"soft_delete_retention_days": 91}, {"purge_protection": "yes"}, {"speed": 1}):
        status, _headers, _body = localvault.request("POST", localvault.connection["controls_url"] + "/settings", invalid)
        assert status == 400
    assert clean_controls.control("DELETE", "settings") == configured


def test_unknown_controls_are_not_found(localvault):
    status, _headers, body = localvault.request("GET", localvault.connection["controls_url"] + "/nothing")
    assert status == 404
    assert "controls" in body


def test_a_response_dropped_after_the_write_leaves_the_write_done(localvault, clean_controls):
    name = unique()
    clean_controls.add_fault(operation="SetSecret", drop=True, after=True, count=1)
    token = localvault.token()
    url = f"{localvault.vault_url}secrets/{name}?api-version=2026-04-01"
    with pytest.raises((ConnectionError, http.client.HTTPException, urllib.error.URLError)):
        localvault.request("PUT", url, {"value": "written"}, headers={"Authorization": f"Bearer {token}"})
    status, _headers, body = localvault.request("GET", url, headers={"Authorization": f"Bearer {token}"})
    assert (status, body["value"]) == (200, "written")
    counters = clean_controls.counters()
    assert counters["faults"] == {"SetSecret": 1}
    assert counters["statuses"]["SetSecret"] == {"200": 1}


@pytest.mark.parametrize("spec", [
    {"operation": "SetSecret", "status": 500, "after": True},
    {"operation": "ImdsToken", "drop": True, "after": True},
    {"operation": "SetSecret", "drop": True, "after": "yes"},
])
def test_a_fault_after_the_request_only_delays_or_drops(localvault, spec):
    status, _headers, _body = localvault.request("POST", localvault.connection["controls_url"] + "/faults", spec)
    assert status == 400
