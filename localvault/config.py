"""The local vault's configuration file, its defaults, and the settings operators change at run time.

The configuration file is JSON; every key is optional::

    {
      "vault_name": "localvault",
      "tenant_id": "<uuid>",
      "identities": [{"name": "ci", "system_assigned": false, "client_id": "<uuid>", "object_id": "<uuid>",
                      "resource_id": "/subscriptions/.../userAssignedIdentities/ci",
                      "permissions": {"secrets": ["get", "list"], "certificates": ["get"]}}],
      "token_lifetime_seconds": 3600,
      "soft_delete_retention_days": 90,
      "purge_protection": false,
      "deletion_delay_seconds": 2,
      "recovery_delay_seconds": 2,
      "certificate_creation_delay_seconds": 2,
      "server_cert_sans": ["vault.example.test", "192.0.2.10"],
      "vms": [{"name": "web01", "addresses": ["198.18.0.11"], "system_assigned_identity": "web01",
               "user_assigned_identities": ["ci"]}],
      "permission_model": "rbac",
      "role_assignments": [{"identity": "ci", "role": "Key Vault Secrets User", "scope": "secrets/app"}]
    }

Identities from the file are added to the two defaults (``vm``, system-assigned, secrets get/list;
``operator``, user-assigned, every permission); one with a default's name replaces it. Only one
identity may be system-assigned, unless ``vms`` are configured: then each VM may have its own
system-assigned identity (an identity from the list, on no other VM), and one more may be left to
the callers that are not VMs. A VM's user-assigned identities are names of user-assigned identities
from the list, shared by any number of VMs. See :mod:`localvault.vms`.

``permission_model`` is ``access_policies`` (the default: the identities' ``permissions`` apply) or
``rbac`` (the ``role_assignments`` apply instead); see :mod:`localvault.rbac`.
"""

import dataclasses
import json
import threading
import uuid

from localvault import rbac
from localvault.identity import Identity
from localvault.vms import VirtualMachine, normalized_address

SECRET_PERMISSIONS = ("get", "list", "set", "delete", "recover", "backup", "restore", "purge")
CERTIFICATE_PERMISSIONS = ("get", "list", "delete", "create", "import", "update", "managecontacts", "getissuers", "listissuers",
                           "setissuers", "deleteissuers", "manageissuers", "recover", "purge", "backup", "restore")
PERMISSION_NAMES = {"secrets": SECRET_PERMISSIONS, "certificates": CERTIFICATE_PERMISSIONS}

SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000000"
RESOURCE_GROUP = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/localvault/providers"
_ID_NAMESPACE = uuid.UUID("6f1c8e52-4d0a-4c47-9a0e-4c6b8a5e2f10")


class ConfigError(ValueError):
    """The configuration file is unreadable or holds a value the vault cannot use."""


@dataclasses.dataclass(frozen=True)
class RuntimeSettings:
    """Behaviour an operator may change while the vault runs (``/_emulator/settings``)."""

    deletion_delay_seconds: float = 2.0
    recovery_delay_seconds: float = 2.0
    certificate_creation_delay_seconds: float = 2.0
    token_lifetime_seconds: int = 3600
    soft_delete_retention_days: int = 90
    purge_protection: bool = False

    def recovery_level(self):
        # The service reports "Customized" levels when retention is shorter than the 90-day default.
        level = "Recoverable" if self.soft_delete_retention_days >= 90 else "CustomizedRecoverable"
        return level if self.purge_protection else level + "+Purgeable"


@dataclasses.dataclass(frozen=True)
class Config:
    vault_name: str
    tenant_id: str
    identities: tuple
    settings: RuntimeSettings
    server_cert_sans: tuple
    vms: tuple = ()
    authorization: rbac.Authorization = rbac.Authorization()


class SettingsHolder:
    """Thread-safe current :class:`RuntimeSettings`, starting from (and resettable to) the configured ones."""

    def __init__(self, initial):
        self._initial = initial
        self._current = initial
        self._lock = threading.Lock()

    def current(self):
        with self._lock:
            return self._current

    def update(self, changes):
        with self._lock:
            self._current = _validated_settings(dataclasses.replace(self._current, **_settings_fields(changes)))
            return self._current

    def reset(self):
        with self._lock:
            self._current = self._initial
            return self._current


def derived_uuid(*parts):
    """A stable id so default identities keep their ids across restarts and machines."""
    return str(uuid.uuid5(_ID_NAMESPACE, "/".join(parts)))


def default_identities():
    return (
        Identity(name="vm", client_id=derived_uuid("vm", "client"), object_id=derived_uuid("vm", "object"),
                 resource_id=f"{RESOURCE_GROUP}/Microsoft.Compute/virtualMachines/vm", system_assigned=True,
                 permissions={"secrets": ("get", "list"), "certificates": ()}),
        Identity(name="operator", client_id=derived_uuid("operator", "client"), object_id=derived_uuid("operator", "object"),
                 resource_id=f"{RESOURCE_GROUP}/Microsoft.ManagedIdentity/userAssignedIdentities/operator", system_assigned=False,
                 permissions={"secrets": SECRET_PERMISSIONS, "certificates": CERTIFICATE_PERMISSIONS}),
    )


def load(path=None):
    """Read the configuration file at ``path`` (None: defaults only) and return a :class:`Config`."""
    raw = {}
    if path:
        try:
            with open(path, encoding="utf-8") as handle:
                raw = json.load(handle)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read the configuration file {path}: {exc}") from None
        if not isinstance(raw, dict):
            raise ConfigError(f"the configuration file {path} must hold a JSON object")
    return from_dict(raw)


def from_dict(raw):
    raw = dict(raw)
    vault_name = _pop_str(raw, "vault_name", "localvault")
    tenant_id = _pop_str(raw, "tenant_id", derived_uuid("tenant"))
    identities = _merge_identities(raw.pop("identities", []))
    vms = _vms(raw.pop("vms", []), identities)
    _check_system_assigned(identities, vms)
    try:
        authorization = rbac.parse(raw.pop("permission_model", rbac.ACCESS_POLICIES), raw.pop("role_assignments", []), identities)
    except rbac.AuthorizationError as exc:
        raise ConfigError(str(exc)) from None
    sans = raw.pop("server_cert_sans", [])
    if not isinstance(sans, list) or not all(isinstance(san, str) and san for san in sans):
        raise ConfigError("server_cert_sans must be a list of host names or IP addresses")
    settings_keys = {field.name for field in dataclasses.fields(RuntimeSettings)}
    settings = _validated_settings(RuntimeSettings(**_settings_fields({key: raw.pop(key) for key in list(raw) if key in settings_keys})))
    if raw:
        raise ConfigError(f"unknown configuration keys: {', '.join(sorted(raw))}")
    return Config(vault_name=vault_name, tenant_id=tenant_id, identities=identities, settings=settings, server_cert_sans=tuple(sans),
                  vms=vms, authorization=authorization)


def _pop_str(raw, key, default):
    value = raw.pop(key, default)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{key} must be a non-empty string")
    return value


def _settings_fields(changes):
    known = {field.name: field.type for field in dataclasses.fields(RuntimeSettings)}
    unknown = sorted(set(changes) - set(known))
    if unknown:
        raise ConfigError(f"unknown settings: {', '.join(unknown)}")
    converted = {}
    for key, value in changes.items():
        expected = known[key]
        if expected is bool:
            if not isinstance(value, bool):
                raise ConfigError(f"{key} must be true or false")
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key} must be a number")
        elif expected is int and value != int(value):
            raise ConfigError(f"{key} must be a whole number")
        converted[key] = int(value) if expected is int else value
    return converted


def _validated_settings(settings):
    if not 7 <= settings.soft_delete_retention_days <= 90:
        raise ConfigError("soft_delete_retention_days must be between 7 and 90, as in the service")
    if settings.token_lifetime_seconds < 1:
        raise ConfigError("token_lifetime_seconds must be at least 1")
    for name in ("deletion_delay_seconds", "recovery_delay_seconds", "certificate_creation_delay_seconds"):
        if getattr(settings, name) < 0:
            raise ConfigError(f"{name} must not be negative")
    return settings


def _merge_identities(entries):
    if not isinstance(entries, list):
        raise ConfigError("identities must be a list")
    merged = {identity.name: identity for identity in default_identities()}
    for entry in entries:
        identity = _identity_from_dict(entry)
        merged[identity.name] = identity
    for attribute in ("client_id", "object_id", "resource_id"):
        values = [getattr(identity, attribute) for identity in merged.values()]
        if len(set(value.lower() for value in values)) != len(values):
            raise ConfigError(f"two identities share the same {attribute}")
    return tuple(merged.values())


def _identity_from_dict(entry):
    if not isinstance(entry, dict):
        raise ConfigError("every identity must be a JSON object")
    entry = dict(entry)
    name = _pop_str(entry, "name", "")
    system_assigned = entry.pop("system_assigned", False)
    if not isinstance(system_assigned, bool):
        raise ConfigError(f"identity {name}: system_assigned must be true or false")
    kind = "Microsoft.Compute/virtualMachines" if system_assigned else "Microsoft.ManagedIdentity/userAssignedIdentities"
    client_id = _pop_str(entry, "client_id", derived_uuid(name, "client"))
    object_id = _pop_str(entry, "object_id", derived_uuid(name, "object"))
    resource_id = _pop_str(entry, "resource_id", f"{RESOURCE_GROUP}/{kind}/{name}")
    permissions = _permissions(name, entry.pop("permissions", {}))
    if entry:
        raise ConfigError(f"identity {name}: unknown keys {', '.join(sorted(entry))}")
    return Identity(name=name, client_id=client_id, object_id=object_id, resource_id=resource_id,
                    system_assigned=system_assigned, permissions=permissions)


def _permissions(name, raw):
    if not isinstance(raw, dict) or set(raw) - set(PERMISSION_NAMES):
        raise ConfigError(f"identity {name}: permissions must be an object with the keys secrets and certificates")
    permissions = {}
    for collection, allowed in PERMISSION_NAMES.items():
        requested = raw.get(collection, [])
        if not isinstance(requested, list) or not all(isinstance(item, str) for item in requested):
            raise ConfigError(f"identity {name}: permissions.{collection} must be a list of names")
        lowered = [item.lower() for item in requested]
        if "all" in lowered:
            lowered = list(allowed)
        unknown = sorted(set(lowered) - set(allowed))
        if unknown:
            raise ConfigError(f"identity {name}: unknown {collection} permissions {', '.join(unknown)}; known: {', '.join(allowed)}")
        permissions[collection] = tuple(item for item in allowed if item in lowered)
    return permissions


def _vms(entries, identities):
    if not isinstance(entries, list):
        raise ConfigError("vms must be a list")
    by_name = {identity.name: identity for identity in identities}
    vms = [_vm_from_dict(entry, by_name) for entry in entries]
    names, address_owners, identity_owners = set(), {}, {}
    for vm in vms:
        if vm.name in names:
            raise ConfigError(f"two VMs are named {vm.name}")
        names.add(vm.name)
        for address in vm.addresses:
            if address in address_owners:
                raise ConfigError(f"VMs {address_owners[address]} and {vm.name} share the address {address}")
            address_owners[address] = vm.name
        if vm.system_assigned is not None:
            if vm.system_assigned.name in identity_owners:
                raise ConfigError(f"the system-assigned identity {vm.system_assigned.name} belongs to VM {identity_owners[vm.system_assigned.name]} "
                                  f"and cannot also be VM {vm.name}'s")
            identity_owners[vm.system_assigned.name] = vm.name
    return tuple(vms)


def _vm_from_dict(entry, identities_by_name):
    if not isinstance(entry, dict):
        raise ConfigError("every VM must be a JSON object")
    entry = dict(entry)
    name = _pop_str(entry, "name", "")
    addresses = entry.pop("addresses", None)
    if not isinstance(addresses, list) or not addresses or not all(isinstance(address, str) for address in addresses):
        raise ConfigError(f"VM {name}: addresses must be a non-empty list of IP addresses")
    try:
        addresses = tuple(dict.fromkeys(normalized_address(address) for address in addresses))
    except ValueError as exc:
        raise ConfigError(f"VM {name}: {exc}") from None
    system_name = entry.pop("system_assigned_identity", None)
    user_names = entry.pop("user_assigned_identities", [])
    if entry:
        raise ConfigError(f"VM {name}: unknown keys {', '.join(sorted(entry))}")
    if system_name is not None and not isinstance(system_name, str):
        raise ConfigError(f"VM {name}: system_assigned_identity must be the name of an identity, or null")
    if not isinstance(user_names, list) or not all(isinstance(item, str) for item in user_names):
        raise ConfigError(f"VM {name}: user_assigned_identities must be a list of identity names")
    system_assigned = None
    if system_name is not None:
        system_assigned = _vm_identity(name, system_name, identities_by_name, expect_system_assigned=True)
    user_assigned = tuple(_vm_identity(name, item, identities_by_name, expect_system_assigned=False) for item in dict.fromkeys(user_names))
    return VirtualMachine(name=name, addresses=addresses, system_assigned=system_assigned, user_assigned=user_assigned)


def _vm_identity(vm_name, identity_name, identities_by_name, expect_system_assigned):
    identity = identities_by_name.get(identity_name)
    if identity is None:
        raise ConfigError(f"VM {vm_name}: there is no identity named {identity_name}")
    if identity.system_assigned != expect_system_assigned:
        kind = "system-assigned" if identity.system_assigned else "user-assigned"
        role = "system_assigned_identity" if expect_system_assigned else "user_assigned_identities"
        raise ConfigError(f"VM {vm_name}: {identity_name} is a {kind} identity and cannot be in {role}")
    return identity


def _check_system_assigned(identities, vms):
    placed = {vm.system_assigned.name for vm in vms if vm.system_assigned}
    unplaced = [identity.name for identity in identities if identity.system_assigned and identity.name not in placed]
    if len(unplaced) <= 1:
        return
    if vms:
        # The one left over answers callers that are not VMs; more would leave them no way to choose.
        raise ConfigError(f"only one system-assigned identity may be left without a VM, found: {', '.join(unplaced)}")
    raise ConfigError(f"only one identity may be system-assigned, found: {', '.join(unplaced)}")
