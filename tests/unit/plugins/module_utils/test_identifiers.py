# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Names, versions and lookup terms are checked before anything is sent."""

import pytest

from ansible_collections.keyvault.azure.plugins.module_utils._identifiers import (
    KeyVaultInputError,
    ObjectReference,
    check_object_name,
    normalize_vault_url,
    parse_object_reference,
)

VERSION = '0123456789abcdef0123456789ABCDEF'
VAULT = 'https://shop.vault.azure.net'


@pytest.mark.parametrize('term, expected', [
    ('db-password', ObjectReference(VAULT, 'db-password', None)),
    (' db-password ', ObjectReference(VAULT, 'db-password', None)),
    ('db-password/' + VERSION, ObjectReference(VAULT, 'db-password', VERSION)),
    ('https://Other.vault.azure.net/secrets/api-key', ObjectReference('https://other.vault.azure.net', 'api-key', None)),
    ('https://other.vault.azure.net:443/secrets/api-key/' + VERSION, ObjectReference('https://other.vault.azure.net:443', 'api-key', VERSION)),
    ('https://localhost:8443/secrets/x/', ObjectReference('https://localhost:8443', 'x', None)),
])
def test_terms(term, expected):
    assert parse_object_reference(term, 'secrets', VAULT) == expected


def test_default_version_applies_only_to_terms_without_one():
    other = 'f' * 32
    assert parse_object_reference('db', 'secrets', VAULT, version=VERSION).version == VERSION
    assert parse_object_reference('db/' + other, 'secrets', VAULT, version=VERSION).version == other


def test_a_term_without_vault_keeps_none():
    assert parse_object_reference('db', 'secrets').vault_url is None


@pytest.mark.parametrize('term, message', [
    ('', 'empty secret name'),
    ('db_password', "invalid secret name 'db_password'"),
    ('x' * 128, 'invalid secret name'),
    ('db/not-a-version', "invalid secret version 'not-a-version': a version is 32 hexadecimal digits"),
    ('db/%s/extra' % VERSION, 'invalid secret version'),
    ('http://shop.vault.azure.net/secrets/db', 'must be an https:// URL'),
    ('https://shop.vault.azure.net/certificates/db', 'is not a secret id'),
    ('https://shop.vault.azure.net/secrets', 'is not a secret id'),
    ('https://shop.vault.azure.net/secrets/db?api-version=7.5', 'is not a secret id'),
])
def test_bad_terms(term, message):
    with pytest.raises(KeyVaultInputError, match=message):
        parse_object_reference(term, 'secrets', VAULT)


def test_names_of_other_object_kinds():
    assert check_object_name('a' * 127, 'certificate') == 'a' * 127
    with pytest.raises(KeyVaultInputError, match="invalid certificate name 'web.example'"):
        check_object_name('web.example', 'certificate')


@pytest.mark.parametrize('url, message', [
    ('https://shop.vault.azure.net:0', "vault URL port must be a number from 1 to 65535, got 'https://shop.vault.azure.net:0'"),
    ('https://shop.vault.azure.net:65536', "vault URL port must be a number from 1 to 65535, got 'https://shop.vault.azure.net:65536'"),
    ('https://shop.vault.azure.net:x1', "vault URL port must be a number from 1 to 65535, got 'https://shop.vault.azure.net:x1'"),
    ('https://[::1', "vault URL must be an https:// URL such as https://myvault.vault.azure.net, got 'https://[::1'"),
    ('http://me:pass-word@shop.vault.azure.net', "vault URL must be an https:// URL such as https://myvault.vault.azure.net, "
                                                 "got 'http://********@shop.vault.azure.net'"),
    ('https://me:pass-word@shop.vault.azure.net/x', "vault URL must name only the vault (https://host[:port]), got 'https://********@shop.vault.azure.net/x'"),
    ('https://me:pass-word@shop.vault.azure.net', 'vault URL must not contain user information'),
])
def test_vault_urls_refused_without_showing_a_password(url, message):
    with pytest.raises(KeyVaultInputError) as raised:
        normalize_vault_url(url)
    assert str(raised.value) == message


def test_a_term_with_a_password_is_refused_without_showing_it():
    with pytest.raises(KeyVaultInputError) as raised:
        parse_object_reference('https://me:pass-word@shop.vault.azure.net/keys/k', 'secrets')
    assert 'pass-word' not in str(raised.value)
