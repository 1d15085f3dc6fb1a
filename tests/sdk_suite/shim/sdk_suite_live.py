"""pytest plugin for the Azure SDK's Key Vault tests run live against the local vault (``-p sdk_suite_live``).

* ``playback_test_only`` tests are skipped, as the root conftest.py of azure-sdk-for-python skips them
  in live runs (they build clients for made-up vault URLs and would only time out).
* ``SDK_SUITE_VAULTS`` (JSON, one set of environment variables per local vault): pytest-xdist worker N
  (``PYTEST_XDIST_WORKER=gwN``; a run without workers counts as 0) gets the N-th set, before the tests
  are collected (the SDK's preparers read ``AZURE_KEYVAULT_URL`` when their modules are imported).
* ``SDK_SUITE_ALL_API_VERSIONS=1`` also runs the API versions other than the default. In live mode the
  tests' own client preparers skip those ("This test only uses the default API version for live
  tests"); against the local vault there is no cost to running them, so this switch turns that skip off.
"""

import json
import os
import sys

import pytest

ALL_API_VERSIONS_VARIABLE = "SDK_SUITE_ALL_API_VERSIONS"
VAULTS_VARIABLE = "SDK_SUITE_VAULTS"
PLAYBACK_ONLY_REASON = "playback_test_only: the SDK skips it in live runs"


def pytest_configure(config):
    vaults = json.loads(os.environ.get(VAULTS_VARIABLE) or "[]")
    if vaults:
        worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:])
        os.environ.update(vaults[worker % len(vaults)])
    config.addinivalue_line("markers", "playback_test_only(reason): run only against recordings (skipped live)")
    config.addinivalue_line("markers", "live_test_only(reason): run only live")


def pytest_collection_modifyitems(items):
    for item in items:
        if item.get_closest_marker("playback_test_only") is not None:
            item.add_marker(pytest.mark.skip(reason=PLAYBACK_ONLY_REASON))
    if os.environ.get(ALL_API_VERSIONS_VARIABLE) == "1":
        # Each package's tests/_test_case.py defines the preparers; collection has imported it by now.
        preparers = vars(sys.modules["_test_case"]).values()
        for preparer in [value for value in preparers if isinstance(value, type) and hasattr(value, "_skip_if_not_configured")]:
            preparer._skip_if_not_configured = lambda self, api_version, **kwargs: None  # pylint: disable=protected-access
