# -*- coding: utf-8 -*-
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Times as the collection handles them: seconds since the epoch (UTC), ISO 8601 in options and output.

For internal collection use only: names and behaviour may change without notice.
"""

import calendar
import datetime
import re

from ansible_collections.keyvault.azure.plugins.module_utils._identifiers import KeyVaultInputError

# 9999-12-31T23:59:59Z.
LATEST_TIMESTAMP = 253402300799
_TIMESTAMP = re.compile(
    r'^(?P<date>\d{4}-\d{2}-\d{2})'
    r'(?:[T ](?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.\d+)?)?)?'
    r'\s*(?P<zone>Z|[+-]\d{2}:?\d{2})?$', re.IGNORECASE)


def parse_timestamp(text, option):
    """Seconds since the epoch (UTC) for an ISO 8601 date or date-time, or for a number of seconds.

    A date-time without a zone is taken as UTC; fractions of a second are dropped, as the service
    keeps whole seconds.
    """
    text = str(text).strip()
    if re.match(r'^\d+$', text):
        return _refuse_after_year_9999(int(text), text, option)
    match = _TIMESTAMP.match(text)
    if match:
        try:
            moment = datetime.datetime.strptime(match.group('date'), '%Y-%m-%d').replace(
                hour=int(match.group('hour') or 0), minute=int(match.group('minute') or 0), second=int(match.group('second') or 0))
        except ValueError:
            match = None
    if not match:
        raise KeyVaultInputError("%s: '%s' is not a date; use ISO 8601 such as 2030-01-31 or 2030-01-31T12:00:00Z" % (option, text))
    seconds = calendar.timegm(moment.timetuple())
    zone = (match.group('zone') or 'Z').upper().replace(':', '')
    if zone != 'Z':
        offset = int(zone[1:3]) * 3600 + int(zone[3:5]) * 60
        seconds -= offset if zone[0] == '+' else -offset
    return _refuse_after_year_9999(seconds, text, option)


def _refuse_after_year_9999(seconds, text, option):
    """``seconds``, refused beyond the last second Python's datetime, and so the SDK, can represent."""
    if seconds > LATEST_TIMESTAMP:
        raise KeyVaultInputError("%s: '%s' is later than %s, the latest date Key Vault takes" % (option, text, format_timestamp(LATEST_TIMESTAMP)))
    return seconds


def format_timestamp(seconds):
    if seconds is None:
        return None
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def timestamp_to_datetime(seconds):
    """The timezone-aware datetime the SDK wants for ``not_before`` / ``expires_on``."""
    if seconds is None:
        return None
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc)


def datetime_to_timestamp(moment):
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return int(calendar.timegm(moment.utctimetuple()))
