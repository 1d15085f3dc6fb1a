# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A disabled current version among versions created in the same second: ``created`` counts whole seconds, so the
module must tell the current version by more than its creation time, or refuse to act on a guess.
"""

import types

import pytest

from playbook_helpers import counters_task, unique_name, writes_between


def two_versions_in_one_second(vault, prefix):
    """(name, older version, newer version) of a secret whose two versions share their ``created`` second."""
    for _attempt in range(10):
        name = unique_name(prefix)
        older = vault.set_secret(name, 'older-value').properties
        newer = vault.set_secret(name, 'newer-value').properties
        if older.created_on == newer.created_on:
            return name, older.version, newer.version
    raise AssertionError('could not write two versions within one second')


@pytest.fixture(scope='module')
def same_second(playbook, localvault, vault):
    enable = two_versions_in_one_second(vault, 'same-second')
    vault.update_secret_properties(enable[0], enable[2], enabled=False)
    both = two_versions_in_one_second(vault, 'same-second-both')
    for version in both[1:]:
        vault.update_secret_properties(both[0], version, enabled=False)
    run = playbook([
        counters_task('before', localvault),
        {'name': 'enable', 'keyvault.azure.secret': {'name': enable[0], 'enabled': True}},
        {'name': 'enable both', 'keyvault.azure.secret': {'name': both[0], 'enabled': True}, 'ignore_errors': True},
        counters_task('after', localvault),
    ])
    return types.SimpleNamespace(run=run, enable=enable, both=both)


def test_the_disabled_current_version_is_the_one_enabled(same_second, vault):
    name, older, newer = same_second.enable
    result = same_second.run['enable']
    assert not result.get('failed'), result
    assert result['changed'] and result['secret']['version'] == newer, result
    secret = vault.get_secret(name)
    assert (secret.value, secret.properties.version) == ('newer-value', newer)
    assert vault.get_secret(name, older).properties.enabled


def test_two_disabled_versions_of_one_second_are_named_not_guessed(same_second, vault, localvault):
    name, older, newer = same_second.both
    result = same_second.run['enable both']
    assert result['failed']
    assert result['msg'] == (
        "secret '%s' is disabled and its newest versions %s were created in the same second, so the vault does not tell which one is "
        "current; enable or remove one of them by version, then run the task again" % (name, ', '.join(sorted([older, newer]))))
    assert [properties.enabled for properties in vault.list_properties_of_secret_versions(name)] == [False, False]
    # One write in all: enabling the current version of the first secret.
    assert writes_between(same_second.run.counters('before'), same_second.run.counters('after')) == {'UpdateSecret': 1}
