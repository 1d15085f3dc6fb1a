"""Concurrent clients, and clients that go away in the middle of a request."""

import concurrent.futures
import json
import socket
import ssl
import time
import uuid

import pytest
from azure.core.exceptions import ResourceNotFoundError


def unique(prefix="concurrent"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def test_concurrent_writers_all_land(secret_client):
    shared = unique("shared")
    prefix = unique("own")
    clients = [secret_client() for _attempt in range(8)]

    def work(index):
        client = clients[index]
        for round_number in range(6):
            client.set_secret(shared, f"{index}-{round_number}")
            client.set_secret(f"{prefix}-{index}", f"{round_number}")

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(work, range(8)))
    reader = clients[0]
    assert len(list(reader.list_properties_of_secret_versions(shared))) == 48
    assert all(reader.get_secret(f"{prefix}-{index}").value == "5" for index in range(8))
    assert len(list(reader.list_properties_of_secret_versions(f"{prefix}-0"))) == 6


def _tls_connection(localvault):
    host, port = localvault.vault_url.split("//")[1].strip("/").split(":")
    raw = socket.create_connection((host, int(port)), timeout=10)
    return ssl.create_default_context(cafile=localvault.ca_bundle).wrap_socket(raw, server_hostname=host), f"{host}:{port}"


def _put_request(localvault, name, body, announced_length, host):
    return (f"PUT /secrets/{name}?api-version=2026-04-01 HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {localvault.token()}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {announced_length}\r\n\r\n").encode() + body


def test_a_client_that_disconnects_mid_body_leaves_nothing_behind(localvault, secret_client):
    name = unique("cut")
    connection, host = _tls_connection(localvault)
    body = json.dumps({"value": "never stored"}).encode()
    connection.sendall(_put_request(localvault, name, body[:8], len(body), host))
    connection.close()
    client = secret_client()
    with pytest.raises(ResourceNotFoundError):
        client.get_secret(name)
    assert client.set_secret(name, "after").value == "after"


def test_a_client_that_leaves_before_the_answer_gets_its_write_done_once(localvault, secret_client):
    name = unique("gone")
    connection, host = _tls_connection(localvault)
    body = json.dumps({"value": "stored"}).encode()
    connection.sendall(_put_request(localvault, name, body, len(body), host))
    connection.close()
    client = secret_client()
    for _attempt in range(50):
        try:
            assert client.get_secret(name).value == "stored"
            break
        except ResourceNotFoundError:
            time.sleep(0.1)
    assert len(list(client.list_properties_of_secret_versions(name))) == 1
