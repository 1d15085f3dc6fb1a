"""Operator controls under ``/_emulator/`` (a path the service never uses; no authentication).

* ``GET /_emulator/counters`` - requests per operation, per identity and status, and IMDS token requests;
* ``GET /_emulator/requests`` - the counted requests one by one, in the order they were answered (the last 10000):
  when each arrived (epoch seconds), its operation (``ImdsToken`` for the identity endpoint), status and caller, so
  a benchmark can line them up with what the client did;
* ``GET|POST|DELETE /_emulator/faults`` - list, add or clear injected faults. A fault is
  ``{"operation": "GetSecret" | "*" | "ImdsToken", "status": 429, "retry_after": 1, "latency": 0.5,
  "drop": false, "after": false, "every": 3, "count": 2}`` (``every``: only each Nth matching request,
  default 1; ``count``: how many requests it hits, null = until cleared). It applies to authenticated
  requests of that operation (IMDS token requests for ``ImdsToken``): wait ``latency`` seconds, then drop
  the connection, answer ``status`` (with ``Retry-After`` when given), or carry on normally. With
  ``after`` (vault operations only, no ``status``) the vault first carries the request out, then waits
  ``latency`` seconds and, with ``drop``, closes the connection: a response lost or late after a write happened;
* ``POST /_emulator/reset`` - zero the counters, empty the request log and clear the faults;
* ``GET|POST|DELETE /_emulator/settings`` - read, change, or restore the configured run-time settings
  (deletion/recovery/certificate-creation delays, token lifetime, retention, purge protection);
* ``GET|POST|DELETE /_emulator/authorization`` - read, change, or restore the configured permission model and
  role assignments: ``{"permission_model": "rbac", "role_assignments": [{"identity": "vm", "role":
  "Key Vault Secrets User", "scope": "secrets/app"}]}``, each key optional; given role assignments replace the
  current ones (see :mod:`localvault.rbac`).
"""

import collections
import dataclasses
import json
import threading
import time

from localvault.config import ConfigError
from localvault.rbac import AuthorizationError

CONTROLS_PREFIX = "/_emulator"
IMDS_OPERATION = "ImdsToken"
ANY_OPERATION = "*"
REQUEST_LOG_SIZE = 10000

_FAULT_ERRORS = {
    429: ("Throttled", "Request was not processed because too many requests were received. Please retry after the time in Retry-After."),
    500: ("InternalServerError", "The server encountered an internal error. Please retry the request."),
    503: ("ServiceUnavailable", "The service is unavailable. Please retry the request."),
}


class ControlError(ValueError):
    """A request to the operator controls that cannot be carried out."""


@dataclasses.dataclass
class Fault:
    operation: str
    status: int = None
    retry_after: float = None
    latency: float = 0.0
    drop: bool = False
    after: bool = False
    every: int = 1
    count: int = None
    matched: int = 0

    def error_body(self, imds):
        code, message = _FAULT_ERRORS.get(self.status, ("InjectedFault", f"The operator controls answered {self.status}."))
        if imds:
            return {"error": code, "error_description": message}
        return {"error": {"code": code, "message": message}}

    def headers(self):
        if self.retry_after is None:
            return {}
        retry_after = self.retry_after
        return {"Retry-After": str(int(retry_after)) if float(retry_after).is_integer() else str(retry_after)}


class Counters:
    def __init__(self):
        self._lock = threading.Lock()
        self._reset()

    def _reset(self):
        self._total = 0
        self._operations = collections.Counter()
        self._identities = collections.defaultdict(collections.Counter)
        self._statuses = collections.defaultdict(collections.Counter)
        self._faults = collections.Counter()
        self._imds = collections.Counter()
        self._imds_statuses = collections.Counter()
        self._requests = collections.deque(maxlen=REQUEST_LOG_SIZE)

    def reset(self):
        with self._lock:
            self._reset()

    def record(self, operation, identity_name, status, received=None):
        """Count one vault request; ``received`` is when it arrived (epoch seconds, default now)."""
        identity_name = identity_name or "anonymous"
        with self._lock:
            self._total += 1
            self._operations[operation] += 1
            self._identities[identity_name][operation] += 1
            self._statuses[operation][str(status)] += 1
            self._log(received, operation, status, identity_name)

    def record_fault(self, operation):
        with self._lock:
            self._faults[operation] += 1

    def record_imds(self, identity_name, status, received=None):
        identity_name = identity_name or "unknown"
        with self._lock:
            self._imds[identity_name] += 1
            self._imds_statuses[str(status)] += 1
            self._log(received, IMDS_OPERATION, status, identity_name)

    def _log(self, received, operation, status, identity_name):
        self._requests.append({"time": time.time() if received is None else received, "operation": operation, "status": status,
                               "identity": identity_name})

    def requests(self):
        with self._lock:
            return [dict(entry) for entry in self._requests]

    def snapshot(self):
        with self._lock:
            return {
                "total": self._total,
                "operations": dict(self._operations),
                "identities": {name: dict(counts) for name, counts in self._identities.items()},
                "statuses": {operation: dict(counts) for operation, counts in self._statuses.items()},
                "faults": dict(self._faults),
                "imds": {"total": sum(self._imds.values()), "identities": dict(self._imds), "statuses": dict(self._imds_statuses)},
            }


class Faults:
    def __init__(self, known_operations):
        self._known = set(known_operations) | {ANY_OPERATION, IMDS_OPERATION}
        self._lock = threading.Lock()
        self._faults = []

    def add(self, spec):
        fault = self._parse(spec)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self):
        with self._lock:
            self._faults.clear()

    def describe(self):
        with self._lock:
            return [dataclasses.asdict(fault) for fault in self._faults]

    def take(self, operation):
        """The first fault that applies to one request of ``operation``, using up one of its count."""
        with self._lock:
            for fault in self._faults:
                if fault.operation == operation or (fault.operation == ANY_OPERATION and operation != IMDS_OPERATION):
                    fault.matched += 1
                    if fault.matched % fault.every:
                        continue
                    if fault.count is not None:
                        fault.count -= 1
                        if fault.count == 0:
                            self._faults.remove(fault)
                    return dataclasses.replace(fault)
        return None

    def _parse(self, spec):
        if not isinstance(spec, dict):
            raise ControlError("a fault must be a JSON object")
        unknown = set(spec) - ({field.name for field in dataclasses.fields(Fault)} - {"matched"})
        if unknown:
            raise ControlError(f"unknown fault keys: {', '.join(sorted(unknown))}")
        operation = spec.get("operation")
        if operation not in self._known:
            raise ControlError(f"unknown operation {operation!r}; known: {', '.join(sorted(self._known))}")
        fault = Fault(operation=operation, status=spec.get("status"), retry_after=spec.get("retry_after"),
                      latency=spec.get("latency", 0.0), drop=spec.get("drop", False), after=spec.get("after", False),
                      every=spec.get("every", 1), count=spec.get("count"))
        if fault.status is not None and (not isinstance(fault.status, int) or isinstance(fault.status, bool) or not 400 <= fault.status <= 599):
            raise ControlError("status must be an HTTP error status (400-599)")
        for name in ("retry_after", "latency"):
            value = getattr(fault, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0):
                raise ControlError(f"{name} must be a non-negative number of seconds")
        for name in ("drop", "after"):
            if not isinstance(getattr(fault, name), bool):
                raise ControlError(f"{name} must be true or false")
        if fault.count is not None and (not isinstance(fault.count, int) or isinstance(fault.count, bool) or fault.count < 1):
            raise ControlError("count must be a positive whole number or null")
        if not isinstance(fault.every, int) or isinstance(fault.every, bool) or fault.every < 1:
            raise ControlError("every must be a positive whole number")
        if fault.status is None and not fault.drop and not fault.latency:
            raise ControlError("a fault needs a status, drop or latency")
        if fault.status is not None and fault.drop:
            raise ControlError("a fault either drops the connection or answers a status, not both")
        if fault.after and (fault.status is not None or fault.operation == IMDS_OPERATION):
            raise ControlError("a fault after the request only delays or drops the vault's response; it has no status")
        return fault


class Controls:
    """Counters, faults and run-time settings, and the HTTP face of them."""

    def __init__(self, settings, known_operations, authorization=None):
        self.settings = settings
        self.authorization = authorization
        self.counters = Counters()
        self.faults = Faults(known_operations)

    def handle(self, method, path, body):
        """Answer a request under ``/_emulator``: ``(status, body)``."""
        resource = path[len(CONTROLS_PREFIX):].strip("/")
        try:
            payload = json.loads(body.decode("utf-8")) if body else {}
        except (UnicodeDecodeError, ValueError):
            return 400, {"error": "the request body is not valid JSON"}
        try:
            return self._dispatch(method, resource, payload)
        except (ControlError, ConfigError, AuthorizationError, TypeError) as exc:
            return 400, {"error": str(exc)}

    def _dispatch(self, method, resource, payload):
        if resource == "counters" and method == "GET":
            return 200, self.counters.snapshot()
        if resource == "requests" and method == "GET":
            return 200, {"requests": self.counters.requests()}
        if resource == "reset" and method == "POST":
            self.counters.reset()
            self.faults.clear()
            return 200, {"counters": self.counters.snapshot(), "faults": []}
        if resource == "faults":
            if method == "GET":
                return 200, {"faults": self.faults.describe()}
            if method == "POST":
                return 201, {"fault": dataclasses.asdict(self.faults.add(payload))}
            if method == "DELETE":
                self.faults.clear()
                return 200, {"faults": []}
        if resource == "settings":
            if method == "GET":
                return 200, dataclasses.asdict(self.settings.current())
            if method == "POST":
                if not isinstance(payload, dict):
                    raise ControlError("settings must be a JSON object")
                return 200, dataclasses.asdict(self.settings.update(payload))
            if method == "DELETE":
                return 200, dataclasses.asdict(self.settings.reset())
        if resource == "authorization" and self.authorization is not None:
            if method == "GET":
                return 200, self.authorization.current().describe()
            if method == "POST":
                return 200, self.authorization.update(payload).describe()
            if method == "DELETE":
                return 200, self.authorization.reset().describe()
        return 404, {"error": f"no control {method} {CONTROLS_PREFIX}/{resource}",
                     "controls": ["GET counters", "GET requests", "POST reset", "GET|POST|DELETE faults", "GET|POST|DELETE settings",
                                  "GET|POST|DELETE authorization"]}
