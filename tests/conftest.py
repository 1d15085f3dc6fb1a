"""Pytest fixtures that run the local vault (``python -m localvault``) for SDK-driven tests.

``localvault`` is one vault for the whole session (state in a temporary folder; pass
``--localvault-ephemeral`` to keep it in memory). ``localvault_factory`` starts extra vaults with
their own configuration and state folder, e.g. to restart one. ``vault_env`` puts the client
environment (``AZURE_POD_IDENTITY_AUTHORITY_HOST``...) into ``os.environ`` for one test, and
``secret_client`` builds ``SecretClient``s authenticated through the vault's managed identities.
"""

import contextlib
import json
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from xdist.scheduler import LoadFileScheduling

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    # Tests that import localvault need the repo root; without it, tests/localvault/ would shadow the package.
    sys.path.insert(0, REPO_ROOT)

# Short delays keep the suite fast; tests that look at the in-between states raise them through the controls.
TEST_CONFIG = {
    "deletion_delay_seconds": 0,
    "recovery_delay_seconds": 0,
    "certificate_creation_delay_seconds": 0,
    "soft_delete_retention_days": 7,
}


class FileScheduling(LoadFileScheduling):
    """``--dist loadfile``, with every fleet test in one unit of work.

    A file's tests share module-scoped playbook runs that would otherwise run once per worker, and the fleet
    tests share one fleet of network namespaces, of which a machine can hold only one. (pytest-xdist's own
    ``loadgroup`` cannot be used: with pytest 9 the group it appends to ``item._nodeid`` is no longer read.)
    """

    def _split_scope(self, nodeid):
        path = super()._split_scope(nodeid)
        return "fleet" if path.startswith("fleet/") else path


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") == "loadfile":
        return FileScheduling(config, log)
    return None


def pytest_addoption(parser):
    parser.addoption("--localvault-ephemeral", action="store_true", help="run the session's local vault with --ephemeral")


class LocalVaultProcess:
    """A ``python -m localvault`` child process and what a client needs to talk to it."""

    def __init__(self, state_dir, config=None, ephemeral=False):
        self.state_dir = str(state_dir)
        self.config = dict(TEST_CONFIG if config is None else config)
        self.ephemeral = ephemeral
        self.process = None
        self.connection = None
        self._log = None

    # lifecycle

    def start(self, timeout=30):
        os.makedirs(self.state_dir, exist_ok=True)
        config_path = os.path.join(self.state_dir, "test-config.json")
        with open(config_path, "w", encoding="utf-8") as handle:
            json.dump(self.config, handle)
        command = [sys.executable, "-m", "localvault", "--state-dir", self.state_dir, "--vault-port", "0", "--imds-port", "0",
                   "--config", config_path]
        if self.ephemeral:
            command.append("--ephemeral")
        environment = dict(os.environ, PYTHONPATH=REPO_ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
        self._log = open(os.path.join(self.state_dir, "localvault.log"), "ab")  # pylint: disable=consider-using-with
        self.process = subprocess.Popen(command, cwd=REPO_ROOT, env=environment, stdout=self._log, stderr=subprocess.STDOUT)
        connection_path = os.path.join(self.state_dir, "connection.json")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"localvault exited with {self.process.returncode}:\n{self.log_text()}")
            if os.path.exists(connection_path):
                with open(connection_path, encoding="utf-8") as handle:
                    connection = json.load(handle)
                if connection.get("pid") == self.process.pid:
                    self.connection = connection
                    return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"localvault did not become ready in {timeout} s:\n{self.log_text()}")

    def stop(self, timeout=15):
        """SIGTERM the vault and wait for it; returns its exit status."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode

    def log_text(self):
        with open(os.path.join(self.state_dir, "localvault.log"), encoding="utf-8", errors="replace") as handle:
            return handle.read()

    # connection details

    @property
    def vault_url(self):
        return self.connection["vault_url"]

    @property
    def imds_url(self):
        return self.connection["imds_url"]

    @property
    def ca_bundle(self):
        return self.connection["ca_bundle"]

    @property
    def identities(self):
        return {identity["name"]: identity for identity in self.connection["identities"]}

    @property
    def env(self):
        return {
            "AZURE_POD_IDENTITY_AUTHORITY_HOST": self.imds_url,
            "ANSIBLE_KEYVAULT_URL": self.vault_url,
            "ANSIBLE_KEYVAULT_CA_CERT": self.ca_bundle,
            "ANSIBLE_KEYVAULT_VERIFY_CHALLENGE_RESOURCE": "false",
            "LOCALVAULT_URL": self.vault_url,
            "LOCALVAULT_CA_BUNDLE": self.ca_bundle,
        }

    def credential(self, identity="operator"):
        """A ManagedIdentityCredential for a configured identity; needs ``env`` in ``os.environ``."""
        from azure.identity import ManagedIdentityCredential  # pylint: disable=import-outside-toplevel
        details = self.identities[identity]
        if details["system_assigned"]:
            return ManagedIdentityCredential()
        return ManagedIdentityCredential(client_id=details["client_id"])

    def secret_client(self, identity="operator", **kwargs):
        from azure.keyvault.secrets import SecretClient  # pylint: disable=import-outside-toplevel
        return SecretClient(self.vault_url, self.credential(identity), verify_challenge_resource=False, connection_verify=self.ca_bundle, **kwargs)

    # raw HTTPS (for what the SDK never sends) and operator controls

    def ssl_context(self):
        return ssl.create_default_context(cafile=self.ca_bundle)

    def request(self, method, url, body=None, headers=None, timeout=30):
        """``(status, headers, parsed JSON body or None)`` of a raw request to the vault or IMDS."""
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode("utf-8"))
        request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
        if data is not None:
            request.add_header("Content-Type", "application/json")
        context = self.ssl_context() if url.startswith("https:") else None
        try:
            with urllib.request.urlopen(request, context=context, timeout=timeout) as response:
                status, response_headers, payload = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, response_headers, payload = error.code, error.headers, error.read()
        return status, response_headers, json.loads(payload) if payload else None

    def control(self, method, name, body=None):
        status, _headers, payload = self.request(method, self.connection["controls_url"] + "/" + name, body)
        if status >= 300:
            raise RuntimeError(f"control {method} {name} failed with {status}: {payload}")
        return payload

    def counters(self):
        return self.control("GET", "counters")

    def add_fault(self, **spec):
        return self.control("POST", "faults", spec)["fault"]

    def reset(self):
        return self.control("POST", "reset")

    def settings(self):
        return self.control("GET", "settings")

    @contextlib.contextmanager
    def changed_settings(self, **changes):
        """Change run-time settings for the body of a ``with``; the configured ones come back afterwards."""
        self.control("POST", "settings", changes)
        try:
            yield self.settings()
        finally:
            self.control("DELETE", "settings")

    def token(self, identity="operator", resource="https://vault.azure.net"):
        """An access token straight from the IMDS endpoint."""
        details = self.identities[identity]
        query = f"api-version=2018-02-01&resource={urllib.request.quote(resource, safe='')}"
        if not details["system_assigned"]:
            query += f"&client_id={details['client_id']}"
        status, _headers, body = self.request("GET", f"{self.imds_url}/metadata/identity/oauth2/token?{query}", headers={"Metadata": "true"})
        assert status == 200, body
        return body["access_token"]


@pytest.fixture(scope="session")
def localvault(request, tmp_path_factory):
    vault = LocalVaultProcess(tmp_path_factory.mktemp("localvault"), ephemeral=request.config.getoption("--localvault-ephemeral"))
    vault.start()
    yield vault
    vault.stop()


@pytest.fixture
def localvault_factory(tmp_path):
    """``start(config=None, state_dir=None, ephemeral=False)`` -> a running LocalVaultProcess, stopped after the test."""
    started = []

    def start(config=None, state_dir=None, ephemeral=False):
        vault = LocalVaultProcess(state_dir or tmp_path / f"vault{len(started)}", config=config, ephemeral=ephemeral)
        started.append(vault)
        return vault.start()

    yield start
    for vault in started:
        vault.stop()


@pytest.fixture
def vault_env(localvault, monkeypatch):
    """The session vault's client environment, set in ``os.environ`` for one test."""
    for name, value in localvault.env.items():
        monkeypatch.setenv(name, value)
    return localvault.env


@pytest.fixture
def secret_client(localvault, vault_env):  # pylint: disable=unused-argument,redefined-outer-name
    """``secret_client(identity="operator")`` -> SecretClient on the session vault."""
    return localvault.secret_client


@pytest.fixture
def clean_controls(localvault):
    """Counters zeroed and no faults before the test; faults cleared and settings restored after it."""
    localvault.reset()
    yield localvault
    localvault.reset()
    localvault.control("DELETE", "settings")
