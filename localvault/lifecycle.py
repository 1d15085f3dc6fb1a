"""Soft-delete lifecycle and backups, shared by secrets and certificates.

An object is ACTIVE, DELETING (deleted, but for a configured delay not yet visible as deleted),
DELETED (recoverable until purged), or RECOVERING (recovered, not yet visible again). ``label``
arguments are the service's lower-case object word, ``"secret"`` or ``"certificate"``, which
also gives the error codes (``SecretNotFound``) and texts the service uses.
"""

import base64
import json
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from localvault.errors import KeyVaultError, bad_parameter
from localvault.store import ACTIVE, DELETED, DELETING

_BACKUP_FORMAT = "localvault-backup-1"
_NONCE_BYTES = 12


def not_found(label, name_or_id):
    return KeyVaultError(
        404, f"{label.capitalize()}NotFound",
        f"A {label} with (name/id) {name_or_id} was not found in this key vault. If you recently deleted this {label} you may be able to "
        "recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182")


def deleted_not_found(label, name):
    return KeyVaultError(404, f"{label.capitalize()}NotFound", f"Deleted {label.capitalize()} not found: {name}")


def _conflict(obj, label, now):
    state = obj.state(now)
    title = label.capitalize()
    if state == DELETING:
        return KeyVaultError(409, "Conflict", f"{title} is currently being deleted.", inner_code="ObjectIsBeingDeleted")
    if state == DELETED:
        return KeyVaultError(409, "Conflict",
                             f"{title} {obj.name} is currently in a deleted but recoverable state, and its name cannot be reused; "
                             f"in this state, the {label} can only be recovered or purged.",
                             inner_code="ObjectIsDeletedButRecoverable")
    return KeyVaultError(409, "Conflict", f"{title} {obj.name} is currently being recovered.", inner_code="ObjectIsBeingRecovered")


def check_writable(tx, kind, name, label, now):
    """Return the active object (or None if the name is free); raise the 409 the service answers otherwise."""
    obj = tx.get_object(kind, name)
    if obj is None or obj.state(now) == ACTIVE:
        return obj
    raise _conflict(obj, label, now)


def find_active(tx, kind, name, now):
    obj = tx.get_object(kind, name)
    return obj if obj is not None and obj.state(now) == ACTIVE else None


def require_active(tx, kind, name, label, now):
    obj = find_active(tx, kind, name, now)
    if obj is None:
        raise not_found(label, name)
    return obj


def require_deleted(tx, kind, name, label, now, conflict_while_deleting=False):
    """The DELETED object; while its deletion is still in progress, 404 (reads) or 409 (recover, purge)."""
    obj = tx.get_object(kind, name)
    state = None if obj is None else obj.state(now)
    if state == DELETING and conflict_while_deleting:
        raise _conflict(obj, label, now)
    if state != DELETED:
        raise deleted_not_found(label, name)
    return obj


def is_listed_deleted(obj, now):
    return obj.deleted and obj.state(now) == DELETED


def recovery_attributes(settings):
    """The ``recoverableDays`` / ``recoveryLevel`` attributes every bundle carries."""
    return {"recoverableDays": settings.soft_delete_retention_days, "recoveryLevel": settings.recovery_level()}


def deleted_fields(base_url, collection, name, meta):
    """``recoveryId``, ``deletedDate`` and ``scheduledPurgeDate`` of a deleted bundle; ``collection`` e.g. ``"deletedsecrets"``."""
    return {"recoveryId": f"{base_url}/{collection}/{name}", "deletedDate": meta["deletedDate"], "scheduledPurgeDate": meta["scheduledPurgeDate"]}


def soft_delete(tx, kind, name, vault):
    settings = vault.settings.current()
    return tx.mark_deleted(kind, name, vault.now(), settings.deletion_delay_seconds, settings.soft_delete_retention_days)


def recover(tx, kind, name, vault):
    return tx.mark_recovered(kind, name, vault.now(), vault.settings.current().recovery_delay_seconds)


def check_purge_allowed(settings):
    if settings.purge_protection:
        raise KeyVaultError(403, "Forbidden",
                            'Operation "purge" is not allowed because purge protection is enabled for this vault. '
                            "Key Vault service will automatically purge it after the retention period has passed.")


def seal_backup(key, kind, payload):
    """Encrypt and authenticate a backup so that it is opaque and only this vault's key opens it."""
    nonce = os.urandom(_NONCE_BYTES)
    plaintext = json.dumps({"format": _BACKUP_FORMAT, "kind": kind, "payload": payload}, separators=(",", ":")).encode("utf-8")
    sealed = nonce + AESGCM(key).encrypt(nonce, plaintext, kind.encode("ascii"))
    return base64.urlsafe_b64encode(sealed).decode("ascii").rstrip("=")


def open_backup(key, kind, blob):
    """The payload of a blob made by :func:`seal_backup` for ``kind``; anything else is 400 BadParameter."""
    invalid = bad_parameter("Backup blob contains invalid or corrupt data.")
    if not isinstance(blob, str) or not blob:
        raise invalid
    try:
        sealed = base64.urlsafe_b64decode(blob + "=" * (-len(blob) % 4))
        plaintext = AESGCM(key).decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], kind.encode("ascii"))
        document = json.loads(plaintext)
    except (ValueError, InvalidTag):
        raise invalid from None
    if not isinstance(document, dict) or document.get("format") != _BACKUP_FORMAT or document.get("kind") != kind:
        raise invalid
    return document["payload"]
