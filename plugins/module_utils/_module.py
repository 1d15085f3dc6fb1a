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
from ansible_collections.keyvault.azure.plugins.module_utils._secret_state import datetime_to_timestamp, format_timestamp


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

    def call(self, permission, subject, function, *args, **kwargs):
        """``function(*args, **kwargs)``; any error becomes a KeyVaultError about ``subject``.

        ``permission`` is the access-policy permission the call needs, e.g. ``secrets/get``.
        """
        return vault_call(self.options, self.vault_url, permission, subject, function, *args, **kwargs)

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

    def fail_json(self, msg, **result):
        retries = self._report_retries()
        self.module.fail_json(msg=redact(msg, self.options.sensitive_values()), retries=retries, **result)


def deleted_but_recoverable(subject, where, deleted):
    """The error for ``state: present`` on a name whose object is deleted but recoverable and recover is false."""
    return KeyVaultError('deleted', '%s in %s is deleted but recoverable (until it is purged on %s); set recover: true to bring it back, '
                                    'or purge it first (state: absent, purge: true)' % (
                                        subject, where, format_timestamp(datetime_to_timestamp(deleted.scheduled_purge_date)) or 'an unknown date'))


def converge_absent(call, area, name, found, read_deleted, begin_delete, purge_deleted, purge, check_mode):
    """``state: absent`` for an object the vault soft-deletes: ``(changed, lifecycle before, lifecycle after)``.

    ``call(permission, function, *args)`` is the module's vault call; ``area`` is ``secrets`` or
    ``certificates``; ``found`` says whether the object exists; ``read_deleted()`` returns the deleted
    object or None. The lifecycle states are ``present``, ``deleted`` and ``absent``.
    """
    if found:
        if not check_mode:
            poller = call(area + '/delete', begin_delete, name)
            # The poller waits until the deleted object is visible, so that it can be purged.
            call(area + '/get', poller.wait)
            if purge:
                _purge_deleted(call, area, purge_deleted, name)
        return True, 'present', 'absent' if purge else 'deleted'
    if purge and read_deleted() is not None:
        if not check_mode:
            _purge_deleted(call, area, purge_deleted, name)
        return True, 'deleted', 'absent'
    return False, 'absent', 'absent'


def _purge_deleted(call, area, purge_deleted, name):
    try:
        call(area + '/purge', purge_deleted, name)
    except KeyVaultError as error:
        # A vault without soft delete has nothing left to purge.
        if error.kind != 'not_found':
            raise
