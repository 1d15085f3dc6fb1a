"""State survives a restart on the same state folder, and only then; --ephemeral keeps nothing."""

import os
import sqlite3
import threading
import time

import pytest
from azure.core.exceptions import ResourceNotFoundError


def read_bytes(path):
    with open(path, "rb") as handle:
        return handle.read()


@pytest.fixture
def client_env(monkeypatch):
    def apply(vault):
        for name, value in vault.env.items():
            monkeypatch.setenv(name, value)
    return apply


def test_secrets_deleted_secrets_ca_and_tokens_survive_a_restart(localvault_factory, client_env, tmp_path):
    state_dir = tmp_path / "state"
    vault = localvault_factory(state_dir=state_dir)
    client_env(vault)
    client = vault.secret_client()
    first = client.set_secret("kept", "one").properties.version
    client.set_secret("kept", "two")
    client.set_secret("binned", "gone")
    client.begin_delete_secret("binned").wait()
    token = vault.token()
    ca_before = read_bytes(vault.ca_bundle)
    assert vault.stop() == 0

    restarted = localvault_factory(state_dir=state_dir)
    client_env(restarted)
    assert read_bytes(restarted.ca_bundle) == ca_before
    client = restarted.secret_client()
    assert client.get_secret("kept").value == "two"
    assert client.get_secret("kept", first).value == "one"
    assert client.get_deleted_secret("binned").name == "binned"
    assert client.begin_recover_deleted_secret("binned").result().name == "binned"
    status, _headers, body = restarted.request("GET", f"{restarted.vault_url}secrets/kept/?api-version=2026-04-01",
                                               headers={"Authorization": f"Bearer {token}"})
    assert status == 200 and body["value"] == "two"


def test_an_ephemeral_vault_forgets_everything_on_restart(localvault_factory, client_env, tmp_path):
    state_dir = tmp_path / "state"
    vault = localvault_factory(state_dir=state_dir, ephemeral=True)
    client_env(vault)
    vault.secret_client().set_secret("fleeting", "value")
    assert vault.stop() == 0
    assert not os.path.exists(state_dir / "vault.sqlite3")
    restarted = localvault_factory(state_dir=state_dir, ephemeral=True)
    client_env(restarted)
    with pytest.raises(ResourceNotFoundError):
        restarted.secret_client().get_secret("fleeting")


def test_sigterm_during_writes_loses_no_acknowledged_write_and_keeps_the_database_sound(localvault_factory, client_env, tmp_path):
    state_dir = tmp_path / "state"
    vault = localvault_factory(state_dir=state_dir)
    client_env(vault)
    acknowledged = []
    stop = threading.Event()

    def writer(index):
        client = vault.secret_client(retry_total=0)
        count = 0
        while not stop.is_set():
            try:
                client.set_secret(f"writer-{index}-{count}", "value")
            except Exception:  # pylint: disable=broad-exception-caught
                return
            acknowledged.append(f"writer-{index}-{count}")
            count += 1

    threads = [threading.Thread(target=writer, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    while len(acknowledged) < 20:
        time.sleep(0.05)
    assert vault.stop() == 0
    assert "Traceback" not in vault.log_text()
    stop.set()
    for thread in threads:
        thread.join(timeout=30)

    with sqlite3.connect(state_dir / "vault.sqlite3") as database:
        assert database.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    restarted = localvault_factory(state_dir=state_dir)
    client_env(restarted)
    stored = {item.name for item in restarted.secret_client().list_properties_of_secrets()}
    assert set(acknowledged) <= stored
