# -*- coding: utf-8 -*-
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Access tokens shared by the worker processes of one run, so that N hosts cost one token request.

For internal collection use only: names and behaviour may change without notice.

The token still comes from the azure-identity credential; this only keeps it in the run's cache
(plugin_utils._run_cache) and hands it to the other processes of the run while it is fresh.
"""

import collections
import time

from ansible import constants as C
from ansible.utils.display import Display

from ansible_collections.keyvault.azure.plugins.plugin_utils._run_cache import RunCache, RunCacheUnavailable, default_base_directories

try:
    from azure.core.credentials import AccessToken
except ImportError:
    AccessToken = None

try:
    from azure.core.credentials import AccessTokenInfo
except ImportError:
    AccessTokenInfo = None

display = Display()

# What this process shares with the rest of the run: the run's cache and the token sharing over it, both
# None when the cache cannot be used, and then why not (``unavailable``).
RunSharing = collections.namedtuple('RunSharing', ['cache', 'tokens', 'unavailable'])
_THIS_RUN = []

# The Key Vault clients ask for a new token when the one they hold has less than 300 s left, so a
# shared token must have more than that, with a margin for the request it is about to serve.
FRESH_FOR_SECONDS = 360


def _is_fresh(record):
    now = time.time()
    refresh_on = record.get('refresh_on')
    return record['expires_on'] - now > FRESH_FOR_SECONDS and (refresh_on is None or refresh_on > now)


def this_run():
    """This run's RunSharing, looked up once per process; a cache that cannot be used is warned about once."""
    if not _THIS_RUN:
        try:
            run_cache = RunCache.open_first_usable(default_base_directories(C.DEFAULT_LOCAL_TMP))
        except (RunCacheUnavailable, OSError) as error:
            display.warning('keyvault.azure: nothing is shared between the hosts of this run: %s' % error)
            _THIS_RUN.append(RunSharing(None, None, str(error)))
        else:
            if run_cache.refused:
                display.warning("keyvault.azure: this run's cache is in %s: %s" % (run_cache.directory, '; '.join(run_cache.refused)))
            _THIS_RUN.append(RunSharing(run_cache, TokenSharing(run_cache), None))
    return _THIS_RUN[0]


class TokenSharing(object):
    """Wraps credentials so that their tokens go through ``run_cache``; one instance per process."""

    def __init__(self, run_cache):
        self._run_cache = run_cache

    def share(self, credential, identity):
        """``credential``, with its tokens shared in the run. ``identity`` tells credentials apart (options.credential_key())."""
        if hasattr(credential, 'get_token_info') and AccessTokenInfo is not None:
            return SharedTokenInfoCredential(credential, self._run_cache, identity)
        return SharedTokenCredential(credential, self._run_cache, identity)


class SharedTokenCredential(object):
    """A TokenCredential whose tokens come from the run's cache while they are fresh."""

    def __init__(self, credential, run_cache, identity):
        self._credential = credential
        self._run_cache = run_cache
        self._identity = identity

    def _shared(self, scopes, request, fetch):
        # A claims challenge asks for a token with more in it than the shared one: always a new token.
        if request.get('claims'):
            return fetch()
        key = [self._identity, scopes, request.get('tenant_id'), bool(request.get('enable_cae'))]
        return self._run_cache.shared('token', key, fetch, usable=_is_fresh)

    def get_token(self, *scopes, **kwargs):
        def fetch():
            token = self._credential.get_token(*scopes, **kwargs)
            return {'token': token.token, 'expires_on': token.expires_on, 'refresh_on': None}
        record = self._shared(list(scopes), kwargs, fetch)
        return AccessToken(record['token'], record['expires_on'])

    def close(self):
        self._credential.close()


class SharedTokenInfoCredential(SharedTokenCredential):
    """The same for credentials that also offer ``get_token_info`` (azure-core's SupportsTokenInfo)."""

    def get_token_info(self, *scopes, **kwargs):
        def fetch():
            token = self._credential.get_token_info(*scopes, **kwargs)
            return {'token': token.token, 'expires_on': token.expires_on, 'refresh_on': token.refresh_on}
        record = self._shared(list(scopes), kwargs.get('options') or {}, fetch)
        return AccessTokenInfo(record['token'], record['expires_on'], refresh_on=record['refresh_on'])
