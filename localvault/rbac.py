"""Azure role-based access control (RBAC), the permission model Azure recommends for new vaults.

A vault uses either access policies (each identity's permissions, :mod:`localvault.identity`) or
Azure RBAC: role assignments, each giving one identity one built-in role at one scope (the vault,
``secrets/NAME`` or ``certificates/NAME``). Under RBAC every request needs its operation's data
action (:data:`OPERATION_ACTIONS`) from a role assigned at the vault or at the object's own scope;
the lists need it at the vault. A request without one gets the service's 403 ``ForbiddenByRbac``.

The configuration file holds ``permission_model`` and ``role_assignments`` (see :mod:`localvault.config`);
the operator controls read and change them at run time (``/_emulator/authorization``).
"""

import dataclasses
import re
import threading

from localvault.errors import KeyVaultError

ACCESS_POLICIES = "access_policies"
RBAC = "rbac"
PERMISSION_MODELS = (ACCESS_POLICIES, RBAC)
VAULT_SCOPE = "/"
OBJECT_SCOPES = ("secrets", "certificates")

# The data-plane roles for vaults and their data actions, as Microsoft lists them in "Azure built-in roles for
# Security" (MicrosoftDocs/azure-docs, articles/role-based-access-control/built-in-roles/security.md, 2025-01-25).
# "*" matches any characters, "/" included, as in a role definition.
BUILT_IN_ROLES = {
    "Key Vault Administrator": ("00482a5a-887f-4fb3-b363-3b7fe8e74483", ("Microsoft.KeyVault/vaults/*",)),
    "Key Vault Reader": ("21090545-7ca7-4776-b22c-e363652d74d2", (
        "Microsoft.KeyVault/vaults/*/read",
        "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
    )),
    "Key Vault Secrets Officer": ("b86a8fe4-44ce-4948-aee5-eccb2c155cd7", ("Microsoft.KeyVault/vaults/secrets/*",)),
    "Key Vault Secrets User": ("4633458b-17de-408a-b874-0445c86b69e6", (
        "Microsoft.KeyVault/vaults/secrets/getSecret/action",
        "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
    )),
    "Key Vault Certificates Officer": ("a4417e6f-fecd-4de8-b567-7b0420556985", (
        "Microsoft.KeyVault/vaults/certificatecas/*",
        "Microsoft.KeyVault/vaults/certificates/*",
        "Microsoft.KeyVault/vaults/certificatecontacts/write",
    )),
    "Key Vault Certificate User": ("db79e9a7-68ee-4b58-9aeb-b90e7c24fcba", (
        "Microsoft.KeyVault/vaults/certificates/read",
        "Microsoft.KeyVault/vaults/secrets/getSecret/action",
        "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
        "Microsoft.KeyVault/vaults/keys/read",
    )),
}

_SECRETS = "Microsoft.KeyVault/vaults/secrets/"
_CERTIFICATES = "Microsoft.KeyVault/vaults/certificates/"
_ISSUERS = "Microsoft.KeyVault/vaults/certificatecas/"
_CONTACTS = "Microsoft.KeyVault/vaults/certificatecontacts/write"

# Each REST operation of the data plane (the operation ids of the Key Vault OpenAPI description) -> (its data
# action, the scope it is checked at: "vault", or the collection whose object the request names). The actions
# and what each one covers are those of "Azure permissions for Security", Microsoft.KeyVault DataActions
# (MicrosoftDocs/azure-docs, articles/role-based-access-control/permissions/security.md): readMetadata/action
# "List or view the properties of a secret", getSecret/action "Gets the value of a secret",
# certificates/read "List certificates ..., or get information about a certificate", and so on. Reading the
# certificate contacts needs certificatecontacts/write, the only contacts action (Azure/azure-powershell#27911:
# a refused GET names it). Issuers and contacts belong to the vault, not to a certificate. A deleted object is
# checked at its object's scope (an assumption: the documents name no scope of their own for deleted objects).
OPERATION_ACTIONS = {
    "GetSecrets": (_SECRETS + "readMetadata/action", "vault"),
    "GetDeletedSecrets": (_SECRETS + "readMetadata/action", "vault"),
    "RestoreSecret": (_SECRETS + "restore/action", "vault"),
    "GetSecret": (_SECRETS + "getSecret/action", "secrets"),
    "GetSecretVersions": (_SECRETS + "readMetadata/action", "secrets"),
    "SetSecret": (_SECRETS + "setSecret/action", "secrets"),
    "UpdateSecret": (_SECRETS + "update/action", "secrets"),
    "DeleteSecret": (_SECRETS + "delete", "secrets"),
    "BackupSecret": (_SECRETS + "backup/action", "secrets"),
    "GetDeletedSecret": (_SECRETS + "readMetadata/action", "secrets"),
    "PurgeDeletedSecret": (_SECRETS + "purge/action", "secrets"),
    "RecoverDeletedSecret": (_SECRETS + "recover/action", "secrets"),
    "GetCertificates": (_CERTIFICATES + "read", "vault"),
    "GetDeletedCertificates": (_CERTIFICATES + "read", "vault"),
    "RestoreCertificate": (_CERTIFICATES + "restore/action", "vault"),
    "GetCertificate": (_CERTIFICATES + "read", "certificates"),
    "GetCertificateVersions": (_CERTIFICATES + "read", "certificates"),
    "GetCertificatePolicy": (_CERTIFICATES + "read", "certificates"),
    "GetCertificateOperation": (_CERTIFICATES + "read", "certificates"),
    "CreateCertificate": (_CERTIFICATES + "create/action", "certificates"),
    "MergeCertificate": (_CERTIFICATES + "create/action", "certificates"),
    "ImportCertificate": (_CERTIFICATES + "import/action", "certificates"),
    "UpdateCertificate": (_CERTIFICATES + "update/action", "certificates"),
    "UpdateCertificatePolicy": (_CERTIFICATES + "update/action", "certificates"),
    "UpdateCertificateOperation": (_CERTIFICATES + "update/action", "certificates"),
    "DeleteCertificateOperation": (_CERTIFICATES + "update/action", "certificates"),
    "DeleteCertificate": (_CERTIFICATES + "delete", "certificates"),
    "BackupCertificate": (_CERTIFICATES + "backup/action", "certificates"),
    "GetDeletedCertificate": (_CERTIFICATES + "read", "certificates"),
    "PurgeDeletedCertificate": (_CERTIFICATES + "purge/action", "certificates"),
    "RecoverDeletedCertificate": (_CERTIFICATES + "recover/action", "certificates"),
    "GetCertificateContacts": (_CONTACTS, "vault"),
    "SetCertificateContacts": (_CONTACTS, "vault"),
    "DeleteCertificateContacts": (_CONTACTS, "vault"),
    "GetCertificateIssuers": (_ISSUERS + "read", "vault"),
    "GetCertificateIssuer": (_ISSUERS + "read", "vault"),
    "SetCertificateIssuer": (_ISSUERS + "write", "vault"),
    "UpdateCertificateIssuer": (_ISSUERS + "write", "vault"),
    "DeleteCertificateIssuer": (_ISSUERS + "delete", "vault"),
}

_OBJECT_NAME = re.compile(r"^[0-9a-zA-Z-]{1,127}$")


class AuthorizationError(ValueError):
    """A permission model or role assignment the vault cannot use; the message names the entry and the problem."""


def _pattern(data_action):
    return re.compile("^" + ".*".join(re.escape(part) for part in data_action.split("*")) + "$", re.IGNORECASE)


_ROLE_PATTERNS = {name: tuple(_pattern(action) for action in actions) for name, (_role_id, actions) in BUILT_IN_ROLES.items()}


def role_grants(role, data_action):
    """Whether the built-in ``role`` (its exact name) has ``data_action`` among its data actions."""
    return any(pattern.match(data_action) for pattern in _ROLE_PATTERNS[role])


@dataclasses.dataclass(frozen=True)
class RoleAssignment:
    """One built-in ``role`` for one identity (by name, and the object id tokens carry) at ``scope``."""

    identity: str
    object_id: str
    role: str
    scope: str

    def describe(self):
        return {"identity": self.identity, "role": self.role, "scope": self.scope}

    def covers(self, object_scope):
        """Whether this assignment reaches a request checked at ``object_scope`` (None for the vault)."""
        return self.scope == VAULT_SCOPE or (object_scope is not None and self.scope.lower() == object_scope.lower())


@dataclasses.dataclass(frozen=True)
class Authorization:
    """The vault's permission model and, for RBAC, its role assignments."""

    permission_model: str = ACCESS_POLICIES
    role_assignments: tuple = ()

    def describe(self):
        return {"permission_model": self.permission_model, "role_assignments": [item.describe() for item in self.role_assignments]}

    def allows(self, object_id, data_action, object_scope):
        return any(assignment.object_id == object_id and assignment.covers(object_scope) and role_grants(assignment.role, data_action)
                   for assignment in self.role_assignments)


def parse(permission_model, role_assignments, identities):
    """The :class:`Authorization` of a configuration's ``permission_model`` and ``role_assignments``.

    ``identities`` are the vault's :class:`localvault.identity.Identity` objects, which assignments name.
    """
    if permission_model not in PERMISSION_MODELS:
        raise AuthorizationError(f"permission_model must be one of {', '.join(PERMISSION_MODELS)}, got {permission_model!r}")
    if not isinstance(role_assignments, list):
        raise AuthorizationError("role_assignments must be a list of {\"identity\", \"role\", \"scope\"} objects")
    by_name = {identity.name: identity for identity in identities}
    assignments = tuple(_assignment(index, entry, by_name) for index, entry in enumerate(role_assignments))
    return Authorization(permission_model=permission_model, role_assignments=tuple(dict.fromkeys(assignments)))


def _assignment(index, entry, identities_by_name):
    where = f"role_assignments[{index}]"
    if not isinstance(entry, dict):
        raise AuthorizationError(f"{where} must be an object with the keys identity, role and scope")
    unknown = sorted(set(entry) - {"identity", "role", "scope"})
    if unknown:
        raise AuthorizationError(f"{where}: unknown keys {', '.join(unknown)}; known: identity, role, scope")
    missing = [key for key in ("identity", "role", "scope") if not isinstance(entry.get(key), str) or not entry.get(key)]
    if missing:
        raise AuthorizationError(f"{where}: {', '.join(missing)} must be given as a non-empty string")
    identity = identities_by_name.get(entry["identity"])
    if identity is None:
        raise AuthorizationError(f"{where}: there is no identity named {entry['identity']}; known: {', '.join(sorted(identities_by_name))}")
    return RoleAssignment(identity=identity.name, object_id=identity.object_id, role=_role(where, entry["role"]), scope=_scope(where, entry["scope"]))


def _role(where, wanted):
    for name, (role_id, _actions) in BUILT_IN_ROLES.items():
        # Like `az role assignment create --role`, a role is named by its name or its id.
        if wanted.lower() in (name.lower(), role_id):
            return name
    raise AuthorizationError(f"{where}: unknown role {wanted!r}; the built-in Key Vault data-plane roles are: {', '.join(BUILT_IN_ROLES)}")


def _scope(where, scope):
    if scope == VAULT_SCOPE:
        return scope
    collection, _slash, name = scope.partition("/")
    if collection not in OBJECT_SCOPES or not _OBJECT_NAME.match(name):
        raise AuthorizationError(f"{where}: scope must be \"/\" (the vault), \"secrets/NAME\" or \"certificates/NAME\", got {scope!r}")
    return scope


class AuthorizationHolder:
    """Thread-safe current :class:`Authorization`, starting from (and resettable to) the configured one."""

    def __init__(self, initial, identities):
        self._initial = initial
        self._current = initial
        self._identities = tuple(identities)
        self._lock = threading.Lock()

    def current(self):
        with self._lock:
            return self._current

    def update(self, changes):
        """Set ``permission_model`` and/or replace ``role_assignments`` (the keys of ``changes``, each optional)."""
        if not isinstance(changes, dict) or set(changes) - {"permission_model", "role_assignments"}:
            raise AuthorizationError("the authorization control takes an object with permission_model and/or role_assignments")
        with self._lock:
            current = self._current
            self._current = parse(changes.get("permission_model", current.permission_model),
                                  changes.get("role_assignments", [item.describe() for item in current.role_assignments]), self._identities)
            return self._current

    def reset(self):
        with self._lock:
            self._current = self._initial
            return self._current


def vault_resource_id(resource_group_providers, vault_name):
    """The vault's Azure resource id, lower-cased as the service writes it in its RBAC refusals."""
    return f"{resource_group_providers}/Microsoft.KeyVault/vaults/{vault_name}".lower()


def authorize(authorization, operation, name, caller, vault_resource, vault_name, issuer):
    """Raise the service's 403 ``ForbiddenByRbac`` unless ``caller`` may carry out ``operation`` on object ``name``."""
    data_action, checked_at = OPERATION_ACTIONS[operation]
    object_scope = None if checked_at == "vault" else f"{checked_at}/{name}"
    if authorization.allows(caller.object_id, data_action, object_scope):
        return
    resource = vault_resource if object_scope is None else f"{vault_resource}/{object_scope.lower()}"
    # The service's wording and line layout, as real refusals show it (e.g. piyushsachdeva/Terraform_AKS#2,
    # microsoft/AL-Go#864): CRLF-separated lines, the resource id lower-cased.
    lines = (
        "Caller is not authorized to perform action on resource.",
        "If role assignments, deny assignments or role definitions were changed recently, please observe propagation time.",
        f"Caller: appid={caller.client_id};oid={caller.object_id};iss={issuer}",
        f"Action: '{data_action}'",
        f"Resource: '{resource}'",
        "Assignment: (not found)",
        "DenyAssignmentId: null",
        "DecisionReason: 'DeniedWithNoValidRBAC' ",
        f"Vault: {vault_name};location=local",
    )
    raise KeyVaultError(403, "Forbidden", "\r\n".join(lines) + "\r\n", inner_code="ForbiddenByRbac")
