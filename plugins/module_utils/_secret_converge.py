# -*- coding: utf-8 -*-
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Converging one secret: read it, plan with _secret_state, write what differs, exactly once.

For internal collection use only: names and behaviour may change without notice.

The ``secret`` module runs this for its one secret, the ``secrets`` module for each item of its list.
"""

from ansible_collections.keyvault.azure.plugins.module_utils._retry_log import RETRY_LOG
from ansible_collections.keyvault.azure.plugins.module_utils._errors import KeyVaultError
from ansible_collections.keyvault.azure.plugins.module_utils._identifiers import KeyVaultInputError, check_object_name
from ansible_collections.keyvault.azure.plugins.module_utils._module import SoftDeletable
from ansible_collections.keyvault.azure.plugins.module_utils._secret_state import (
    desired_state,
    diff_view,
    plan_present,
    plan_reasons,
    present_diff,
    state_after,
    state_from_properties,
    state_from_secret,
    to_result,
)
from ansible_collections.keyvault.azure.plugins.module_utils._time import datetime_to_timestamp, timestamp_to_datetime


class SecretTask(object):
    """One secret brought in line with ``params`` (the options of the ``secret`` module, or one item of ``secrets``)."""

    def __init__(self, vault, params):
        self.vault = vault
        self.params = params
        self.client = vault.secret_client()
        self.name = check_object_name(params['name'])
        self.label = "secret '%s'" % self.name
        self.soft_delete = SoftDeletable(vault, self.call, self.client, 'secret', self.name, self.label)

    def call(self, permission, function, *args, **kwargs):
        return self.vault.call(permission, self.label, function, *args, **kwargs)

    def read_current(self):
        """SecretState of the current version, or None when there is no (undeleted) secret."""
        try:
            return state_from_secret(self.call('secrets/get', self.client.get_secret, self.name))
        except KeyVaultError as error:
            if error.kind == 'not_found':
                return None
            if error.kind != 'disabled':
                raise
        # The service does not return a disabled version (observed: 403 SecretDisabled, "Operation get is not allowed
        # on a disabled secret"); its attributes are in the version list.
        versions = self.call('secrets/list', lambda: list(self.client.list_properties_of_secret_versions(self.name)))
        if not versions:
            return None
        return state_from_properties(self.disabled_current_version(versions), value_known=False)

    def disabled_current_version(self, versions):
        """Which of ``versions`` is the current one, known to be disabled (the vault refused to read it).

        The service gives no order for the version list (kvspec GetSecretVersions), and ``created`` counts whole
        seconds: the current version is a disabled one of the newest second, and when that second holds several
        disabled versions nothing tells them apart, so the task fails rather than act on one of them.
        """
        newest_second = max(datetime_to_timestamp(properties.created_on) or 0 for properties in versions)
        candidates = [properties for properties in versions
                      if not properties.enabled and (datetime_to_timestamp(properties.created_on) or 0) == newest_second]
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            raise KeyVaultError('conflict', '%s got a new version while it was read; run the task again' % self.label)
        raise KeyVaultError('conflict', '%s is disabled and its newest versions %s were created in the same second, so the vault does '
                                        'not tell which one is current; enable or remove one of them by version, then run the task again' % (
                                            self.label, ', '.join(sorted(properties.version for properties in candidates))))

    def exists(self):
        try:
            self.call('secrets/get', self.client.get_secret, self.name)
        except KeyVaultError as error:
            if error.kind == 'not_found':
                return False
            if error.kind != 'disabled':
                raise
        return True

    def write(self, plan, desired, current):
        """Carry out ``plan``; returns the new current SecretState."""
        after = state_after(desired, current, plan)
        if plan.action in ('create', 'new_version'):
            return self.set_version(after, current)
        changes = dict((field, getattr(desired, field)) for field in plan.changed_fields)
        if 'not_before' in changes:
            changes['not_before'] = timestamp_to_datetime(changes['not_before'])
        if 'expires' in changes:
            changes['expires_on'] = timestamp_to_datetime(changes.pop('expires'))
        properties = self.call('secrets/set', self.client.update_secret_properties, self.name, current.version, **changes)
        return state_from_properties(properties, value=current.value, value_known=current.value_known)

    def set_version(self, after, current):
        """Write ``after`` as a new version, exactly once even when the vault's answer is lost.

        The retry policy does not replay a write whose response was lost (see _client.py): the version
        is re-read, and written again only when the write did not land and the connection broke (a
        timed-out write may still land later, so it is not repeated).
        """
        attempt = 1
        while True:
            try:
                secret = self.call('secrets/set', self.client.set_secret, self.name, after.value,
                                   content_type=after.content_type, tags=after.tags, enabled=after.enabled,
                                   not_before=timestamp_to_datetime(after.not_before), expires_on=timestamp_to_datetime(after.expires))
                return state_from_secret(secret)
            except KeyVaultError as error:
                if error.kind not in ('connection', 'timeout'):
                    raise
                landed = self.read_current()
                if landed is not None and landed.value_known and landed.value == after.value and (
                        current is None or landed.version != current.version):
                    return landed
                if error.kind == 'timeout' or attempt > self.vault.options.retries:
                    raise KeyVaultError(error.kind, '%s; the secret, read again, does not hold the new value%s' % (
                        error.message, ' yet (the vault may still write it): run the task again to converge'
                        if error.kind == 'timeout' else ', so nothing was written'))
                attempt += 1
                RETRY_LOG.record('write %d of %s: the connection broke before the first landed' % (attempt, self.label))

    def desired(self):
        """The SecretState the task asks for; reads value_file and checks the input, before any request."""
        params = self.params
        value = params['value']
        if params['value_file'] is not None:
            value = read_value_file(params['value_file'])
            self.vault.add_sensitive_value(value)
        return desired_state(self.name, value=value, content_type=params['content_type'], tags=params['tags'],
                             enabled=params['enabled'], not_before=params['not_before'], expires=params['expires'])

    def present(self, desired=None):
        """``state: present``, towards ``desired`` (default: ``self.desired()``); the module's result."""
        params = self.params
        if desired is None:
            desired = self.desired()
        current = self.read_current()
        recovered = False
        if current is None:
            deleted = self.soft_delete.recover_deleted(params['recover'])
            if deleted is not None:
                recovered = True
                current = state_from_properties(deleted.properties, value_known=False) if self.vault.check_mode else self.read_current()
        if current is None and desired.value is None:
            raise KeyVaultInputError('%s does not exist in vault %s; value or value_file is needed to create it' % (self.label, self.vault.vault_url))

        plan = plan_present(desired, current, overwrite=params['overwrite'])
        diff = present_diff(current, state_after(desired, current, plan), plan)
        if recovered:
            diff['before'] = diff_view(None, lifecycle='deleted')
        if self.vault.check_mode or plan.action == 'none':
            after = state_after(desired, current, plan)
        else:
            after = self.write(plan, desired, current)
            if plan.value_not_compared and after.enabled:
                # Enabled now, so the value can be read and compared.
                after = self.converge_value(desired, params['overwrite'])
        if plan.value_not_compared and not after.enabled:
            self.vault.warn('%s is disabled, so its value was not compared with the value given' % self.label)

        reasons = plan_reasons(plan)
        if recovered:
            reasons.insert(0, 'the secret was deleted and recover is set')
        result = dict(changed=recovered or plan.action != 'none', diff=diff, secret=to_result(after), reasons=reasons)
        if params['return_value'] and after.value_known and after.value is not None:
            result['value'] = after.value
        return result

    def converge_value(self, desired, overwrite):
        current = self.read_current()
        plan = plan_present(desired, current, overwrite=overwrite)
        if plan.action == 'none':
            return current
        return self.write(plan, desired, current)

    def absent(self):
        changed, before, after = self.soft_delete.converge_absent(self.exists(), self.params['purge'])
        return absent_result(changed, before, after)


def absent_result(changed, before, after):
    reasons = []
    if before == 'present':
        reasons.append('the secret exists')
    if changed and after == 'absent':
        reasons.append('purge is set')
    return dict(changed=changed, secret={}, reasons=reasons,
                diff={'before': diff_view(None, lifecycle=before), 'after': diff_view(None, lifecycle=after)})


def read_value_file(path):
    try:
        with open(path, 'rb') as value_file:
            content = value_file.read()
    except (IOError, OSError) as error:
        raise KeyVaultInputError('value_file %s cannot be read: %s' % (path, error.strerror or error))
    try:
        return content.decode('utf-8')
    except UnicodeDecodeError:
        raise KeyVaultInputError('value_file %s is not UTF-8 text' % path)
