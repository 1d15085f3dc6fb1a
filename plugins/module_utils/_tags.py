# -*- coding: utf-8 -*-
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Tags of vault objects: the form they are compared in.

For internal collection use only: names and behaviour may change without notice.
"""


def normalize_tags(tags):
    if tags is None:
        return None
    return dict((str(key), '' if value is None else str(value)) for key, value in tags.items())


def carries_tags(tags, wanted):
    """Whether ``tags`` (as the SDK returns them) hold every tag of ``wanted`` (normalized)."""
    tags = normalize_tags(tags) or {}
    return all(tags.get(key) == value for key, value in wanted.items())
