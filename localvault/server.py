"""The local vault process: the HTTPS Key Vault server, the IMDS token server, and their lifecycle.

:class:`LocalVault` wires the parts together (store, identities and tokens, operator controls,
API routes), serves them on two ports and, once both listen, writes ``connection.json`` and
``env.sh`` into the state folder. :meth:`VaultApplication.dispatch` is the request pipeline:
route, authenticate (401 challenge), operator faults, api-version, name, permission (403), handler.
The IMDS server answers each caller with the identities of the VM it calls from (:mod:`localvault.vms`).
"""

import json
import logging
import os
import re
import secrets
import shlex
import socket
import ssl
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from localvault import certificates_api, rbac, secrets_api, tls
from localvault.config import RESOURCE_GROUP, SettingsHolder
from localvault.controls import CONTROLS_PREFIX, IMDS_OPERATION, Controls
from localvault.errors import KeyVaultError
from localvault.identity import IdentityDirectory, TokenService, imds_token
from localvault.routing import Request, Router, check_api_version, check_name, error_response
from localvault.store import Store
from localvault.vms import Fleet

LOG = logging.getLogger("localvault")

CONNECTION_FILE = "connection.json"
ENV_FILE = "env.sh"
DATABASE_FILE = "vault.sqlite3"
KEY_FILE = "vault.key"
_KEY_BYTES = 32
MAX_BODY_BYTES = 4 * 1024 * 1024
SERVICE_VERSION = "1.9.0.0"
_HOST_HEADER = re.compile(r"^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")


class VaultState:
    """What request handlers share: ``request.vault`` in every handler."""

    def __init__(self, config, settings, store, directory, tokens, controls, backup_key, fleet, clock=time.time):
        self.config = config
        self.authorization = controls.authorization
        self.backup_key = backup_key
        self.settings = settings
        self.store = store
        self.directory = directory
        self.fleet = fleet
        self.tokens = tokens
        self.controls = controls
        self._clock = clock

    def now(self):
        return self._clock()


class Outcome:
    """A response to write, or ``drop`` to close the connection without one."""

    def __init__(self, status=0, body=None, headers=None, drop=False):
        self.status = status
        self.body = body
        self.headers = dict(headers or {})
        self.drop = drop


def build_router():
    router = Router()
    secrets_api.register(router)
    certificates_api.register(router)
    return router


class VaultApplication:
    """Turns one HTTP request into an :class:`Outcome`; tracks requests in flight so a stop can let them finish."""

    def __init__(self, vault, router, default_base_url):
        self.vault = vault
        self.router = router
        self.default_base_url = default_base_url
        self._in_flight = 0
        self._stopping = False
        self._idle = threading.Condition()

    def drain(self, timeout):
        """Refuse new requests and wait (up to ``timeout`` seconds) for those in flight to finish."""
        with self._idle:
            self._stopping = True
            self._idle.wait_for(lambda: self._in_flight == 0, timeout=timeout)

    def dispatch(self, method, target, headers, body):
        with self._idle:
            if self._stopping:
                return Outcome(503, {"error": {"code": "ServiceUnavailable", "message": "The local vault is stopping."}})
            self._in_flight += 1
        try:
            return self._dispatch(method, target, headers, body)
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def _dispatch(self, method, target, headers, body):
        received = time.time()
        split = urllib.parse.urlsplit(target)
        path = re.sub(r"/{2,}", "/", urllib.parse.unquote(split.path)) or "/"
        query = {key: values[0] for key, values in urllib.parse.parse_qs(split.query, keep_blank_values=True).items()}
        host = headers.get("Host") or ""
        base_url = f"https://{host}" if _HOST_HEADER.match(host) else self.default_base_url
        request = Request(method, path, query, headers, body, base_url, self.vault)
        outcome = self._run(request)
        caller_name = request.caller.name if request.caller else None
        if outcome.status:
            # A response dropped after the request was carried out still counts; one dropped before does not.
            self.vault.controls.counters.record(request.operation, caller_name, outcome.status, received)
        return outcome

    def _run(self, request):
        fault = None
        try:
            request.route, request.params = self.router.resolve(request.method, request.path)
            request.caller = self.vault.tokens.authenticate(request.headers.get("Authorization"))
            fault = self.vault.controls.faults.take(request.route.operation)
            if fault is not None:
                self.vault.controls.counters.record_fault(request.route.operation)
                if fault.latency and not fault.after:
                    time.sleep(fault.latency)
                if fault.drop and not fault.after:
                    return Outcome(drop=True)
                if fault.status:
                    return Outcome(fault.status, fault.error_body(imds=False), fault.headers())
            check_api_version(request)
            if "name" in request.params:
                check_name(request.params["name"])
            self._authorize(request)
            result = request.route.handler(request)
        except KeyVaultError as error:
            result = error_response(error)
        except Exception:  # pylint: disable=broad-exception-caught
            # The client gets the service's generic 500 instead of a dropped connection; the trace goes to the log.
            LOG.exception("unexpected error in %s %s", request.method, request.path)
            result = (500, {"error": {"code": "InternalServerError", "message": "The local vault failed to handle the request."}})
        status, body = result[0], result[1]
        outcome = Outcome(status, body, result[2] if len(result) > 2 else None)
        if fault is not None and fault.after:
            # The request was carried out; only its response is late or lost.
            time.sleep(fault.latency)
            outcome.drop = fault.drop
        return outcome

    def _authorize(self, request):
        route = request.route
        if route.permission is None:
            return
        authorization = self.vault.authorization.current()
        if authorization.permission_model == rbac.RBAC:
            vault_name = self.vault.config.vault_name
            rbac.authorize(authorization, route.operation, request.params.get("name"), request.caller,
                           rbac.vault_resource_id(RESOURCE_GROUP, vault_name), vault_name, self.vault.tokens.issuer)
            return
        collection = route.permission[0]
        names = route.permission_names()
        if request.caller.allows(collection, names):
            return
        caller = request.caller
        raise KeyVaultError(
            403, "Forbidden",
            f"The user, group or application 'appid={caller.client_id};oid={caller.object_id};numgroups=0;iss={self.vault.tokens.issuer}' "
            f"does not have {collection} {names[0]} permission on key vault '{self.vault.config.vault_name};location=local'. "
            "For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287",
            inner_code="ForbiddenByPolicy")


class _JsonHandler(BaseHTTPRequestHandler):
    """Shared HTTP plumbing: read the body, write a JSON answer, log through ``logging``."""

    protocol_version = "HTTP/1.1"
    server_version = "localvault"
    sys_version = ""
    timeout = 60

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        LOG.debug("%s %s", self.address_string(), format % args)

    def _read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self._write(411, {"error": {"code": "LengthRequired", "message": "Send a Content-Length, not a chunked body."}}, {})
            self.close_connection = True
            return None
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY_BYTES:
            self._write(413, {"error": {"code": "BadParameter", "message": "The request body is too large or its length is invalid."}}, {})
            self.close_connection = True
            return None
        return self.rfile.read(length) if length else b""

    def _write(self, status, body, headers):
        payload = b"" if body is None else json.dumps(body, separators=(",", ":")).encode("utf-8")
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if body is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class VaultHandler(_JsonHandler):
    def _handle(self):
        body = self._read_body()
        if body is None:
            return
        app = self.server.app
        if urllib.parse.urlsplit(self.path).path.startswith(CONTROLS_PREFIX + "/"):
            status, answer = app.vault.controls.handle(self.command, urllib.parse.urlsplit(self.path).path, body)
            self._write(status, answer, {"Cache-Control": "no-cache"})
            return
        outcome = app.dispatch(self.command, self.path, self.headers, body)
        if outcome.drop:
            self._drop()
            return
        headers = {
            "Cache-Control": "no-cache", "Pragma": "no-cache", "Expires": "-1",
            "x-ms-keyvault-region": "local", "x-ms-request-id": str(uuid.uuid4()),
            "x-ms-keyvault-service-version": SERVICE_VERSION,
            "x-ms-keyvault-network-info": f"conn_type=Ipv4;addr={self.client_address[0]};act_addr_fam=InterNetwork;",
            "X-Content-Type-Options": "nosniff", "Strict-Transport-Security": "max-age=31536000;includeSubDomains",
        }
        headers.update(outcome.headers)
        self._write(outcome.status, outcome.body, headers)

    do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = _handle


class ImdsHandler(_JsonHandler):
    def _handle(self):
        if self._read_body() is None:
            return
        received = time.time()
        vault = self.server.vault
        split = urllib.parse.urlsplit(self.path)
        query = {key: values[0] for key, values in urllib.parse.parse_qs(split.query, keep_blank_values=True).items()}
        fault = vault.controls.faults.take(IMDS_OPERATION)
        if fault is not None:
            vault.controls.counters.record_fault(IMDS_OPERATION)
            if fault.latency:
                time.sleep(fault.latency)
            if fault.drop:
                self._drop()
                return
            if fault.status:
                vault.controls.counters.record_imds(None, fault.status, received)
                self._write(fault.status, fault.error_body(imds=True), fault.headers())
                return
        vm, assigned = vault.fleet.caller(self.client_address[0])
        status, body, identity = imds_token(self.command, split.path, query, self.headers, assigned, vault.tokens)
        if vm is not None:
            LOG.debug("IMDS request from VM %s (%s) answered %s", vm.name, self.client_address[0], status)
        vault.controls.counters.record_imds(identity.name if identity else None, status, received)
        self._write(status, body, {})

    do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, handler):
        # The family must be known before the base class creates the listening socket.
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, handler)

    def handle_error(self, request, client_address):
        LOG.debug("connection from %s ended with an error", client_address, exc_info=True)


class TlsServer(_Server):
    """Does each TLS handshake in the connection's own thread, so a slow client cannot stall accepting."""

    handshake_timeout = 10

    def __init__(self, address, handler, ssl_context):
        super().__init__(address, handler)
        self.ssl_context = ssl_context

    def finish_request(self, request, client_address):
        request.settimeout(self.handshake_timeout)
        try:
            connection = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            LOG.debug("TLS handshake with %s failed: %s", client_address, exc)
            return
        try:
            self.RequestHandlerClass(connection, client_address, self)
        finally:
            connection.close()


def load_state_keys(path):
    """Token-signing and backup-sealing keys, derived from one random key created on first start (owner-only)."""
    try:
        with open(path, "rb") as handle:
            master = handle.read()
    except FileNotFoundError:
        master = b""
    if len(master) != _KEY_BYTES:
        master = secrets.token_bytes(_KEY_BYTES)
        temporary = f"{path}.{os.getpid()}.tmp"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(master)
        os.replace(temporary, path)
    return tuple(HKDF(algorithm=hashes.SHA256(), length=_KEY_BYTES, salt=None, info=purpose).derive(master)
                 for purpose in (b"localvault token signing", b"localvault backup sealing"))


def _url_host(host, loopback_name):
    """How clients reach ``host`` in a URL: the loopback name for loopback and wildcard addresses."""
    if host in ("127.0.0.1", "localhost", "0.0.0.0", ""):
        return loopback_name
    if host in ("::1", "::"):
        # "localhost" may resolve to 127.0.0.1 only, where an IPv6 listener is not reachable.
        return "[::1]"
    return _bracketed(host)


def _bracketed(host):
    """``host`` as it stands in a URL: an IPv6 address in brackets."""
    return f"[{host}]" if ":" in host else host


def _write_atomically(path, text, mode=0o644):
    temporary = f"{path}.{os.getpid()}.tmp"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)


class LocalVault:
    """One running local vault; ``start()`` serves in background threads, ``stop()`` ends them."""

    def __init__(self, config, state_dir, host="127.0.0.1", vault_port=0, imds_port=0, ephemeral=False, advertised_host=None,
                 tools_dir=None, collections_path=None):
        self.config = config
        self.state_dir = os.path.abspath(state_dir)
        self.host = host
        self.ephemeral = ephemeral
        # The name clients are told to use (connection.json, env.sh), when it is not the one --host implies.
        self.advertised_host = advertised_host
        # What env.sh adds for a shell that runs this project's playbooks: the tools' folder on PATH, the collections path.
        self.tools_dir = tools_dir
        self.collections_path = collections_path
        self._ports = (vault_port, imds_port)
        self._servers = []
        self._threads = []
        self.store = None
        self.vault = None
        self.application = None
        self.connection = None

    def start(self):
        os.makedirs(self.state_dir, mode=0o700, exist_ok=True)
        for name in (CONNECTION_FILE, ENV_FILE):
            if os.path.exists(os.path.join(self.state_dir, name)):
                os.remove(os.path.join(self.state_dir, name))
        extra_names = (*self.config.server_cert_sans, self.advertised_host) if self.advertised_host else self.config.server_cert_sans
        ssl_context = tls.prepare(self.state_dir, self.host, extra_names)
        settings = SettingsHolder(self.config.settings)
        directory = IdentityDirectory(self.config.identities)
        token_key, backup_key = load_state_keys(os.path.join(self.state_dir, KEY_FILE))
        tokens = TokenService(token_key, self.config.tenant_id, settings, directory)
        router = build_router()
        self.store = Store(":memory:" if self.ephemeral else os.path.join(self.state_dir, DATABASE_FILE))
        fleet = Fleet(self.config.vms, self.config.identities)
        authorization = rbac.AuthorizationHolder(self.config.authorization, self.config.identities)
        controls = Controls(settings, router.operations(), authorization)
        self.vault = VaultState(self.config, settings, self.store, directory, tokens, controls, backup_key, fleet)
        bind_host = "" if self.host == "0.0.0.0" else self.host.strip("[]")
        vault_server = TlsServer((bind_host, self._ports[0]), VaultHandler, ssl_context)
        imds_server = _Server((bind_host, self._ports[1]), ImdsHandler)
        url_host = _bracketed(self.advertised_host) if self.advertised_host else _url_host(self.host, "localhost")
        vault_url = f"https://{url_host}:{vault_server.server_address[1]}/"
        self.application = VaultApplication(self.vault, router, vault_url.rstrip("/"))
        vault_server.app = self.application
        imds_server.vault = self.vault
        self._servers = [vault_server, imds_server]
        for server in self._servers:
            thread = threading.Thread(target=server.serve_forever, name=f"localvault-{server.server_address[1]}", daemon=True)
            thread.start()
            self._threads.append(thread)
        imds_host = _bracketed(self.advertised_host) if self.advertised_host else _url_host(self.host, "127.0.0.1")
        self.connection = {
            "vault_url": vault_url,
            "imds_url": f"http://{imds_host}:{imds_server.server_address[1]}",
            "ca_bundle": os.path.join(self.state_dir, tls.CA_FILE),
            "controls_url": vault_url + CONTROLS_PREFIX.lstrip("/"),
            "tenant_id": self.config.tenant_id,
            "identities": [identity.describe() for identity in directory],
            "vms": [vm.describe() for vm in fleet],
            "state_dir": self.state_dir,
            "ephemeral": self.ephemeral,
            "pid": os.getpid(),
        }
        self._write_connection_files()
        return self.connection

    def client_environment(self):
        """The environment variables a client of this vault needs (and the collections path, when given)."""
        environment = {
            "AZURE_POD_IDENTITY_AUTHORITY_HOST": self.connection["imds_url"],
            "ANSIBLE_KEYVAULT_URL": self.connection["vault_url"],
            "ANSIBLE_KEYVAULT_CA_CERT": self.connection["ca_bundle"],
            "ANSIBLE_KEYVAULT_VERIFY_CHALLENGE_RESOURCE": "false",
            "LOCALVAULT_URL": self.connection["vault_url"],
            "LOCALVAULT_CA_BUNDLE": self.connection["ca_bundle"],
        }
        if self.collections_path:
            environment["ANSIBLE_COLLECTIONS_PATH"] = os.path.abspath(self.collections_path)
        return environment

    def environment_script(self):
        """The lines of env.sh: the client environment, and the tools' folder put in front of PATH."""
        lines = [f"export {name}={shlex.quote(value)}" for name, value in self.client_environment().items()]
        if self.tools_dir:
            lines.append(f'export PATH={shlex.quote(os.path.abspath(self.tools_dir))}"${{PATH:+:$PATH}}"')
        return lines

    def _write_connection_files(self):
        script = "".join(line + "\n" for line in self.environment_script())
        _write_atomically(os.path.join(self.state_dir, ENV_FILE), "# Environment for clients of the local vault; source this file.\n" + script)
        # connection.json comes last: its appearance tells a waiting client that everything is ready.
        _write_atomically(os.path.join(self.state_dir, CONNECTION_FILE), json.dumps(self.connection, indent=2) + "\n")

    def stop(self, drain_timeout=10):
        for server in self._servers:
            server.shutdown()
            server.server_close()
        if self.application is not None:
            self.application.drain(drain_timeout)
        for thread in self._threads:
            thread.join(timeout=5)
        if self.store is not None:
            self.store.close()
        for name in (CONNECTION_FILE, ENV_FILE):
            path = os.path.join(self.state_dir, name)
            if os.path.exists(path):
                os.remove(path)
