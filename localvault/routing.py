"""HTTP-independent request model and the router of the vault's REST API.

API modules (``secrets_api``, ``certificates_api``) expose ``register(router)`` and add their
routes with :meth:`Router.add`. The server builds a :class:`Request`, asks the router for the
matching :class:`Route`, authenticates and authorises the caller, and calls the route's handler.
"""

import base64
import json
import re
from dataclasses import dataclass, field

from localvault.errors import KeyVaultError, bad_parameter

SUPPORTED_API_VERSIONS = ("2026-04-01", "2025-07-01", "7.6", "7.5", "7.4", "7.3", "7.2", "7.1", "7.0", "2016-10-01")
LATEST_API_VERSION = SUPPORTED_API_VERSIONS[0]

NAME_PATTERN = re.compile(r"^[0-9a-zA-Z-]{1,127}$")
MAX_RESULTS_LIMIT = 25

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


@dataclass
class Route:
    """One REST operation: ``permission`` is ``(collection, name)`` or ``(collection, (any, of))``, or None."""

    method: str
    pattern: str
    operation: str
    permission: tuple
    handler: object
    regex: re.Pattern = field(init=False, repr=False)
    literal_segments: int = field(init=False)

    def __post_init__(self):
        parts = []
        position = 0
        for match in _PLACEHOLDER.finditer(self.pattern):
            parts.append(re.escape(self.pattern[position:match.start()]))
            # Parameters may be empty so that ``/secrets/{name}/`` reaches the "latest version" handler.
            parts.append(f"(?P<{match.group(1)}>[^/]*)")
            position = match.end()
        parts.append(re.escape(self.pattern[position:]))
        self.regex = re.compile("^" + "".join(parts) + "$")
        self.literal_segments = sum(1 for segment in self.pattern.split("/") if segment and "{" not in segment)

    def match(self, path):
        found = self.regex.match(path)
        return None if found is None else found.groupdict()

    def permission_names(self):
        """The access-policy permissions of which any one allows the operation."""
        names = self.permission[1]
        return (names,) if isinstance(names, str) else tuple(names)


class Router:
    """Maps (method, path) to a :class:`Route`; the route with most literal segments wins."""

    def __init__(self):
        self._routes = []

    def add(self, method, pattern, operation, permission, handler):
        route = Route(method.upper(), pattern, operation, permission, handler)
        self._routes.append(route)
        return route

    def operations(self):
        return sorted({route.operation for route in self._routes})

    def resolve(self, method, path):
        """Return ``(route, params)``; raise :class:`KeyVaultError` for an unknown path or method."""
        candidates = []
        for route in self._routes:
            params = route.match(path)
            if params is not None:
                candidates.append((route, params))
        if not candidates:
            raise KeyVaultError(404, "NotFound", f"The requested path {path} is not served by this vault.")
        allowed = [candidate for candidate in candidates if candidate[0].method == method]
        if not allowed:
            methods = sorted({candidate[0].method for candidate in candidates})
            raise KeyVaultError(405, "MethodNotAllowed", f"The method {method} is not allowed here; use {', '.join(methods)}.",
                                headers={"Allow": ", ".join(methods)})
        allowed.sort(key=lambda candidate: candidate[0].literal_segments, reverse=True)
        return allowed[0]


class Request:
    """What a handler sees of an HTTP request.

    ``vault`` is the server's shared state (store, settings, config, identities), ``caller`` the
    authenticated :class:`localvault.identity.Identity` and ``base_url`` the vault URL the client
    used, without a trailing slash (object ids and nextLinks are built from it).
    """

    def __init__(self, method, path, query, headers, body, base_url, vault):
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.base_url = base_url
        self.vault = vault
        self.params = {}
        self.route = None
        self.caller = None
        self._json = None

    @property
    def operation(self):
        return self.route.operation if self.route else "Unknown"

    @property
    def api_version(self):
        return self.query.get("api-version")

    def json(self):
        """The body as a JSON object; a missing, malformed or non-object body is a 400 BadParameter."""
        if self._json is None:
            if not self.body:
                raise bad_parameter("The request body is missing; this operation needs a JSON object.")
            try:
                parsed = json.loads(self.body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as exc:
                raise bad_parameter(f"The request body is not valid JSON: {exc.__class__.__name__}.") from None
            if not isinstance(parsed, dict):
                raise bad_parameter("The request body must be a JSON object.")
            self._json = parsed
        return self._json

    def max_results(self):
        raw = self.query.get("maxresults")
        if raw is None:
            return MAX_RESULTS_LIMIT
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if not 1 <= value <= MAX_RESULTS_LIMIT:
            raise bad_parameter(f"Invalid maxresults {raw}: the value must be between 1 and {MAX_RESULTS_LIMIT}.")
        return value


def check_api_version(request):
    version = request.api_version
    if not version:
        raise bad_parameter("The api-version query parameter is missing.")
    if version not in SUPPORTED_API_VERSIONS:
        raise bad_parameter(f"The specified version ({version}) is not recognized. Consider using the latest supported version ({LATEST_API_VERSION}).")


def check_name(name):
    if not NAME_PATTERN.match(name or ""):
        raise bad_parameter(f"The request URI contains an invalid name: {name}")


def page(request, collection_path, items, position_of):
    """Cut ``items`` (already in order) into the page the request asks for.

    ``position_of(item)`` gives the sortable position recorded in the ``$skiptoken`` so a page
    continues after the last item the client saw even if objects were added or removed meanwhile;
    positions are strings or integers. Returns ``(items_of_this_page, next_link_or_None)``.
    """
    limit = request.max_results()
    after = _decode_skiptoken(request.query.get("$skiptoken"))
    if after is not None:
        items = [item for item in items if position_of(item) > after]
    chosen = items[:limit]
    next_link = None
    if len(items) > limit:
        token = base64.urlsafe_b64encode(json.dumps(position_of(chosen[-1])).encode()).decode().rstrip("=")
        next_link = f"{request.base_url}{collection_path}?api-version={request.api_version}&$skiptoken={token}&maxresults={limit}"
    return chosen, next_link


def _decode_skiptoken(token):
    if not token:
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except ValueError:
        raise bad_parameter(f"The $skiptoken {token} is not valid.") from None


def error_response(error):
    return error.status, error.body(), error.headers
