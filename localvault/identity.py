"""Managed identities: who they are, what the access policy lets them do, and the tokens they carry.

Tokens are JWT-shaped (HS256) and signed with a key derived from the state folder's key, so a token
issued before a restart is still accepted after it, like an Entra ID token is by a restarted vault.
The IMDS endpoint (``GET /metadata/identity/oauth2/token``) is answered by :func:`imds_token`.
"""

import base64
import dataclasses
import hashlib
import hmac
import json
import time
import uuid

from localvault.errors import KeyVaultError

VAULT_AUDIENCE = "https://vault.azure.net"
IMDS_TOKEN_PATH = "/metadata/identity/oauth2/token"
MISSING_TOKEN_MESSAGE = "AKV10000: Request is missing a Bearer or PoP token."
IDENTITY_NOT_FOUND = "Identity not found"
MULTIPLE_USER_ASSIGNED = "Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request"


@dataclasses.dataclass(frozen=True)
class Identity:
    """A managed identity and its access-policy permissions, e.g. ``{"secrets": ("get", "list")}``."""

    name: str
    client_id: str
    object_id: str
    resource_id: str
    system_assigned: bool
    permissions: dict

    def allows(self, collection, names):
        granted = self.permissions.get(collection, ())
        return any(name in granted for name in names)

    def describe(self):
        return {
            "name": self.name,
            "client_id": self.client_id,
            "object_id": self.object_id,
            "resource_id": self.resource_id,
            "system_assigned": self.system_assigned,
            "permissions": {collection: list(names) for collection, names in self.permissions.items()},
        }


class IdentityDirectory:
    """Every identity the vault has an access policy for, to tell who presents a token."""

    def __init__(self, identities):
        self._identities = tuple(identities)

    def __iter__(self):
        return iter(self._identities)

    def by_object_id(self, object_id):
        for identity in self._identities:
            if identity.object_id == object_id:
                return identity
        return None


class IdentityNotAssigned(LookupError):
    """A token request names no identity its caller has; the message is the endpoint's ``error_description``."""


@dataclasses.dataclass(frozen=True)
class AssignedIdentities:
    """The identities one caller of the IMDS endpoint may get tokens for, and how a request picks one of them."""

    system_assigned: Identity = None
    user_assigned: tuple = ()

    def select(self, client_id=None, object_id=None, msi_res_id=None):
        """The identity a token request asks for by one selector; no selector means the system-assigned one."""
        candidates = ((self.system_assigned,) if self.system_assigned else ()) + tuple(self.user_assigned)
        for attribute, wanted in (("client_id", client_id), ("object_id", object_id), ("resource_id", msi_res_id)):
            if wanted is not None:
                for identity in candidates:
                    if getattr(identity, attribute).lower() == wanted.lower():
                        return identity
                raise IdentityNotAssigned(IDENTITY_NOT_FOUND)
        if self.system_assigned is not None:
            return self.system_assigned
        # Without a system-assigned identity IMDS answers with the only user-assigned one, and cannot choose among several.
        if len(self.user_assigned) == 1:
            return self.user_assigned[0]
        raise IdentityNotAssigned(MULTIPLE_USER_ASSIGNED if self.user_assigned else IDENTITY_NOT_FOUND)


def _b64url(data):
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenService:
    """Issues the tokens IMDS hands out and verifies the ones the vault receives."""

    def __init__(self, key, tenant_id, settings, directory, clock=time.time):
        self._key = key
        self.tenant_id = tenant_id
        self._settings = settings
        self._directory = directory
        self._clock = clock

    @property
    def issuer(self):
        return f"https://sts.windows.net/{self.tenant_id}/"

    def challenge(self):
        return f'Bearer authorization="https://login.windows.net/{self.tenant_id}", resource="{VAULT_AUDIENCE}"'

    def issue(self, identity, resource):
        now = int(self._clock())
        lifetime = self._settings.current().token_lifetime_seconds
        claims = {
            "aud": resource, "iss": self.issuer, "iat": now, "nbf": now, "exp": now + lifetime,
            "appid": identity.client_id, "oid": identity.object_id, "sub": identity.object_id,
            "tid": self.tenant_id, "xms_mirid": identity.resource_id, "idtyp": "app", "uti": uuid.uuid4().hex,
        }
        header = {"typ": "JWT", "alg": "HS256", "kid": "localvault"}
        signing_input = _b64url(json.dumps(header, separators=(",", ":")).encode()) + "." + _b64url(json.dumps(claims, separators=(",", ":")).encode())
        signature = hmac.new(self._key, signing_input.encode("ascii"), hashlib.sha256).digest()
        return signing_input + "." + _b64url(signature), claims

    def authenticate(self, authorization):
        """Return the caller of a request with this ``Authorization`` header, or raise the 401 the service answers."""
        scheme, _separator, token = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise self._unauthorized(MISSING_TOKEN_MESSAGE)
        claims = self._verified_claims(token.strip())
        identity = self._directory.by_object_id(claims.get("oid"))
        if identity is None:
            # A valid token of an identity the vault has no access policy for: it authenticates, then gets 403s.
            identity = Identity(name=str(claims.get("oid")), client_id=str(claims.get("appid")), object_id=str(claims.get("oid")),
                                resource_id=str(claims.get("xms_mirid")), system_assigned=False, permissions={})
        return identity

    def _verified_claims(self, token):
        parts = token.split(".")
        if len(parts) != 3:
            raise self._unauthorized("Invalid bearer token: it is not a JSON Web Token.")
        expected = hmac.new(self._key, f"{parts[0]}.{parts[1]}".encode("ascii"), hashlib.sha256).digest()
        try:
            signature_ok = hmac.compare_digest(expected, _unb64url(parts[2]))
            claims = json.loads(_unb64url(parts[1])) if signature_ok else None
        except ValueError:
            signature_ok, claims = False, None
        if not signature_ok or not isinstance(claims, dict):
            raise self._unauthorized("Invalid bearer token: the signature cannot be validated.")
        if claims.get("aud") != VAULT_AUDIENCE:
            raise self._unauthorized(f"AKV10022: Invalid audience. Expected {VAULT_AUDIENCE}, found: {claims.get('aud')}.")
        now = self._clock()
        if not isinstance(claims.get("exp"), int) or now >= claims["exp"]:
            raise self._unauthorized("Invalid bearer token: the token has expired.")
        if isinstance(claims.get("nbf"), int) and now < claims["nbf"]:
            raise self._unauthorized("Invalid bearer token: the token is not yet valid.")
        return claims

    def _unauthorized(self, message):
        return KeyVaultError(401, "Unauthorized", message, headers={"WWW-Authenticate": self.challenge()})


def imds_token(method, path, query, headers, assigned, tokens):
    """Answer one request to the IMDS endpoint from a caller with the :class:`AssignedIdentities` ``assigned``.

    Returns ``(status, body, identity_or_None)``.
    """
    if path != IMDS_TOKEN_PATH:
        return 404, {"error": "not_found", "error_description": f"The path {path} is not served by this endpoint"}, None
    if method != "GET":
        return 405, {"error": "invalid_request", "error_description": f"The method {method} is not allowed"}, None
    if (headers.get("Metadata") or "").lower() != "true":
        return 400, {"error": "invalid_request", "error_description": "Required metadata header not specified"}, None
    if not query.get("api-version"):
        return 400, {"error": "invalid_request", "error_description": "Required query variable 'api-version' is missing"}, None
    resource = query.get("resource")
    if not resource:
        return 400, {"error": "invalid_request", "error_description": "Required query variable 'resource' is missing"}, None
    selectors = {key: query[key] for key in ("client_id", "object_id", "msi_res_id") if key in query}
    if len(selectors) > 1:
        return 400, {"error": "invalid_request", "error_description": "Only one of client_id, object_id and msi_res_id may be given"}, None
    try:
        identity = assigned.select(**selectors)
    except IdentityNotAssigned as exc:
        return 400, {"error": "invalid_request", "error_description": str(exc)}, None
    token, claims = tokens.issue(identity, resource)
    lifetime = claims["exp"] - claims["iat"]
    # The real endpoint sends every number as a string; azure-identity copes with both, so mirror it.
    body = {
        "access_token": token, "client_id": identity.client_id, "expires_in": str(lifetime), "expires_on": str(claims["exp"]),
        "ext_expires_in": str(lifetime), "not_before": str(claims["nbf"]), "resource": resource, "token_type": "Bearer",
    }
    return 200, body, identity
