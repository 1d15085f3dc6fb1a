"""The local vault process: connection files, TLS, configuration errors and a clean stop on SIGTERM."""

import ipaddress
import json
import os
import socket
import ssl
import subprocess
import sys

import pytest
from azure.identity import ManagedIdentityCredential
from azure.keyvault.secrets import SecretClient
from cryptography import x509

from localvault.process import LocalVaultProcess

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_connection_json_describes_the_running_vault(localvault):
    connection = localvault.connection
    assert connection["vault_url"].startswith("https://localhost:") and connection["vault_url"].endswith("/")
    assert connection["imds_url"].startswith("http://127.0.0.1:")
    assert connection["controls_url"] == connection["vault_url"] + "_emulator"
    assert connection["ca_bundle"] == os.path.join(localvault.state_dir, "ca.pem")
    assert connection["pid"] == localvault.process.pid
    vm = localvault.identities["vm"]
    assert vm["system_assigned"] is True
    assert vm["permissions"] == {"secrets": ["get", "list"], "certificates": []}
    operator = localvault.identities["operator"]
    assert operator["system_assigned"] is False
    assert operator["permissions"]["secrets"] == ["get", "list", "set", "delete", "recover", "backup", "restore", "purge"]
    assert {"managecontacts", "getissuers", "create", "import"} <= set(operator["permissions"]["certificates"])


def test_env_sh_exports_what_a_client_needs(localvault):
    script = f"set -e; . {os.path.join(localvault.state_dir, 'env.sh')}; env"
    output = subprocess.run(["sh", "-c", script], check=True, capture_output=True, text=True, env={}).stdout
    exported = dict(line.split("=", 1) for line in output.splitlines() if "=" in line)
    for name, value in localvault.env.items():
        assert exported[name] == value


def sourced_env_sh(state_dir, environment=None):
    """The variables a clean shell has after sourcing the vault's env.sh."""
    script = f"set -e; . {os.path.join(state_dir, 'env.sh')}; env"
    output = subprocess.run(["sh", "-c", script], check=True, capture_output=True, text=True, env=environment or {}).stdout
    return dict(line.split("=", 1) for line in output.splitlines() if "=" in line)


def test_an_advertised_host_is_what_clients_are_told_and_what_the_certificate_covers(tmp_path, monkeypatch):
    name = "localvault.vault.azure.net"
    vault = LocalVaultProcess(tmp_path / "state", config={"certificate_creation_delay_seconds": 0},
                              arguments=("--host", "0.0.0.0", "--advertised-host", name)).start()
    try:
        vault_port = int(vault.vault_url.rsplit(":", 1)[1].strip("/"))
        assert vault.vault_url == f"https://{name}:{vault_port}/"
        assert vault.imds_url.startswith(f"http://{name}:")
        assert vault.connection["controls_url"] == f"https://{name}:{vault_port}/_emulator"
        exported = sourced_env_sh(vault.state_dir)
        assert exported["ANSIBLE_KEYVAULT_URL"] == exported["LOCALVAULT_URL"] == vault.vault_url
        assert exported["AZURE_POD_IDENTITY_AUTHORITY_HOST"] == vault.imds_url

        # Resolved to the loopback address, the name is what an SDK client connects to: TLS verifies the
        # name against the vault's CA. (The challenge-resource check compares host and port with
        # vault.azure.net, so on any port but 443 it still has to be turned off.)
        resolve = socket.getaddrinfo
        monkeypatch.setattr(socket, "getaddrinfo", lambda host, *rest, **kwargs: resolve("127.0.0.1" if host == name else host, *rest, **kwargs))
        monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", vault.imds_url)
        client = SecretClient(vault.vault_url, ManagedIdentityCredential(client_id=vault.identities["operator"]["client_id"]),
                              verify_challenge_resource=False, connection_verify=vault.ca_bundle)
        client.set_secret("advertised", "reached by name")
        assert client.get_secret("advertised").value == "reached by name"
    finally:
        vault.stop()


def test_an_advertised_host_that_is_no_host_name_is_refused(tmp_path):
    result = run_cli(tmp_path, "--advertised-host", "local vault")
    assert result.returncode == 2
    assert "--advertised-host: 'local vault' is neither a DNS name nor an IP address" in result.stderr


def test_env_sh_can_put_the_project_tools_and_collections_path_into_a_shell(tmp_path):
    tools = tmp_path / "tools"
    vault = LocalVaultProcess(tmp_path / "state", arguments=("--tools-dir", str(tools), "--collections-path", str(tmp_path / "collections"))).start()
    try:
        exported = sourced_env_sh(vault.state_dir, {"PATH": "/usr/bin:/bin"})
        assert exported["PATH"] == f"{tools}:/usr/bin:/bin"
        assert exported["ANSIBLE_COLLECTIONS_PATH"] == str(tmp_path / "collections")
    finally:
        vault.stop()


def test_the_server_certificate_covers_localhost_loopback_and_configured_names(localvault_factory):
    vault = localvault_factory(config={"server_cert_sans": ["vault.example.test", "192.0.2.10"]})
    with open(os.path.join(vault.state_dir, "server.pem"), "rb") as handle:
        leaf = x509.load_pem_x509_certificates(handle.read())[0]
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(names.get_values_for_type(x509.DNSName)) == {"localhost", "vault.example.test"}
    assert set(names.get_values_for_type(x509.IPAddress)) == {ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("192.0.2.10")}
    with open(vault.ca_bundle, "rb") as handle:
        ca = x509.load_pem_x509_certificate(handle.read())
    leaf.verify_directly_issued_by(ca)


def test_tls_verification_against_the_ca_succeeds_and_fails_without_it(localvault):
    status, _headers, _body = localvault.request("GET", localvault.connection["controls_url"] + "/settings")
    assert status == 200
    port = int(localvault.vault_url.rsplit(":", 1)[1].strip("/"))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with pytest.raises(ssl.SSLCertVerificationError):
            ssl.create_default_context().wrap_socket(raw, server_hostname="localhost")


def test_sigterm_stops_cleanly_and_removes_the_connection_files(localvault_factory):
    vault = localvault_factory()
    port = int(vault.vault_url.rsplit(":", 1)[1].strip("/"))
    assert vault.stop() == 0
    assert not os.path.exists(os.path.join(vault.state_dir, "connection.json"))
    assert not os.path.exists(os.path.join(vault.state_dir, "env.sh"))
    assert "localvault stopped" in vault.log_text()
    assert "Traceback" not in vault.log_text()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_private_keys_are_readable_by_the_owner_only(localvault):
    for name in ("ca-key.pem", "server-key.pem", "vault.key"):
        assert os.stat(os.path.join(localvault.state_dir, name)).st_mode & 0o077 == 0


def run_cli(tmp_path, *arguments):
    environment = dict(os.environ, PYTHONPATH=REPO_ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "localvault", "--state-dir", str(tmp_path / "state"), *arguments],
                          capture_output=True, text=True, timeout=30, check=False, cwd=REPO_ROOT, env=environment)


def test_an_invalid_configuration_is_refused_with_a_message(tmp_path):
    cases = {
        "unknown key": ({"colour": "blue"}, "unknown configuration keys: colour"),
        "bad permission": ({"identities": [{"name": "x", "permissions": {"secrets": ["fly"]}}]}, "unknown secrets permissions fly"),
        "two system identities": ({"identities": [{"name": "other", "system_assigned": True}]}, "only one identity may be system-assigned"),
        "retention": ({"soft_delete_retention_days": 3}, "soft_delete_retention_days must be between 7 and 90"),
    }
    for config, message in cases.values():
        path = tmp_path / "config.json"
        path.write_text(json.dumps(config))
        result = run_cli(tmp_path, "--config", str(path))
        assert result.returncode == 2
        assert message in result.stderr


def test_an_unreadable_configuration_is_refused(tmp_path):
    path = tmp_path / "config.json"
    path.write_text("{not json")
    result = run_cli(tmp_path, "--config", str(path))
    assert result.returncode == 2
    assert "cannot read the configuration file" in result.stderr
