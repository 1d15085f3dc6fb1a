# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The secret module's write path against canned vault answers: a write whose answer is lost is settled by reading again."""

import http.client

import requests
import urllib3

from ansible_collections.keyvault.azure.plugins.module_utils._client import RETRY_LOG
from ansible_collections.keyvault.azure.plugins.module_utils._secret_converge import SecretTask

OLD_VERSION, NEW_VERSION, OTHER_VERSION = 'a' * 32, 'b' * 32, 'c' * 32


def lost_response():
    """What requests raises when the vault closes the connection after the request was sent."""
    return requests.exceptions.ConnectionError(urllib3.exceptions.ProtocolError(
        'Connection aborted.', http.client.RemoteDisconnected('Remote end closed connection without response')))


def secret(value, version):
    return (200, {'id': 'https://shop.vault.azure.net/secrets/db/' + version, 'value': value,
                  'attributes': {'enabled': True, 'created': 1700000000, 'updated': 1700000000, 'recoveryLevel': 'Recoverable+Purgeable'}})


def params(**given):
    values = dict(name='db', state='present', value='new-value', value_file=None, overwrite=True, content_type=None, tags=None,
                  enabled=None, not_before=None, expires=None, recover=False, purge=False, return_value=False)
    values.update(given)
    return values


class TestLostWrite:

    def test_a_write_that_landed_is_not_sent_again(self, canned_module_vault):
        RETRY_LOG.drain()
        vault = canned_module_vault([secret('old-value', OLD_VERSION), lost_response(), secret('new-value', NEW_VERSION)], params())
        result = SecretTask(vault, vault.params).present()
        assert (result['changed'], result['secret']['version']) == (True, NEW_VERSION)
        assert vault.methods() == [('GET', '/secrets/db/'), ('PUT', '/secrets/db'), ('GET', '/secrets/db/')]
        assert RETRY_LOG.drain() == []

    def test_a_write_that_did_not_land_is_sent_once_more(self, canned_module_vault):
        RETRY_LOG.drain()
        vault = canned_module_vault([secret('old-value', OLD_VERSION), lost_response(), secret('old-value', OLD_VERSION),
                                     secret('new-value', NEW_VERSION)], params())
        result = SecretTask(vault, vault.params).present()
        assert (result['changed'], result['secret']['version']) == (True, NEW_VERSION)
        assert vault.methods() == [('GET', '/secrets/db/'), ('PUT', '/secrets/db'), ('GET', '/secrets/db/'), ('PUT', '/secrets/db')]
        assert RETRY_LOG.drain() == ["write 2 of secret 'db': the connection broke before the first landed"]
