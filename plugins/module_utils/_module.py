# -*- coding: utf-8 -*-
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The wrapper every module of the collection runs in.

For internal collection use only: names and behaviour may change without notice.

It merges the shared connection options into the module's argument spec, checks them, builds the
vault clients, turns any SDK error into one clear failure message and adds retry warnings and the
diff to the result.
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.keyvault.azure.plugins.module_utils._client import (
    AZURE_IMPORT_ERROR,
    HAS_AZURE,
    REQUIRED_LIBRARIES,
    get_certificate_client,
    get_secret_client,
)
from ansible_collections.keyvault.azure.plugins.module_utils._errors import KeyVaultError, redact, vault_call
from ansible_collections.keyvault.azure.plugins.module_utils._identifiers import KeyVaultInputError
from ansible_collections.keyvault.azure.plugins.module_utils._options import CONNECTION_ARGUMENT_SPEC, ConnectionOptions
from ansible_collections.keyvault.azure.plugins.module_utils._retry_log import RETRY_LOG
from ansible_collections.keyvault.azure.plugins.module_utils._tags import carries_tags
from ansible_collections.keyvault.azure.plugins.module_utils._time import datetime_to_timestamp, format_timestamp


class KeyVaultModule(object):
    """An AnsibleModule with the collection's connection options, vault clients and error reporting.

    ``argument_spec`` holds only the module's own options; the other keyword arguments go to
    AnsibleModule unchanged.
    """

    def __init__(self, argument_spec, **kwargs):
        spec = dict(CONNECTION_ARGUMENT_SPEC)
        spec.update(argument_spec)
        self.module = AnsibleModule(argument_spec=spec, **kwargs)
        self._mask_url_userinfo()
        if not HAS_AZURE:
            self.module.fail_json(msg=missing_required_lib(REQUIRED_LIBRARIES), exception=AZURE_IMPORT_ERROR)
        try:
            self.options = ConnectionOptions(self.module.params)
            self.vault_url = self.options.require_vault_url()
        except KeyVaultInputError as error:
            self.module.fail_json(msg=str(error))

    def _mask_url_userinfo(self):
        """A ``user:password@`` in vault_url (refused later) is masked in the invocation Ansible shows at -vvv."""
        url = self.module.params.get('vault_url') or ''
        netloc = url.split('://', 1)[-1].split('/', 1)[0]
        if '@' in netloc:
            userinfo = netloc.rsplit('@', 1)[0]
            for value in (userinfo, userinfo.split(':', 1)[-1]):
                self.add_sensitive_value(value)

    @property
    def params(self):
        return self.module.params

    @property
    def check_mode(self):
        return self.module.check_mode

    def add_sensitive_value(self, value):
        """Mask ``value`` in everything the module returns, like the value of a no_log option."""
        if value:
            self.module.no_log_values.add(value)

    def secret_client(self):
        return get_secret_client(self.options)

    def certificate_client(self):
        return get_certificate_client(self.options)

    def call(self, permission, label, function, *args, **kwargs):
        """``function(*args, **kwargs)``; any error becomes a KeyVaultError about ``label``.

        ``permission`` is the access-policy permission the call needs, e.g. ``secrets/get``.
        """
        return vault_call(self.options, self.vault_url, permission, label, function, *args, **kwargs)

    def run(self, main):
        """Run ``main(self)``, failing with a one-line message on any vault or input error."""
        try:
            main(self)
        except (KeyVaultError, KeyVaultInputError) as error:
            self.fail_json(str(error))

    def _report_retries(self):
        """How many requests were sent again; each one a warning with O(warn_on_retry)."""
        events = RETRY_LOG.drain()
        if self.options.warn_on_retry:
            for event in events:
                self.module.warn('request to %s retried: %s' % (self.vault_url, event))
        return len(events)

    def exit_json(self, changed=False, diff=None, **result):
        retries = self._report_retries()
        if diff is not None and self.module._diff:
            result['diff'] = diff
        self.module.exit_json(changed=changed, retries=retries, **result)

    def warn(self, message):
        self.module.warn(redact(message, self.options.sensitive_values()))

    def fail_json(self, msg, **result):
        retries = self._report_retries()
        self.module.fail_json(msg=redact(msg, self.options.sensitive_values()), retries=retries, **result)


def deleted_but_recoverable(label, where, deleted):
    """The error for ``state: present`` on a name whose object is deleted but recoverable and recover is false."""
    return KeyVaultError('deleted', '%s in %s is deleted but recoverable (until it is purged on %s); set recover: true to bring it back, '
                                    'or purge it first (state: absent, purge: true)' % (
                                        label, where, format_timestamp(datetime_to_timestamp(deleted.scheduled_purge_date)) or 'an unknown date'))


class SoftDeletable(object):
    """The deleted-but-recoverable side of one secret or certificate: read, recover, delete, purge.

    ``kind`` is ``secret`` or ``certificate``: it picks the client's methods (``get_deleted_<kind>``,
    ``begin_recover_deleted_<kind>``...) and the permissions (``<kind>s/...``). ``call(permission,
    function, *args)`` is the module's vault call for the object.
    """

    def __init__(self, vault, call, client, kind, name, label):
        self._vault = vault
        self._call = call
        self._client = client
        self._kind = kind
        self._area = kind + 's'
        self._name = name
        self._label = label

    def _method(self, pattern):
        return getattr(self._client, pattern % self._kind)

    def read_deleted(self):
        """The deleted-but-recoverable object of this name, or None when there is none (or it cannot be seen)."""
        try:
            return self._call(self._area + '/get', self._method('get_deleted_%s'), self._name)
        except KeyVaultError as error:
            # Without permission to look, the write that follows reports a deleted object clearly.
            if error.kind in ('not_found', 'forbidden'):
                return None
            raise

    def recover_deleted(self, recover):
        """For ``state: present`` on a name with no current object: the deleted object, or None when there is none.

        With ``recover`` the object is recovered (not in check mode), otherwise the task fails.
        """
        deleted = self.read_deleted()
        if deleted is None:
            return None
        if not recover:
            raise deleted_but_recoverable(self._label, 'vault %s' % self._vault.vault_url, deleted)
        if not self._vault.check_mode:
            poller = self._call(self._area + '/recover', self._method('begin_recover_deleted_%s'), self._name)
            # The poller waits until the recovered object can be read.
            self._call(self._area + '/get', poller.wait)
        return deleted

    def converge_absent(self, found, purge):
        """``state: absent``: ``(changed, lifecycle before, lifecycle after)``; ``found`` says whether the object exists.

        The lifecycle states are ``present``, ``deleted`` and ``absent``.
        """
        if found:
            if not self._vault.check_mode:
                poller = self._call(self._area + '/delete', self._method('begin_delete_%s'), self._name)
                # The poller waits until the deleted object is visible, so that it can be purged.
                self._call(self._area + '/get', poller.wait)
                if purge:
                    self._purge()
            return True, 'present', 'absent' if purge else 'deleted'
        if purge and self.read_deleted() is not None:
            if not self._vault.check_mode:
                self._purge()
            return True, 'deleted', 'absent'
        return False, 'absent', 'absent'

    def _purge(self):
        try:
            self._call(self._area + '/purge', self._method('purge_deleted_%s'), self._name)
        except KeyVaultError as error:
            # A vault without soft delete has nothing left to purge (observed: its DELETE answer has no recoveryId
            # and the deleted object is gone at once).
            if error.kind != 'not_found':
                raise


def check_listing_options(params):
    """The combinations of an info module's name, version, list_versions and deleted that cannot work."""
    if params['list_versions'] and not params['name']:
        raise KeyVaultInputError('list_versions needs name')
    if params['list_versions'] and params['deleted']:
        raise KeyVaultInputError('list_versions and deleted cannot be combined')
    if params['version'] is not None and (params['list_versions'] or params['deleted']):
        raise KeyVaultInputError('version cannot be combined with list_versions or deleted')


def by_name(result):
    return result['name']


def listed_results(vault, permission, label, list_items, wanted_tags, to_result, sort_key, properties_of=lambda item: item):
    """The results of the listed items that carry ``wanted_tags``, sorted by ``sort_key``.

    ``list_items()`` lists them (the call is made through the module, named ``permission`` and
    ``label``); ``properties_of(item)`` is where an item keeps its tags.
    """
    items = vault.call(permission, label, lambda: list(list_items()))
    return sorted((to_result(item) for item in items if carries_tags(properties_of(item).tags, wanted_tags)), key=sort_key)
