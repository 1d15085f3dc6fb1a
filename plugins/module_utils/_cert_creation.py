# -*- coding: utf-8 -*-
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Creating a certificate version: a long-running operation in the vault.

For internal collection use only: names and behaviour may change without notice.

Starts a creation, follows it to its end (or reports it pending), and when another run's creation
is already pending, waits for that one instead of starting a second. Every outcome is one
CreationOutcome; the certificate module decides what to compare and report from it.
"""

import collections
import time

try:
    from azure.core.polling import LROPoller, PollingMethod
    from azure.keyvault.certificates import KeyVaultCertificate
except ImportError:
    # The module wrapper reports the missing library before any of these is needed.
    PollingMethod = object

from ansible_collections.keyvault.azure.plugins.module_utils._cert_policy import UNKNOWN_ISSUER
from ansible_collections.keyvault.azure.plugins.module_utils._errors import KeyVaultError

# As often as the SDK's own poller looks at an operation it started (azure-keyvault-certificates'
# CreateCertificatePoller polls every 5 seconds by default).
POLL_INTERVAL_SECONDS = 5

CreationOutcome = collections.namedtuple('CreationOutcome', ['certificate', 'operation', 'started_here', 'pending'])
CreationOutcome.__doc__ = """How a creation ended, as far as this run saw it.

``certificate`` is the certificate as read afterwards (the SDK's KeyVaultCertificate, None when
there is none), ``operation`` the creation operation (None for one this run started that
completed), ``started_here`` whether this run started it. ``pending`` is true when the operation
still runs (not waited for, or waiting for a signed certificate): the run reports it and compares
nothing else. A completed creation that another run started (``started_here`` false) is to be
compared with the task again.
"""


class PendingCreationPolling(PollingMethod):
    """Follows a creation operation that this run did not start.

    The SDK's poller only follows the operation its begin_create_certificate starts. One left by an
    earlier run, or started by another host at the same moment, is followed the same way: its
    status every few seconds, then the certificate once the operation completed.
    """

    def __init__(self, get_operation, get_certificate, interval=POLL_INTERVAL_SECONDS):
        self._get_operation = get_operation
        self._get_certificate = get_certificate
        self._interval = interval
        self._operation = None
        self._resource = None

    @property
    def operation(self):
        """The operation as last seen."""
        return self._operation

    def initialize(self, client, initial_response, deserialization_callback):
        self._operation = initial_response

    def run(self):
        while not self.finished():
            time.sleep(self._interval)
            self._operation = self._get_operation()
        self._resource = self._get_certificate() if self.status() == 'completed' else self._operation

    def status(self):
        return (self._operation.status or '').lower()

    def finished(self):
        return self.status() != 'inprogress'

    def resource(self):
        return self._resource


def in_progress(operation):
    return operation is not None and (operation.status or '').lower() == 'inprogress'


def is_unknown_issuer(name):
    return (name or '').lower() == UNKNOWN_ISSUER.lower()


class CertificateCreation(object):
    """The creation of versions of one certificate.

    ``call(permission, function, *args, **kwargs)`` is the module's vault call for this certificate,
    ``client`` the SDK's CertificateClient, ``label`` names the certificate in messages, ``where``
    the vault. ``wait`` false reports a creation as soon as it is started or found pending.
    """

    def __init__(self, call, client, name, label, where, wait, wait_timeout, poll_interval=POLL_INTERVAL_SECONDS):
        self._call = call
        self._client = client
        self._name = name
        self._label = label
        self._where = where
        self._wait = wait
        self._wait_timeout = wait_timeout
        self._poll_interval = poll_interval

    def read_current(self):
        """The current version (KeyVaultCertificate, possibly still pending), or None."""
        return self._read_or_none(self._client.get_certificate)

    def read_operation(self):
        """The creation operation of the current version (pending or finished), or None."""
        return self._read_or_none(self._client.get_certificate_operation)

    def _read_or_none(self, read):
        try:
            return self._call('certificates/get', read, self._name)
        except KeyVaultError as error:
            if error.kind == 'not_found':
                return None
            raise

    def follow_pending(self, certificate):
        """A creation of ``certificate`` (a version not issued yet) that is pending: a CreationOutcome, or None when none is.

        It is waited for unless the run does not wait or the operation waits for a signed
        certificate (an Unknown issuer's), which no waiting brings.
        """
        operation = self.read_operation()
        if not in_progress(operation):
            return None
        if not self._wait or is_unknown_issuer(operation.issuer_name):
            return CreationOutcome(certificate, operation, started_here=False, pending=True)
        return self._await_other(operation)

    def create(self, policy, enabled, tags, may_await_other=True):
        """Create a version with ``policy`` (the SDK's CertificatePolicy); a CreationOutcome.

        When another run's creation is pending, the vault refuses this one and the outcome is that
        creation: awaited when ``may_await_other`` (and the run waits), else reported pending.
        """
        try:
            poller = self._call('certificates/create', self._client.begin_create_certificate, self._name, policy, enabled=enabled, tags=tags)
        except KeyVaultError as error:
            if error.kind != 'conflict':
                raise
            # The create request has no conditional form (no If-Match / If-None-Match in CreateCertificate,
            # kvspec certificates.json); while an operation is pending the service answers 409 Conflict
            # "There is a pending certificate operation for certificate ..." (observed; the local vault
            # reproduces it). Any other conflict is not ours to settle.
            operation = self.read_operation()
            if not in_progress(operation):
                raise
            if not may_await_other or not self._wait or is_unknown_issuer(operation.issuer_name):
                return CreationOutcome(self.read_current(), operation, started_here=False, pending=True)
            return self._await_other(operation)
        if not self._wait:
            return CreationOutcome(self.read_current(), self.read_operation(), started_here=True, pending=True)
        outcome = self._wait_for(poller)
        if isinstance(outcome, KeyVaultCertificate):
            return CreationOutcome(outcome, None, started_here=True, pending=False)
        return CreationOutcome(self.read_current(), outcome, started_here=True, pending=True)

    def merge(self, certificates, enabled=None, tags=None):
        """Complete the pending version with ``certificates`` (DER bytes, leaf first); the merged KeyVaultCertificate.

        ``enabled`` and ``tags`` None leave the pending version's own. MergeCertificate needs the
        certificates/create permission (kvspec certificates.json, MergeCertificate).
        """
        return self._call('certificates/create', self._client.merge_certificate, self._name, certificates, enabled=enabled, tags=tags)

    def _await_other(self, operation):
        polling = PendingCreationPolling(lambda: self._call('certificates/get', self._client.get_certificate_operation, self._name),
                                         lambda: self._call('certificates/get', self._client.get_certificate, self._name),
                                         interval=self._poll_interval)
        outcome = self._wait_for(LROPoller(None, operation, None, polling))
        certificate = outcome if isinstance(outcome, KeyVaultCertificate) else self.read_current()
        return CreationOutcome(certificate, polling.operation, started_here=False, pending=False)

    def _wait_for(self, poller):
        """The certificate a creation made, or its operation when it does not complete (an Unknown issuer's).

        Fails when the creation fails, is cancelled, or does not complete within wait_timeout.
        """
        outcome = self._call('certificates/get', poller.result, timeout=self._wait_timeout)
        if not poller.done():
            raise KeyVaultError('timeout', 'the creation of %s in %s did not complete within wait_timeout=%d seconds; it carries on in '
                                           'the vault and a later run waits for it (or reports it with wait: false)' % (
                                               self._label, self._where, self._wait_timeout))
        if isinstance(outcome, KeyVaultCertificate):
            return outcome
        status = (outcome.status or '').lower()
        if status == 'failed':
            error = outcome.error
            raise KeyVaultError('service', 'the creation of %s in %s failed: %s' % (
                self._label, self._where, '%s: %s' % (error.code, error.message) if error is not None else outcome.status_details))
        if status == 'cancelled':
            raise KeyVaultError('conflict', 'the creation of %s in %s was cancelled' % (self._label, self._where))
        return outcome
