# -*- coding: utf-8 -*-
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Vault URLs, object names, versions and object ids, checked before anything is sent.

For internal collection use only: names and behaviour may change without notice.
"""

import collections
import re

from ansible.module_utils.six.moves.urllib.parse import urlsplit

# The service's rule for secret, certificate and key names (the name path parameter's pattern in the Key Vault
# REST API's OpenAPI descriptions; at most 127 characters, observed).
OBJECT_NAME_PATTERN = re.compile(r'^[0-9A-Za-z-]{1,127}$')
# Versions the service hands out are 32 hexadecimal digits (observed in every id it returns).
VERSION_PATTERN = re.compile(r'^[0-9A-Fa-f]{32}$')

# The ``user:password@`` part of a URL.
_USERINFO = re.compile(r'(?<=://)[^/?#]*@')

ObjectReference = collections.namedtuple('ObjectReference', ['vault_url', 'name', 'version'])


class KeyVaultInputError(ValueError):
    """A value given to a plugin that is refused before any request is sent."""


def check_object_name(name, kind='secret'):
    if not isinstance(name, str) or not OBJECT_NAME_PATTERN.match(name):
        raise KeyVaultInputError("invalid %s name '%s': use 1-127 letters, digits and hyphens" % (kind, name))
    return name


def check_version(version, kind='secret'):
    if not isinstance(version, str) or not VERSION_PATTERN.match(version):
        raise KeyVaultInputError("invalid %s version '%s': a version is 32 hexadecimal digits" % (kind, version))
    return version


def displayed_url(url):
    """``url`` for a message: a ``user:password@`` part is masked, as it may hold a password."""
    return _USERINFO.sub('********@', url)


def normalize_vault_url(url):
    """``https://host[:port]`` for a vault URL, or KeyVaultInputError saying what is wrong with it."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        # urllib's words ("Port out of range 0-65535", "Invalid IPv6 URL") name no option.
        if 'Port' not in str(error):
            raise KeyVaultInputError("vault URL must be an https:// URL such as https://myvault.vault.azure.net, got '%s'" % displayed_url(url))
        port = 0
    if port == 0:
        raise KeyVaultInputError("vault URL port must be a number from 1 to 65535, got '%s'" % displayed_url(url))
    if parts.scheme.lower() != 'https' or not parts.hostname:
        raise KeyVaultInputError("vault URL must be an https:// URL such as https://myvault.vault.azure.net, got '%s'" % displayed_url(url))
    if parts.path.strip('/') or parts.query or parts.fragment:
        raise KeyVaultInputError("vault URL must name only the vault (https://host[:port]), got '%s'" % displayed_url(url))
    if parts.username or parts.password:
        raise KeyVaultInputError('vault URL must not contain user information')
    return 'https://' + parts.netloc.lower()


def parse_object_reference(term, collection='secrets', vault_url=None, version=None):
    """Split a lookup term into vault URL, name and version.

    A term is ``name``, ``name/version`` or an object id such as
    ``https://myvault.vault.azure.net/secrets/name[/version]``; ``vault_url`` and ``version`` fill
    in what the term does not say.
    """
    kind = collection[:-1]
    if not isinstance(term, str) or not term.strip():
        raise KeyVaultInputError('empty %s name' % kind)
    term = term.strip()
    if '://' in term:
        parts = urlsplit(term)
        segments = [segment for segment in parts.path.split('/') if segment]
        if len(segments) not in (2, 3) or segments[0] != collection or parts.query or parts.fragment:
            raise KeyVaultInputError("'%s' is not a %s id such as https://myvault.vault.azure.net/%s/NAME[/VERSION]" % (
                displayed_url(term), kind, collection))
        vault_url = normalize_vault_url('%s://%s' % (parts.scheme, parts.netloc))
        name = segments[1]
        if len(segments) == 3:
            version = segments[2]
    else:
        name, separator, term_version = term.partition('/')
        if separator:
            version = term_version
    check_object_name(name, kind)
    if version:
        check_version(version, kind)
    return ObjectReference(vault_url, name, version or None)
