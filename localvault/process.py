"""A local vault run as a child process (``python -m localvault`` on free ports) for tests, benchmarks and scripts.

``LocalVaultProcess(state_dir, config=None, ephemeral=False, arguments=()).start()`` waits until the vault is ready and
returns it; it then knows the vault's URLs, CA bundle and identities, the client environment (``env``),
and talks to the operator controls (counters, faults, settings) and the identity endpoint over plain
HTTP(S), with the standard library only.
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

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class LocalVaultProcess:
    """A ``python -m localvault`` child process and what a client needs to talk to it."""

    def __init__(self, state_dir, config=None, ephemeral=False, arguments=()):
        self.state_dir = str(state_dir)
        self.config = dict(config or {})
        self.ephemeral = ephemeral
        # More command-line options, e.g. ("--advertised-host", "vault.example.test").
        self.arguments = tuple(arguments)
        self.process = None
        self.connection = None
        self._log = None

    # lifecycle

    def start(self, timeout=30):
        os.makedirs(self.state_dir, exist_ok=True)
        config_path = os.path.join(self.state_dir, "process-config.json")
        with open(config_path, "w", encoding="utf-8") as handle:
            json.dump(self.config, handle)
        command = [sys.executable, "-m", "localvault", "--state-dir", self.state_dir, "--vault-port", "0", "--imds-port", "0",
                   "--config", config_path]
        if self.ephemeral:
            command.append("--ephemeral")
        command.extend(self.arguments)
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

    # raw HTTPS and operator controls

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
        if status != 200:
            raise RuntimeError(f"no token for identity {identity}: {status} {body}")
        return body["access_token"]
