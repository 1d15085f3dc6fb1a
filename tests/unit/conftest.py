# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Makes this checkout importable as ``ansible_collections.keyvault.azure`` for the unit tests.

A temporary tree holds ``ansible_collections/keyvault/azure`` as a symlink to the repository, and
Ansible's collection loader is pointed at it, so plugins load exactly as ansible-playbook loads them.
"""

import io
import json
import os
import shutil
import tempfile
import time
import types

import pytest
import requests
import urllib3

from ansible.plugins.loader import init_plugin_loader
from azure.core.credentials import AccessToken
from azure.core.pipeline.transport import RequestsTransport
from azure.keyvault.certificates import CertificateClient
from azure.keyvault.secrets import SecretClient

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

_COLLECTIONS_ROOT = tempfile.mkdtemp(prefix='keyvault-azure-unit-')
os.makedirs(os.path.join(_COLLECTIONS_ROOT, 'ansible_collections', 'keyvault'))
os.symlink(REPO_ROOT, os.path.join(_COLLECTIONS_ROOT, 'ansible_collections', 'keyvault', 'azure'))
init_plugin_loader([_COLLECTIONS_ROOT])

# Only importable once the collection loader knows the tree.
from ansible_collections.keyvault.azure.plugins.module_utils._client import client_settings  # noqa: E402 pylint: disable=wrong-import-position
from ansible_collections.keyvault.azure.plugins.module_utils._errors import vault_call  # noqa: E402 pylint: disable=wrong-import-position
from ansible_collections.keyvault.azure.plugins.module_utils._options import ConnectionOptions  # noqa: E402 pylint: disable=wrong-import-position


def pytest_unconfigure(config):  # pylint: disable=unused-argument
    shutil.rmtree(_COLLECTIONS_ROOT, ignore_errors=True)


class CannedVault(requests.adapters.HTTPAdapter):
    """A requests adapter that answers like Key Vault from a list of canned responses.

    A request without a bearer token gets the service's authentication challenge, as the real
    service does; every other request takes the next entry of ``responses``: a ``(status, body,
    headers)`` tuple, or an exception to raise as the connection would.
    """

    CHALLENGE = {'WWW-Authenticate': 'Bearer authorization="https://login.windows.net/tenant", resource="https://vault.azure.net"'}

    def __init__(self, responses):
        super().__init__()
        self.responses = list(responses)
        self.requests = []

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        if 'Authorization' not in request.headers:
            return self._answer(request, 401, {'error': {'code': 'Unauthorized', 'message': 'AKV10000: Request is missing a Bearer or PoP token.'}},
                                self.CHALLENGE)
        self.requests.append((request.method, request.url))
        entry = self.responses.pop(0)
        if isinstance(entry, Exception):
            raise entry
        status, body, headers = (entry + ({},))[:3]
        return self._answer(request, status, body, headers)

    def _answer(self, request, status, body, headers):
        content = json.dumps(body).encode('utf-8') if body is not None else b''
        raw = urllib3.HTTPResponse(body=io.BytesIO(content), status=status, preload_content=False,
                                   headers=dict({'Content-Type': 'application/json; charset=utf-8'}, **headers))
        return self.build_response(request, raw)


class StaticCredential:
    """A token credential that hands out a fixed, JWT-shaped token."""

    TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJvaWQiOiJ0ZXN0In0.c2lnbmF0dXJl'

    def __init__(self):
        self.calls = 0

    def get_token(self, *scopes, **kwargs):  # pylint: disable=unused-argument
        self.calls += 1
        return AccessToken(self.TOKEN, int(time.time()) + 3600)


@pytest.fixture
def canned_secret_client():
    """``make(responses, **options)`` -> namespace of ``options``, a SecretClient configured like the plugins' (``client``)
    and its CannedVault (``vault``)."""
    def make(responses, **option_values):
        values = dict(vault_url='https://shop.vault.azure.net', retry_backoff=0)
        values.update(option_values)
        options = ConnectionOptions(values)
        adapter = CannedVault(responses)
        session = requests.Session()
        session.mount('https://', adapter)
        client = SecretClient(options.vault_url, StaticCredential(), transport=RequestsTransport(session=session),
                              **client_settings(options))
        return types.SimpleNamespace(options=options, client=client, vault=adapter)
    return make


class CannedModuleVault:
    """What a module's task sees of KeyVaultModule (params, check mode, clients, calls, warnings), over a CannedVault.

    Calls go through the collection's own error mapping (vault_call), so tasks meet the same
    KeyVaultErrors as in a module run.
    """

    def __init__(self, responses, params, check_mode=False, **option_values):
        values = dict(vault_url='https://shop.vault.azure.net', retry_backoff=0)
        values.update(option_values)
        self.options = ConnectionOptions(values)
        self.vault_url = self.options.vault_url
        self.params = params
        self.check_mode = check_mode
        self.vault = CannedVault(responses)
        self.warnings = []
        session = requests.Session()
        session.mount('https://', self.vault)
        self._transport = RequestsTransport(session=session)

    def secret_client(self):
        return SecretClient(self.vault_url, StaticCredential(), transport=self._transport, **client_settings(self.options))

    def certificate_client(self):
        return CertificateClient(self.vault_url, StaticCredential(), transport=self._transport, **client_settings(self.options))

    def call(self, permission, label, function, *args, **kwargs):
        return vault_call(self.options, self.vault_url, permission, label, function, *args, **kwargs)

    def warn(self, message):
        self.warnings.append(message)

    def add_sensitive_value(self, value):
        pass

    def methods(self):
        """The HTTP methods and paths (without the query) of the requests sent, in order."""
        return [(method, url.split('?')[0].replace(self.vault_url, '')) for method, url in self.vault.requests]


@pytest.fixture
def canned_module_vault():
    """``make(responses, params, check_mode=False, **options)`` -> a CannedModuleVault."""
    return CannedModuleVault
