# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A refusal by a vault with the Azure RBAC permission model names the missing data action and a built-in role that grants it."""

import pytest

from ansible_collections.keyvault.azure.plugins.module_utils._errors import KeyVaultError, _missing_role, vault_call

from localvault import rbac

VAULT = 'https://shop.vault.azure.net'
VAULT_RESOURCE = '/subscriptions/s1/resourcegroups/rg/providers/microsoft.keyvault/vaults/shop'


def refusal(action, resource):
    """The service's RBAC refusal, in the layout real refusals have (see localvault/rbac.py)."""
    return {'error': {'code': 'Forbidden', 'innererror': {'code': 'ForbiddenByRbac'}, 'message': (
        "Caller is not authorized to perform action on resource.\r\n"
        "If role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\n"
        "Caller: appid=a1;oid=o1;iss=https://sts.windows.net/t1/\r\n"
        "Action: '%s'\r\nResource: '%s'\r\nAssignment: (not found)\r\nDenyAssignmentId: null\r\n"
        "DecisionReason: 'DeniedWithNoValidRBAC' \r\nVault: shop;location=westeurope\r\n") % (action, resource)}}


def failing_get(canned_secret_client, body):
    canned = canned_secret_client([(403, body)], client_id='c-123')
    with pytest.raises(KeyVaultError) as raised:
        vault_call(canned.options, VAULT, 'secrets/get', "secret 'db'", canned.client.get_secret, 'db')
    return raised.value


def test_an_rbac_refusal_names_the_data_action_where_it_is_needed_and_a_role(canned_secret_client):
    error = failing_get(canned_secret_client, refusal('Microsoft.KeyVault/vaults/secrets/getSecret/action', VAULT_RESOURCE + '/secrets/db'))
    assert error.kind == 'forbidden'
    assert error.message.startswith(
        "access to secret 'db' in vault %s was denied by Azure RBAC: the user-assigned managed identity with client_id c-123 has no role "
        "assignment at the vault or secrets/db that grants the data action Microsoft.KeyVault/vaults/secrets/getSecret/action; the built-in "
        "role Key Vault Secrets User grants it (the vault said: Caller is not authorized to perform action on resource. " % VAULT)
    assert 'access policy' not in error.message and 'permission (' not in error.message


def test_a_refused_list_needs_the_action_at_the_vault(canned_secret_client):
    error = failing_get(canned_secret_client, refusal('Microsoft.KeyVault/vaults/secrets/readMetadata/action', VAULT_RESOURCE))
    assert ('has no role assignment at the vault that grants the data action Microsoft.KeyVault/vaults/secrets/readMetadata/action; '
            'the built-in role Key Vault Reader grants it') in error.message


def test_a_refusal_without_an_action_line_still_says_rbac_denied_it(canned_secret_client):
    body = {'error': {'code': 'Forbidden', 'innererror': {'code': 'ForbiddenByRbac'}, 'message': 'Caller is not authorized.'}}
    error = failing_get(canned_secret_client, body)
    assert error.message.startswith("access to secret 'db' in vault %s was denied by Azure RBAC: the user-assigned managed identity with "
                                    "client_id c-123 has no role assignment that allows this request (the vault said: Caller is not "
                                    "authorized.)" % VAULT)


@pytest.mark.parametrize('data_action', sorted(set(action for action, _scope in rbac.OPERATION_ACTIONS.values())))
def test_the_role_named_for_each_data_action_grants_it(data_action):
    """Every data action the vault checks gets a role, and the role has that action in its documented definition."""
    said = _missing_role("Action: '%s' Resource: '%s'" % (data_action, VAULT_RESOURCE))
    role = said.split('; the built-in role ')[1][:-len(' grants it')]
    assert rbac.role_grants(role, data_action), (data_action, role)
