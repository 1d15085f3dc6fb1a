"""Run the Azure SDK for Python's own Key Vault tests, live, against a fresh local vault (``make sdk-suite``).

The tests are the vault-facing sync tests of azure-keyvault-secrets and azure-keyvault-certificates
(SDK_VERSION), taken from the ``tests/`` folders of their PyPI source distributions, which are
downloaded once into the cache folder (``--cache``, by default .venv/sdk-suite) together with a
virtual environment of the pinned SDK release (requirements.txt beside this file). Nothing in the
SDK's files is changed: ``shim/`` stands in for the SDK repository's test utilities, which are not
published (see its docstring for what they do live).

Each package's tests run in a pytest session of their own (their helper modules share names), both at
once, each in pytest-xdist workers; worker N of either package talks to local vault N, so that tests of
vault-wide state (certificate contacts) never meet on one vault, as they never do when the SDK runs
them one after the other. A run passes when no test fails and every skip is one the SDK itself makes
in a live run (SDK_LIVE_SKIPS): the API versions other than the default (lifted by
``--all-api-versions``), the tests it marks playback-only, and one test that skips itself live.
Exit status: 0 passed, 1 a test failed or was skipped otherwise, 2 the suite could not be run.
"""

import argparse
import collections
import contextlib
import datetime
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from xml.etree import ElementTree

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, REPO_ROOT)

from localvault.process import LocalVaultProcess  # noqa: E402 pylint: disable=wrong-import-position

SDK_VERSION = "4.12.0"
REQUIREMENTS = os.path.join(HERE, "requirements.txt")
SHIM = os.path.join(HERE, "shim")
# The test files that talk to a vault; the packages' other tests mock the transport, and the async
# variants repeat the sync ones.
VAULT_FACING_TESTS = {
    "secrets": ("test_secrets_client.py", "test_samples_secrets.py", "test_parse_id.py"),
    "certificates": ("test_certificates_client.py", "test_examples_certificates.py", "test_merge_certificate.py", "test_parse_id.py"),
}
# The skips the SDK makes itself in a live run: its client preparers test only the default API
# version live (tests/_test_case.py), its root conftest skips playback-only tests, and
# test_async_request_cancellation_and_deletion skips itself live.
SDK_LIVE_SKIPS = (
    "This test only uses the default API version for live tests",
    "playback_test_only: the SDK skips it in live runs",
    "Skipping by default because of pipeline test flakiness: https://github.com/Azure/azure-sdk-for-python/issues/16333",
)
VAULT_CONFIG = {
    "deletion_delay_seconds": 0,
    "recovery_delay_seconds": 0,
    "certificate_creation_delay_seconds": 0,
    "soft_delete_retention_days": 7,
}
# Three tests take most of the time, sleeping; more workers than that gain nothing.
WORKERS_PER_PACKAGE = 3
PYTEST_INI = """\
[pytest]
# Written by keyvault.azure's tests/sdk_suite/run.py for the Azure SDK's own tests in this folder.
addopts = -p no:cacheprovider -q -rfE --tb=short --show-capture=no --timeout=300
"""
# Variables that would make azure-identity sign in some other way than through the local vault's identity endpoint.
FOREIGN_CREDENTIAL_VARIABLES = (
    "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_USERNAME", "AZURE_PASSWORD", "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "MSI_SECRET",
    "KEYVAULT_CLIENT_ID", "KEYVAULT_CLIENT_SECRET", "KEYVAULT_TENANT_ID",
)


class SuiteError(Exception):
    """The suite could not be prepared or run (as opposed to a test failing)."""


def log(message):
    print(f"==> {message}", flush=True)


def suite_environment(cache):
    """The Python of a virtual environment holding requirements.txt, made (again) when they changed."""
    venv = os.path.join(cache, "venv")
    python = os.path.join(venv, "bin", "python")
    stamp = os.path.join(venv, "requirements.txt")
    with open(REQUIREMENTS, encoding="utf-8") as handle:
        wanted = handle.read()
    if os.path.exists(stamp):
        with open(stamp, encoding="utf-8") as handle:
            if handle.read() == wanted:
                return python
    log(f"making the SDK suite's environment in {venv}")
    shutil.rmtree(venv, ignore_errors=True)
    run_checked([sys.executable, "-m", "venv", venv])
    run_checked([python, "-m", "pip", "install", "--quiet", "-r", REQUIREMENTS])
    with open(stamp, "w", encoding="utf-8") as handle:
        handle.write(wanted)
    return python


def run_checked(command):
    result = subprocess.run(command, check=False)
    if result.returncode != 0:
        raise SuiteError(f"{' '.join(command)} failed with exit status {result.returncode}")


def sdk_tests(cache, python, package):
    """The folder holding the ``tests/`` of azure-keyvault-<package>'s sdist, downloaded on first use."""
    folder = os.path.join(cache, f"tests-{SDK_VERSION}", package)
    done = os.path.join(folder, ".complete")
    if os.path.exists(done):
        return folder
    log(f"downloading the azure-keyvault-{package} {SDK_VERSION} source distribution for its tests")
    sdists = os.path.join(cache, "sdists")
    run_checked([python, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:", "-d", sdists,
                 f"azure-keyvault-{package}=={SDK_VERSION}"])
    top = f"azure_keyvault_{package}-{SDK_VERSION}"
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    with tarfile.open(os.path.join(sdists, f"{top}.tar.gz")) as archive:
        for member in archive.getmembers():
            parts = member.name.split("/")
            if parts[0] != top or len(parts) < 2 or not (parts[1] == "tests" or member.name == f"{top}/LICENSE"):
                continue
            if not (member.isfile() or member.isdir()) or ".." in parts:
                raise SuiteError(f"unexpected entry {member.name} in {top}.tar.gz")
            target = os.path.join(folder, *parts[2:]) if parts[1] == "tests" else os.path.join(folder, "LICENSE")
            if member.isdir():
                os.makedirs(target, exist_ok=True)
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with archive.extractfile(member) as source, open(target, "wb") as destination:
                shutil.copyfileobj(source, destination)
    with open(os.path.join(folder, "pytest.ini"), "w", encoding="utf-8") as handle:
        handle.write(PYTEST_INI)
    if package == "certificates":
        write_merge_ca(folder)
    with open(done, "w", encoding="utf-8") as handle:
        handle.write(f"azure-keyvault-{package} {SDK_VERSION}\n")
    return folder


def write_merge_ca(folder):
    """ca.key and ca.crt, which test_merge_certificate.py signs the pending certificate's CSR with.

    The SDK repository keeps such a pair beside the test; the sdist does not ship it. Any RSA 2048 CA
    does, but its name matters: the test takes the PEM armour off with str.lstrip/str.rstrip, which go
    on to eat the base64 text's own last characters when they are letters of "END CERTIFICATE" and no
    "=" padding stops them (about one run in eight). With this name the signed certificate's DER
    length is not a multiple of three, so its base64 text always ends in padding.
    """
    # pylint: disable=import-outside-toplevel
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "keyvault.azure SDK suite: merge CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    with open(os.path.join(folder, "ca.key"), "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    with open(os.path.join(folder, "ca.crt"), "wb") as handle:
        handle.write(certificate.public_bytes(serialization.Encoding.PEM))


def test_environment(vaults, all_api_versions):
    """The tests' environment; shim/sdk_suite_live.py gives each worker the variables of its own vault."""
    environment = {name: value for name, value in os.environ.items() if name not in FOREIGN_CREDENTIAL_VARIABLES}
    no_proxy = ",".join(filter(None, ["localhost", "127.0.0.1", os.environ.get("NO_PROXY")]))
    per_worker = [{
        "AZURE_KEYVAULT_URL": vault.vault_url,
        "AZURE_POD_IDENTITY_AUTHORITY_HOST": vault.imds_url,
        "LOCALVAULT_CA_BUNDLE": vault.ca_bundle,
        "LOCALVAULT_OPERATOR_CLIENT_ID": vault.identities["operator"]["client_id"],
    } for vault in vaults]
    environment.update(
        AZURE_TEST_RUN_LIVE="true",
        AZURE_SKIP_LIVE_RECORDING="true",
        SDK_SUITE_VAULTS=json.dumps(per_worker),
        NO_PROXY=no_proxy,
        no_proxy=no_proxy,
        PYTHONPATH=SHIM,
        PYTHONDONTWRITEBYTECODE="1",
    )
    if all_api_versions:
        environment["SDK_SUITE_ALL_API_VERSIONS"] = "1"
    return environment


class Outcome:
    """What one pytest session's JUnit XML report says."""

    def __init__(self, report):
        self.passed = 0
        self.failed = []
        self.sdk_skips = collections.Counter()
        self.other_skips = []
        for case in ElementTree.parse(report).getroot().iter("testcase"):
            test_id = f"{case.get('classname')}.{case.get('name')}"
            problem = case.find("failure") if case.find("failure") is not None else case.find("error")
            skipped = case.find("skipped")
            if problem is not None:
                self.failed.append(test_id)
            elif skipped is not None:
                reason = next((reason for reason in SDK_LIVE_SKIPS if reason in (skipped.get("message") or "")), None)
                if reason:
                    self.sdk_skips[reason] += 1
                else:
                    self.other_skips.append(f"{test_id}: {skipped.get('message')}")
            else:
                self.passed += 1

    def ok(self):
        return self.passed > 0 and not self.failed and not self.other_skips


def run_suites(python, folders, environment, work, pytest_arguments):
    """Both packages' tests at once, each in pytest-xdist workers: most of their time is fixed sleeps
    (test_example_secrets_backup_restore waits 60 s for the service's purge, test_recover_and_purge 50 s)."""
    running = {}
    for package, folder in folders.items():
        report, output = os.path.join(work, f"{package}.xml"), os.path.join(work, f"{package}.log")
        command = [python, "-m", "pytest", "-p", "sdk_suite_live", "-n", str(WORKERS_PER_PACKAGE), "--rootdir", folder,
                   f"--junitxml={report}", *VAULT_FACING_TESTS[package], *pytest_arguments]
        log(f"azure-keyvault-{package} {SDK_VERSION}: {' '.join(VAULT_FACING_TESTS[package])}")
        with open(output, "wb") as handle:
            running[package] = (subprocess.Popen(command, cwd=folder, env=environment, stdout=handle, stderr=subprocess.STDOUT), report, output)
    outcomes = {}
    for package, (process, report, output) in running.items():
        process.wait()
        with open(output, encoding="utf-8", errors="replace") as handle:
            print(f"---- pytest output of the azure-keyvault-{package} tests ----\n{handle.read()}", flush=True)
        if not os.path.exists(report):
            raise SuiteError(f"pytest wrote no report for the {package} tests")
        outcomes[package] = Outcome(report)
    return outcomes


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--cache", default=os.path.join(REPO_ROOT, ".venv", "sdk-suite"),
                        help="folder for the suite's virtual environment and the SDK's tests (default: .venv/sdk-suite)")
    parser.add_argument("--all-api-versions", action="store_true", help="also run every older API version the tests know")
    parser.add_argument("--package", choices=sorted(VAULT_FACING_TESTS), action="append",
                        help="run only this package's tests (repeatable; default: both)")
    parser.add_argument("pytest_arguments", nargs="*", help="passed to pytest after --, e.g. -- -k merge")
    return parser.parse_args(argv)


def main(argv=None):
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    started = time.monotonic()
    packages = arguments.package or list(VAULT_FACING_TESTS)
    try:
        os.makedirs(arguments.cache, exist_ok=True)
        python = suite_environment(arguments.cache)
        folders = {package: sdk_tests(arguments.cache, python, package) for package in packages}
        with tempfile.TemporaryDirectory(prefix="sdk-suite-") as work, contextlib.ExitStack() as running_vaults:
            vaults = []
            for index in range(WORKERS_PER_PACKAGE):
                vault = LocalVaultProcess(os.path.join(work, f"vault{index}"), config=VAULT_CONFIG, ephemeral=True)
                running_vaults.callback(vault.stop)
                try:
                    vaults.append(vault.start())
                except RuntimeError as error:
                    raise SuiteError(f"the local vault did not start: {error}") from None
            environment = test_environment(vaults, arguments.all_api_versions)
            log(f"local vaults at {', '.join(vault.vault_url for vault in vaults)}")
            outcomes = run_suites(python, folders, environment, work, arguments.pytest_arguments)
    except SuiteError as error:
        print(f"sdk-suite: {error}", file=sys.stderr)
        return 2
    for package, outcome in outcomes.items():
        print(f"sdk-suite {package}: {outcome.passed} passed, {len(outcome.failed)} failed, "
              f"{sum(outcome.sdk_skips.values())} skipped by the SDK in live runs, {len(outcome.other_skips)} skipped otherwise")
        for reason, count in outcome.sdk_skips.most_common():
            print(f"  {count:4d} skipped: {reason}")
        for test_id in outcome.failed:
            print(f"  FAILED {test_id}")
        for line in outcome.other_skips:
            print(f"  SKIPPED (not a skip the SDK makes live) {line}")
    passed = all(outcome.ok() for outcome in outcomes.values())
    print(f"sdk-suite: {'passed' if passed else 'FAILED'} in {time.monotonic() - started:.0f} s"
          f"{' (every API version)' if arguments.all_api_versions else ' (default API version)'}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
