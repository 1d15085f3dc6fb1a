"""Just enough of the Azure SDK repository's ``devtools_testutils`` for its Key Vault tests to run live.

The real package (tools/azure-sdk-tools in azure-sdk-for-python, not published on PyPI) records and
replays traffic through a test proxy. Here the tests always run live against the local vault and nothing
is recorded, so:

* sanitizers and matchers configure a proxy that does not exist: they do nothing;
* ``recorded_by_proxy`` simply runs the test;
* credentials are the local vault's operator managed identity (azure-identity reaches the local identity
  endpoint through ``AZURE_POD_IDENTITY_AUTHORITY_HOST``), where the real package signs a service
  principal in to Entra ID;
* clients trust the local vault's CA and skip the challenge-resource check, which a loopback host name
  cannot pass (the service's challenge names ``vault.azure.net``).

tests/sdk_suite/run.py sets the environment read here from the local vault's connection details.
"""

import os
import time
import zlib

import pytest

LIVE_VARIABLE = "AZURE_TEST_RUN_LIVE"
OPERATOR_CLIENT_ID_VARIABLE = "LOCALVAULT_OPERATOR_CLIENT_ID"
CA_BUNDLE_VARIABLE = "LOCALVAULT_CA_BUNDLE"


def is_live():
    return os.environ.get(LIVE_VARIABLE, "").lower() in ("true", "yes", "1")


def is_live_and_not_recording():
    return is_live()


@pytest.fixture(scope="session")
def test_proxy():
    """The SDK's conftest asks for the proxy before it registers sanitizers; there is none to start."""
    if not is_live():
        pytest.fail(f"this stand-in for devtools_testutils only runs tests live: set {LIVE_VARIABLE}=true")


def _proxy_setting(*_args, **_kwargs):
    """Sanitizers and matchers only shape recordings; nothing is recorded here."""


add_body_key_sanitizer = add_general_regex_sanitizer = add_general_string_sanitizer = _proxy_setting
add_oauth_response_sanitizer = add_remove_header_sanitizer = remove_batch_sanitizers = _proxy_setting
set_bodiless_matcher = set_custom_default_matcher = _proxy_setting


def recorded_by_proxy(test):
    def run_live(*args, **kwargs):
        # The real decorator hands the test a "variables" dict for recorded values; these tests take none.
        kwargs.pop("variables", None)
        return test(*args, **kwargs)

    run_live.__name__ = test.__name__
    run_live.__doc__ = test.__doc__
    return run_live


def get_credential(is_async=False, **_kwargs):
    client_id = os.environ.get(OPERATOR_CLIENT_ID_VARIABLE)
    if not client_id:
        raise RuntimeError(f"{OPERATOR_CLIENT_ID_VARIABLE} is not set: run the SDK's tests with tests/sdk_suite/run.py")
    if is_async:
        from azure.identity.aio import ManagedIdentityCredential  # pylint: disable=import-outside-toplevel
    else:
        from azure.identity import ManagedIdentityCredential  # pylint: disable=import-outside-toplevel
    return ManagedIdentityCredential(client_id=client_id)


class AzureRecordedTestCase:
    """Base class of the SDK's test classes and client preparers."""

    @property
    def is_live(self):
        return is_live()

    @property
    def in_recording(self):
        return False

    def is_playback(self):
        return not is_live()

    def get_credential(self, client_class, **kwargs):  # pylint: disable=unused-argument
        return get_credential(**kwargs)

    def create_client_from_credential(self, client_class, credential, **kwargs):
        # The real package turns HTTP logging on for every client; test_logging_enabled relies on it.
        kwargs.setdefault("logging_enable", True)
        kwargs.setdefault("verify_challenge_resource", False)
        kwargs.setdefault("connection_verify", os.environ.get(CA_BUNDLE_VARIABLE) or True)
        return client_class(credential=credential, **kwargs)

    def get_resource_name(self, name):
        return self.create_random_name(name)

    def create_random_name(self, name):
        # Like the real package: a checksum of the running test's id, so each test (and each API
        # version of it) has names of its own and gets the same ones every run.
        current_test = os.environ.get("PYTEST_CURRENT_TEST", "").encode("utf-8")
        return f"{name}{zlib.adler32(current_test) & 0xFFFFFFFF:x}"

    def sleep(self, seconds):
        time.sleep(seconds)

    def fail(self, message):
        pytest.fail(message)


class EnvironmentVariableLoader(AzureRecordedTestCase):
    """``@EnvironmentVariableLoader("keyvault", azure_keyvault_url=<fake>)``: live, each keyword's value
    comes from the upper-cased environment variable of its name."""

    def __init__(self, directory, **fake_values):
        self.directory = directory
        self.names = list(fake_values)

    def __call__(self, test):
        def with_environment(test_instance, **kwargs):
            for name in self.names:
                if name.upper() not in os.environ:
                    pytest.fail(f"{name.upper()} is not set: run the SDK's tests with tests/sdk_suite/run.py")
                kwargs.setdefault(name, os.environ[name.upper()])
            return test(test_instance, **kwargs)

        # Not functools.wraps: pytest would follow __wrapped__ and take the keywords for fixtures.
        with_environment.__name__ = test.__name__
        with_environment.__doc__ = test.__doc__
        return with_environment


PowerShellPreparer = EnvironmentVariableLoader


class AzureMgmtPreparer:
    """Imported (not used) by the SDK's _shared/preparer.py, which only its async tests use."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError("resource preparers need Azure Resource Manager; the local vault has none")
