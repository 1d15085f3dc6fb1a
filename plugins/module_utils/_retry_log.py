# -*- coding: utf-8 -*-
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the clients of a process retried, for the results and warnings of the plugins.

For internal collection use only: names and behaviour may change without notice.

Kept apart from _client so that reading it does not import the Azure SDK.
"""

import threading


class RetryLog(object):
    """What was retried, collected from every client of the process (possibly from several threads)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._events = []

    def record(self, event):
        with self._lock:
            self._events.append(event)

    def drain(self):
        """Every event recorded since the last call."""
        with self._lock:
            events, self._events = self._events, []
        return events


RETRY_LOG = RetryLog()
