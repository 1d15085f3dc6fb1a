"""Pytest fixtures that run the local vault (``python -m localvault``, see localvault/process.py) for SDK-driven tests.

``localvault`` is one vault for the whole session (state in a temporary folder; pass
``--localvault-ephemeral`` to keep it in memory). ``localvault_factory`` starts extra vaults with
their own configuration and state folder, e.g. to restart one. ``vault_env`` puts the client
environment (``AZURE_POD_IDENTITY_AUTHORITY_HOST``...) into ``os.environ`` for one test, and
``secret_client`` builds ``SecretClient``s authenticated through the vault's managed identities.
"""

import os
import sys

import pytest
from xdist.scheduler import LoadFileScheduling

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    # Tests that import localvault need the repo root; without it, tests/localvault/ would shadow the package.
    sys.path.insert(0, REPO_ROOT)

from localvault import process  # noqa: E402 pylint: disable=wrong-import-position

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


class LocalVaultProcess(process.LocalVaultProcess):
    """A local vault child process with the tests' short delays, and Azure SDK clients for it."""

    def __init__(self, state_dir, config=None, ephemeral=False):
        super().__init__(state_dir, TEST_CONFIG if config is None else config, ephemeral)

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
