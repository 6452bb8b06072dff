"""Dockyard's own Caddy: `caddy run --config STATE_DIR/caddy.json` in its own session, so it outlives us.

Layout of the state dir: caddy.json (the last config Caddy accepted; a restart comes back with it),
caddy.pid, logs/caddy.log (Caddy's output), logs/failures.log (the edge's own 5xx answers: see
failure_log.py), data/ and config/ (Caddy's storage and XDG dirs, so nothing
lands in the user's home), run/admin.sock (the admin API), edge-state.json (last error, route count).
The admin API can replace every route, so it is a unix socket (0600, Caddy runs with umask 077) in a
0700 directory, never a TCP port another local user could reach; it also only answers requests for
the host `caddy-admin` (Caddy's origin check). A new config goes through it (`POST /load`): Caddy
provisions it and swaps it in with the listeners kept open, or refuses it and keeps the running one.
Caddy 2.6 reloads by opening a new SO_REUSEPORT socket and closing the old one; without
net.ipv4.tcp_migrate_req=1 (set at start when we are root) connections queued on the old socket are
reset, a few per hundred reloads under load.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
from pathlib import Path
from typing import Any, NoReturn

import httpx

from dockyard.edge import failure_log
from dockyard.edge.process import (
    NOT_FOUND_BODY,
    EdgeState,
    atomic_write,
    by_hostname,
    checked_challenges,
    edge_status,
    find_binary,
    listen_on,
    log_tail,
    pid_alive,
    read_pid,
    renderable,
    spawn_detached,
    state_lock,
    tcp_migrate_req,
    terminate,
    wait_for,
)
from dockyard.edge.protocol import (
    ACME_CHALLENGE_PATH,
    NO_CHALLENGES,
    Challenges,
    EdgeConfigInvalid,
    EdgeSettings,
    EdgeStatus,
    EdgeUnavailable,
    Route,
)

START_TIMEOUT_S = 15.0
SILENT_EXIT_ATTEMPTS = 3  # starts of a Caddy that exits at once without an error (see _ensure_running)
LOAD_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
ADMIN_HOST = "caddy-admin"  # the only Host the admin API answers (its `origins`)
SUN_PATH_MAX = 107  # bytes of a unix socket path (sockaddr_un.sun_path less the NUL)
REQUEST_ID = failure_log.REQUEST_ID_PREFIX + "{http.request.uuid}"
UPSTREAM_IDLE = "4s"  # below the 5 s keep-alive of uvicorn and Node, so Caddy never reuses a closing one


FAILURE_LOGGER = "dockyard_failures"
# Caddy logs a request it answered with 5xx at level ERROR: the app's own 5xx too, which the reader
# tells apart by the request id only the edge's answer carries
FAILURE_ROUTE = {
    "handle": [
        {
            "handler": "headers",
            "response": {"set": {failure_log.REQUEST_ID_HEADER: [REQUEST_ID]}},
        },
        {
            "handler": "static_response",
            "status_code": "{http.error.status_code}",
            "headers": {"Content-Type": ["text/plain; charset=utf-8"]},
            "body": "The app at this address is not answering right now (Dockyard edge). "
            f"Request id: {REQUEST_ID}\n",
        },
    ]
}


def failure_logs(path: Path) -> dict[str, Any]:
    """Caddy's access log of errors only, without what may be secret (headers, the query, the client)."""
    access = f"http.log.access.{FAILURE_LOGGER}"
    return {
        "default": {"exclude": [access]},
        FAILURE_LOGGER: {
            "writer": {"output": "file", "filename": str(path), "roll": False},
            "encoder": {
                "format": "filter",
                "wrap": {"format": "json"},
                "fields": {
                    "request>headers": {"filter": "delete"},
                    "request>remote_ip": {"filter": "delete"},
                    "request>remote_port": {"filter": "delete"},
                    "request>uri": {"filter": "regexp", "regexp": "\\?.*$", "value": ""},
                },
            },
            "level": "ERROR",
            "include": [access],
        },
    }


class CaddyEdge:
    def __init__(self, settings: EdgeSettings) -> None:
        self.settings = settings
        self.state_dir = Path(settings.state_dir)
        self.config_path = self.state_dir / "caddy.json"
        self.pid_path = self.state_dir / "caddy.pid"
        self.log_path = self.state_dir / "logs" / "caddy.log"
        self.admin_socket = self.state_dir / "run" / "admin.sock"

    # -- configuration --------------------------------------------------------------------------------

    def render(self, routes: list[Route], challenges: Challenges = NO_CHALLENGES) -> str:
        return json.dumps(self._config(routes, challenges), indent=2) + "\n"

    def _config(self, routes: list[Route], challenges: Challenges) -> dict[str, Any]:
        s = self.settings
        groups = by_hostname(routes)
        not_found = {
            "handle": [
                {
                    "handler": "static_response",
                    "status_code": 404,
                    "headers": {"Content-Type": ["text/plain; charset=utf-8"]},
                    "body": NOT_FOUND_BODY,
                }
            ]
        }
        plain = [_route(r) for _, _, rs in groups for r in rs]
        answers = [  # HTTP-01 tokens, answered for every hostname
            {
                "match": [{"path": [f"{ACME_CHALLENGE_PATH}{token}"]}],
                "handle": [{"handler": "static_response", "status_code": 200, "body": key_authorization}],
            }
            for token, key_authorization in checked_challenges(challenges)
        ]
        plain = [*answers, *plain]
        servers: dict[str, Any] = {
            "http": {
                "listen": [listen_on(s.listen_address, s.http_port)],
                "automatic_https": {"disable": True},  # TLS only from the routes' files, never ACME
                "read_header_timeout": "30s",
                "idle_timeout": "65s",
                "routes": [*plain, not_found],
            }
        }
        tls_groups = [(tls, rs) for _, tls, rs in groups if tls]
        if tls_groups:
            servers["https"] = {
                "listen": [listen_on(s.listen_address, s.https_port)],
                "automatic_https": {"disable": True},
                "tls_connection_policies": [{}],  # certificates chosen by SNI among the loaded files
                "read_header_timeout": "30s",
                "idle_timeout": "65s",
                "routes": [*(_route(r) for _, rs in tls_groups for r in rs), not_found],
            }
        for server in servers.values():  # the edge's own answers: a request id, and a line in the log
            server["errors"] = {"routes": [FAILURE_ROUTE]}
            server["logs"] = {"default_logger_name": FAILURE_LOGGER}
        config: dict[str, Any] = {
            "admin": {
                "listen": f"unix/{self.admin_socket}",
                "origins": [ADMIN_HOST],
                "config": {"persist": False},
            },
            "storage": {"module": "file_system", "root": str(self.state_dir / "data")},
            "apps": {"http": {"http_port": s.http_port, "https_port": s.https_port, "servers": servers}},
            "logging": {"logs": failure_logs(failure_log.path_of(self.state_dir))},
        }
        files = sorted({(tls.certificate_path, tls.key_path, tls.fingerprint) for tls, _ in tls_groups})
        if files:
            # The fingerprint tag changes the config when a renewal replaced the files in place.
            loaded = [{"certificate": c, "key": k, **({"tags": [f]} if f else {})} for c, k, f in files]
            config["apps"]["tls"] = {"certificates": {"load_files": loaded}}
        return config

    # -- lifecycle ------------------------------------------------------------------------------------

    def ensure_running(self) -> EdgeStatus:
        with state_lock(self.state_dir):
            self._ensure_running()
        return self.status()

    def apply(self, routes: list[Route], challenges: Challenges = NO_CHALLENGES) -> EdgeStatus:
        self._binary()
        with state_lock(self.state_dir):
            good, skipped = renderable(routes)
            try:
                text = self.render(good, challenges)
            except ValueError as exc:  # a challenge: not one resource's route
                self._fail(str(exc))
            self._ensure_running()
            try:
                headers = {"Content-Type": "application/json"}
                resp = self._admin("POST", "/load", LOAD_TIMEOUT_S, content=text.encode(), headers=headers)
            except httpx.HTTPError as exc:
                why = f"caddy's admin API at {self.admin_socket} did not answer: {exc}"
                raise EdgeUnavailable(why) from exc
            if resp.status_code != 200:
                self._fail(f"caddy rejected the configuration: {_error_text(resp)}")
            self._socket_owner_only()  # a load may have re-created it
            atomic_write(self.config_path, text)
            EdgeState.applied(self.state_dir, good, skipped)
        return self.status()

    def status(self) -> EdgeStatus:
        return edge_status(
            "caddy",
            self.state_dir,
            self._pid(),
            lambda: (self._binary(), "version"),
            self.config_path,
            {
                "log": str(self.log_path),
                "admin": str(self.admin_socket),
                "tcp_migrate_req": tcp_migrate_req(enable=False),  # "1": reloads drop nothing
                "http_port": str(self.settings.http_port),
                "https_port": str(self.settings.https_port),
            },
        )

    def stop(self) -> None:
        with state_lock(self.state_dir):
            pid = self._pid()
            if pid is None:
                return
            with contextlib.suppress(httpx.HTTPError):  # SIGTERM below does the same
                self._admin("POST", "/stop", 5.0)
            terminate(pid, str(self.config_path), signal.SIGTERM, STOP_TIMEOUT_S)

    # -- helpers --------------------------------------------------------------------------------------

    def _binary(self) -> str:
        return find_binary("caddy", "caddy")

    def _pid(self) -> int | None:
        pid = read_pid(self.pid_path)
        return pid if pid_alive(pid, str(self.config_path)) else None

    def _fail(self, message: str) -> NoReturn:
        EdgeState.record_error(self.state_dir, message)
        raise EdgeConfigInvalid(message)

    def _ensure_running(self) -> None:
        """Start Caddy with the last good config (an empty one the first time) and wait for its admin API.

        A Caddy that exits at once without logging an error is started once more: seen about once in
        fifty starts on a loaded 2-core machine, cause not found yet (see the closing note of issue 5); the
        message then carries Caddy's last log lines, which say whether a signal stopped it."""
        for attempt in range(1, SILENT_EXIT_ATTEMPTS + 1):
            try:
                self._start_once()
                return
            except _SilentExit:
                if attempt == SILENT_EXIT_ATTEMPTS:
                    raise

    def _start_once(self) -> None:
        pid = self._pid()
        if pid is not None:
            if self._admin_is_ours():
                return
            # Started before the admin API moved to the socket (it listens on TCP): replace it.
            terminate(pid, str(self.config_path), signal.SIGTERM, STOP_TIMEOUT_S)
        binary = self._binary()
        tcp_migrate_req(enable=True)
        for sub in ("logs", "data", "config"):
            (self.state_dir / sub).mkdir(parents=True, exist_ok=True)
        self._private_admin_dir()
        self._refresh_admin_block()
        env = {
            **os.environ,
            "XDG_DATA_HOME": str(self.state_dir / "data"),
            "XDG_CONFIG_HOME": str(self.state_dir / "config"),
        }
        since = self.log_path.stat().st_size if self.log_path.exists() else 0
        argv = [binary, "run", "--config", str(self.config_path)]
        pid = spawn_detached(argv, self.log_path, env, umask=0o077)  # the admin socket: 0600
        atomic_write(self.pid_path, f"{pid}\n")
        name = str(self.config_path)
        why = None
        if not wait_for(lambda: not pid_alive(pid, name) or self._admin_is_ours(), START_TIMEOUT_S):
            terminate(pid, name, signal.SIGTERM, 5.0)
            why = f"caddy did not start within {START_TIMEOUT_S:.0f} s: see {self.log_path}"
        elif not pid_alive(pid, name):
            tail = log_tail(self.log_path, 20, since)
            errors = _caddy_errors(tail)
            if not errors:
                why = f"caddy exited without an error: {_caddy_last_words(tail)}"
                EdgeState.record_error(self.state_dir, why)
                raise _SilentExit(why)
            why = f"caddy did not start: {errors}"
        if why:
            EdgeState.record_error(self.state_dir, why)
            raise EdgeUnavailable(why)
        self._socket_owner_only()

    def _private_admin_dir(self) -> None:
        """run/ as a 0700 directory of ours (whatever made it before), with room for the socket's path."""
        if len(os.fsencode(self.admin_socket)) > SUN_PATH_MAX:
            raise EdgeUnavailable(
                f"the path of caddy's admin socket {self.admin_socket} is longer than {SUN_PATH_MAX} bytes: "
                "choose a shorter DOCKYARD_DATA_DIR"
            )
        folder = self.admin_socket.parent
        folder.mkdir(mode=0o700, exist_ok=True)
        if folder.is_symlink() or folder.stat().st_uid != os.geteuid():
            raise EdgeUnavailable(f"{folder} is not a directory of this user's: remove it and retry")
        folder.chmod(0o700)

    def _socket_owner_only(self) -> None:
        """0600: Caddy makes it 0700 under umask 077 (connecting needs write permission, so both keep
        every other user out; 0600 says so plainly)."""
        with contextlib.suppress(FileNotFoundError):
            self.admin_socket.chmod(0o600)

    def _refresh_admin_block(self) -> None:
        """The last good config (an empty one the first time), with the admin API and storage of the current
        settings: how we find and recognise our Caddy even if the config was written by an older Dockyard."""
        try:
            config = json.loads(self.config_path.read_text())
        except (OSError, ValueError):
            config = None
        fresh = self._config([], NO_CHALLENGES)
        if not isinstance(config, dict):
            config = fresh
        config["admin"], config["storage"] = fresh["admin"], fresh["storage"]
        atomic_write(self.config_path, json.dumps(config, indent=2) + "\n")

    def _admin(self, method: str, path: str, timeout: float, **kwargs: Any) -> httpx.Response:
        # No TLS on a unix socket: verify=False skips loading the CA store (~75 ms per transport).
        transport = httpx.HTTPTransport(uds=str(self.admin_socket), verify=False)
        with httpx.Client(transport=transport, timeout=timeout, trust_env=False) as client:
            return client.request(method, f"http://{ADMIN_HOST}{path}", **kwargs)

    def _admin_is_ours(self) -> bool:
        """The admin socket answers with our storage root (the Caddy started with this state dir)."""
        try:
            resp = self._admin("GET", "/config/storage/root", 1.0)
        except httpx.HTTPError:
            return False
        return resp.status_code == 200 and resp.json() == str(self.state_dir / "data")


def _route(route: Route) -> dict[str, Any]:
    match: dict[str, Any] = {"host": [route.hostname]}
    if route.path_prefix != "/":
        match["path"] = [f"{route.path_prefix}*"]
    handler: dict[str, Any]
    if route.redirect_to is not None:
        location = f"{{http.request.scheme}}://{route.redirect_to}{{http.request.uri}}"
        handler = {"handler": "static_response", "status_code": 301, "headers": {"Location": [location]}}
    else:
        handler = {
            "handler": "reverse_proxy",
            "upstreams": [{"dial": f"127.0.0.1:{route.upstream_port}"}],
            # Host is passed through; X-Forwarded-For/Proto/Host are set by Caddy (no trusted proxies).
            "headers": {"request": {"set": {"X-Real-Ip": ["{http.request.remote.host}"]}}},
            "transport": {
                "protocol": "http",
                "dial_timeout": "5s",
                # All fields: a partial keep_alive object zeroes the others (2 idle conns per host).
                "keep_alive": {
                    "enabled": True,
                    "probe_interval": "30s",
                    "idle_timeout": UPSTREAM_IDLE,
                    "max_idle_conns_per_host": 64,
                },
            },
        }
    return {"match": [match], "handle": [handler], "terminal": True}


def _error_text(resp: httpx.Response) -> str:
    try:
        return str(resp.json().get("error", resp.text)).strip()
    except (ValueError, AttributeError):
        return resp.text.strip() or f"HTTP {resp.status_code}"


def _caddy_errors(tail: str) -> str:
    """The `error` fields of Caddy's JSON log lines (or the raw lines when there are none)."""
    picked = []
    for line in tail.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            if line.strip():
                picked.append(line.strip())
            continue
        if isinstance(entry, dict) and entry.get("level") in ("error", "fatal"):
            picked.append(f"{entry.get('msg', '')}: {entry.get('error', '')}".strip(": "))
    return "; ".join(picked[-5:])


def _caddy_last_words(tail: str) -> str:
    """The messages (and signals) of Caddy's last JSON log lines, or "no output"."""
    said = []
    for line in tail.splitlines():
        with contextlib.suppress(ValueError):
            entry = json.loads(line)
            if isinstance(entry, dict):
                said.append(" ".join(str(entry[k]) for k in ("msg", "signal") if entry.get(k)))
    return "; ".join(w for w in said[-3:] if w) or "no output"


class _SilentExit(EdgeUnavailable):
    """Caddy exited at once and logged no error: started again (see _ensure_running)."""
