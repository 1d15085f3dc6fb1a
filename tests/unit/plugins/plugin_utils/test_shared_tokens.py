# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tokens shared through the run's cache: reused while fresh, per identity, scope and tenant; never for a claims challenge."""

import subprocess
import sys
import time

import pytest
from azure.core.credentials import AccessToken, AccessTokenInfo

from ansible_collections.keyvault.azure.plugins.plugin_utils._run_cache import RunCache
from ansible_collections.keyvault.azure.plugins.plugin_utils._shared_tokens import (
    SharedTokenCredential,
    SharedTokenInfoCredential,
    TokenSharing,
)


class CountingCredential(object):
    """Hands out numbered tokens valid for ``lifetime`` seconds, recording what it was asked."""

    def __init__(self, lifetime=3600):
        self.requests = []
        self.lifetime = lifetime

    def get_token(self, *scopes, **kwargs):
        self.requests.append((scopes, kwargs))
        return AccessToken('token-%d' % len(self.requests), int(time.time()) + self.lifetime)

    def get_token_info(self, *scopes, **kwargs):
        self.requests.append((scopes, kwargs))
        return AccessTokenInfo('token-%d' % len(self.requests), int(time.time()) + self.lifetime)


class TokenOnlyCredential(object):
    def __init__(self):
        self.inner = CountingCredential()

    def get_token(self, *scopes, **kwargs):
        return self.inner.get_token(*scopes, **kwargs)


@pytest.fixture
def run_cache(tmp_path):
    owner = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])
    yield RunCache.open(str(tmp_path / 'base'), owner=owner.pid)
    owner.kill()
    owner.wait()


def test_two_processes_worth_of_credentials_share_one_token(run_cache):
    first, second = CountingCredential(), CountingCredential()
    sharing = TokenSharing(run_cache)
    tokens = [sharing.share(credential, ('managed_identity', 'id-1')).get_token_info('https://vault.azure.net/.default',
                                                                                     options={'enable_cae': True, 'tenant_id': 't'})
              for credential in (first, second)]
    assert [token.token for token in tokens] == ['token-1', 'token-1']
    assert (len(first.requests), len(second.requests)) == (1, 0)


def test_identities_scopes_and_tenants_do_not_share(run_cache):
    credential = CountingCredential()
    sharing = TokenSharing(run_cache)
    sharing.share(credential, ('managed_identity', 'id-1')).get_token_info('scope-a', options={'tenant_id': 't'})
    sharing.share(credential, ('managed_identity', 'id-2')).get_token_info('scope-a', options={'tenant_id': 't'})
    sharing.share(credential, ('managed_identity', 'id-1')).get_token_info('scope-b', options={'tenant_id': 't'})
    sharing.share(credential, ('managed_identity', 'id-1')).get_token_info('scope-a', options={'tenant_id': 'u'})
    assert len(credential.requests) == 4


def test_a_token_close_to_its_expiry_is_not_shared(run_cache):
    credential = CountingCredential(lifetime=200)
    shared = TokenSharing(run_cache).share(credential, ('managed_identity', None))
    shared.get_token_info('scope')
    assert shared.get_token_info('scope').token == 'token-2'


def test_a_claims_challenge_always_gets_a_new_token(run_cache):
    credential = CountingCredential()
    shared = TokenSharing(run_cache).share(credential, ('managed_identity', None))
    shared.get_token_info('scope')
    assert shared.get_token_info('scope', options={'claims': '{"access_token": {}}'}).token == 'token-2'
    assert shared.get_token('scope', claims='{"access_token": {}}').token == 'token-3'


def test_a_credential_without_get_token_info_is_shared_through_get_token(run_cache):
    sharing = TokenSharing(run_cache)
    credentials = [TokenOnlyCredential(), TokenOnlyCredential()]
    shared = [sharing.share(credential, ('cli', None)) for credential in credentials]
    assert all(type(credential) is SharedTokenCredential for credential in shared)  # pylint: disable=unidiomatic-typecheck
    assert [credential.get_token('scope').token for credential in shared] == ['token-1', 'token-1']
    assert isinstance(sharing.share(CountingCredential(), ('cli', None)), SharedTokenInfoCredential)
