"""Dockyard's own nginx: `nginx -p STATE_DIR -c STATE_DIR/nginx.conf`, daemonized, so it outlives us.

Layout of the state dir: nginx.conf (the running config), nginx.pid, logs/error.log (warn and up; no
access log, like Caddy's default), logs/failures.log (only the edge's own answers on a routed
hostname: see failure_log.py), tmp/ (nginx's temp paths), edge-state.json (last error, route count).
A new config is validated with `nginx -t` on a side file, swapped in with a rename and loaded with a
graceful reload (SIGHUP: new workers take the listening sockets, old ones finish their requests).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path
from typing import NoReturn

from dockyard.edge import failure_log
from dockyard.edge.process import (
    NOT_FOUND_BODY,
    EdgeState,
    atomic_write,
    by_hostname,
    checked_challenges,
    children_of,
    edge_status,
    find_binary,
    listen_on,
    log_tail,
    pid_alive,
    read_pid,
    renderable,
    state_lock,
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

START_TIMEOUT_S = 10.0
RELOAD_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 30.0
UPSTREAM_LIFETIME_S = 3  # well inside the runner's drain timeout (10 s)
UPSTREAM_IDLE_S = 4  # below the 5 s keep-alive of uvicorn and Node, so nginx never reuses a closing one
REQUEST_ID = failure_log.REQUEST_ID_PREFIX + "$request_id"
UNAVAILABLE = {502: "is not answering right now", 504: "took too long to answer"}
ERROR_LINE = re.compile(r"\[(emerg|alert|crit)\]")
TEMP_PATHS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


class NginxEdge:
    def __init__(self, settings: EdgeSettings) -> None:
        self.settings = settings
        self.state_dir = Path(settings.state_dir)
        self.config_path = self.state_dir / "nginx.conf"
        self.pid_path = self.state_dir / "nginx.pid"
        self.error_log = self.state_dir / "logs" / "error.log"

    # -- configuration --------------------------------------------------------------------------------

    def render(self, routes: list[Route], challenges: Challenges = NO_CHALLENGES) -> str:
        s = self.settings
        state = self.state_dir
        groups = by_hostname(routes)
        http = listen_on(s.listen_address, s.http_port)
        https = listen_on(s.listen_address, s.https_port)
        not_found = f'return 404 "{NOT_FOUND_BODY.rstrip()}\\n";'
        # the edge's own answers on a routed hostname are logged (only they) with the id they carry
        failed = (
            f"access_log {failure_log.path_of(state)} dockyard_failure; "
            f"add_header {failure_log.REQUEST_ID_HEADER} {REQUEST_ID} always;"
        )
        out = [
            "# Dockyard's edge proxy. Generated from the routes: edits are lost on the next change.",
            f"pid {state}/nginx.pid;",
            f"error_log {self.error_log} warn;",
            "worker_processes auto;",
            "worker_shutdown_timeout 120s;  # a reload waits this long at most for old connections",
            "",
            "events {",
            "    worker_connections 4096;",
            "}",
            "",
            "http {",
            "    server_tokens off;",
            "    access_log off;",
            "    default_type text/plain;",
            *(f"    {name}_temp_path {state}/tmp/{name};" for name in TEMP_PATHS),
            "    server_names_hash_bucket_size 128;",
            "    server_names_hash_max_size 8192;",
            "    client_max_body_size 100m;",
            "    client_header_timeout 30s;",
            "    client_body_timeout 60s;",
            "    send_timeout 60s;",
            "    keepalive_timeout 65s;",
            "",
            "    proxy_http_version 1.1;",
            "    proxy_set_header Host $host;",
            "    proxy_set_header X-Real-IP $remote_addr;",
            "    proxy_set_header X-Forwarded-For $remote_addr;  # the edge is the first hop",
            "    proxy_set_header X-Forwarded-Proto $scheme;",
            "    proxy_set_header X-Forwarded-Host $host;",
            "    proxy_set_header Upgrade $http_upgrade;",
            "    proxy_set_header Connection $connection_upgrade;",
            "    proxy_connect_timeout 5s;",
            "    proxy_send_timeout 300s;",
            "    proxy_read_timeout 300s;  # also the idle limit of a websocket",
            "    # Stream bodies instead of spooling them to disk: workers never write files.",
            "    proxy_request_buffering off;",
            "    proxy_max_temp_file_size 0;",
            "    log_format dockyard_failure escape=json",
            f"""        '{{"requestId":"{REQUEST_ID}","time":"$time_iso8601","host":"$host",'""",
            """        '"path":"$uri","method":"$request_method","status":"$status",'""",
            """        '"upstream":"$upstream_addr"}';""",
            "",
            "    map $http_upgrade $connection_upgrade {",
            "        default upgrade;",
            "        '' '';  # no Connection: close, so the upstream connection is kept alive",
            "    }",
        ]
        if any(tls for _, tls, _ in groups):
            out += [
                "    ssl_protocols TLSv1.2 TLSv1.3;",
                "    ssl_session_cache shared:dockyard_tls:10m;",
            ]
        ports = sorted({r.upstream_port for _, _, rs in groups for r in rs if r.redirect_to is None})
        for port in ports:
            users = sorted(
                {
                    r.resource_id or r.hostname
                    for _, _, rs in groups
                    for r in rs
                    if r.upstream_port == port and r.redirect_to is None
                }
            )
            out += [
                "",
                f"    upstream dockyard_{port} {{  # {', '.join(users)}",
                f"        server 127.0.0.1:{port};",
                "        keepalive 64;",
                f"        keepalive_timeout {UPSTREAM_IDLE_S}s;",
                # nginx itself retires every upstream connection after a few seconds, between two
                # requests: after a redeploy the old instance's connections end cleanly, well
                # inside the runner's drain, instead of being cut mid-request when it stops.
                f"        keepalive_time {UPSTREAM_LIFETIME_S}s;",
                "    }",
            ]
        challenge = [  # HTTP-01 tokens, answered for every hostname
            f'        location = {ACME_CHALLENGE_PATH}{token} {{ return 200 "{key_authorization}"; }}'
            for token, key_authorization in checked_challenges(challenges)
        ]
        out += [
            "",
            "    server {  # hostnames without a route",
            f"        listen {http} default_server;",
            *challenge,
            f"        location / {{ {not_found} }}",
            "    }",
        ]
        if any(tls for _, tls, _ in groups):
            out += [
                "    server {  # TLS for hostnames without a certificate: refuse the handshake",
                f"        listen {https} ssl http2 default_server;",
                "        ssl_reject_handshake on;",
                "    }",
            ]
        for hostname, tls, host_routes in groups:
            resources = sorted({r.resource_id for r in host_routes if r.resource_id})
            out += ["", f"    server {{  # {', '.join(resources) or hostname}", f"        listen {http};"]
            if tls:
                out += [
                    f"        listen {https} ssl http2;",
                    f"        ssl_certificate {tls.certificate_path};",
                    f"        ssl_certificate_key {tls.key_path};",
                    *([f"        # certificate {tls.fingerprint}"] if tls.fingerprint else []),
                ]
            out.append(f"        server_name {hostname};")
            out += challenge
            for status, what in UNAVAILABLE.items():
                page = f"The app at this address {what} (Dockyard edge). Request id: {REQUEST_ID}\\n"
                out += [
                    f"        error_page {status} = @dockyard_{status};",
                    f'        location @dockyard_{status} {{ {failed} return {status} "{page}"; }}',
                ]
            for route in host_routes:
                if route.redirect_to is not None:
                    action = f"return 301 $scheme://{route.redirect_to}$request_uri;"
                else:
                    action = f"proxy_pass http://dockyard_{route.upstream_port};"
                out.append(f"        location {route.path_prefix} {{ {action} }}")
            if all(r.path_prefix != "/" for r in host_routes):
                out.append(f"        location / {{ {failed} {not_found} }}")
            out.append("    }")
        out += ["}", ""]
        return "\n".join(out)

    # -- lifecycle ------------------------------------------------------------------------------------

    def ensure_running(self) -> EdgeStatus:
        with state_lock(self.state_dir):
            if self._pid() is None:
                self._prepare()
                if not self.config_path.exists():
                    atomic_write(self.config_path, self.render([]))
                self._start()
        return self.status()

    def apply(self, routes: list[Route], challenges: Challenges = NO_CHALLENGES) -> EdgeStatus:
        binary = self._binary()
        with state_lock(self.state_dir):
            self._prepare()
            good, skipped = renderable(routes)
            try:
                text = self.render(good, challenges)
            except ValueError as exc:  # a challenge: not one resource's route
                self._fail(str(exc))
            candidate = self.state_dir / "nginx.conf.new"
            candidate.write_text(text)
            done = subprocess.run(
                [binary, "-t", "-q", *self._paths(candidate)],
                capture_output=True,
                text=True,
                timeout=60,
            )
            if done.returncode != 0:
                candidate.unlink(missing_ok=True)
                self._fail("nginx rejected the configuration: " + _errors(done.stderr + done.stdout))
            previous = self.config_path.read_text() if self.config_path.exists() else None
            os.replace(candidate, self.config_path)
            pid = self._pid()
            if pid is None:
                self._start()  # with the new config: it passed nginx -t
            elif text != previous:
                try:
                    self._reload(pid)
                except EdgeConfigInvalid as exc:
                    if previous is not None:
                        atomic_write(self.config_path, previous)
                    self._fail(str(exc))
            EdgeState.applied(self.state_dir, good, skipped)
        return self.status()

    def status(self) -> EdgeStatus:
        return edge_status(
            "nginx",
            self.state_dir,
            self._pid(),
            lambda: (self._binary(), "-v"),
            self.config_path,
            {
                "error_log": str(self.error_log),
                "http_port": str(self.settings.http_port),
                "https_port": str(self.settings.https_port),
            },
        )

    def stop(self) -> None:
        with state_lock(self.state_dir):
            pid = self._pid()
            if pid is not None:
                terminate(pid, str(self.config_path), signal.SIGQUIT, STOP_TIMEOUT_S)  # = nginx -s quit

    # -- helpers --------------------------------------------------------------------------------------

    def _binary(self) -> str:
        return find_binary("nginx", "nginx")

    def _pid(self) -> int | None:
        """The master's pid when our nginx runs (its command line names our config)."""
        pid = read_pid(self.pid_path)
        return pid if pid_alive(pid, str(self.config_path)) else None

    def _paths(self, config: Path) -> list[str]:
        return ["-p", f"{self.state_dir}/", "-c", str(config), "-e", str(self.error_log)]

    def _prepare(self) -> None:
        for sub in ("logs", "tmp"):
            (self.state_dir / sub).mkdir(parents=True, exist_ok=True)

    def _fail(self, message: str) -> NoReturn:
        EdgeState.record_error(self.state_dir, message)
        raise EdgeConfigInvalid(message)

    def _start(self) -> None:
        """Start the master (it daemonizes: setsid, reparented to init) and wait for its pid file."""
        start_log = self.state_dir / "logs" / "start.log"
        with start_log.open("w") as log:
            done = subprocess.run(
                [self._binary(), *self._paths(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                timeout=60,
            )
        why = None
        if done.returncode != 0:
            why = f"nginx did not start: {_errors(start_log.read_text())}"
        elif not wait_for(lambda: self._pid() is not None, START_TIMEOUT_S):
            why = f"nginx did not start: {log_tail(self.error_log, 5) or 'no pid file'}"
        if why:
            EdgeState.record_error(self.state_dir, why)
            raise EdgeUnavailable(why)

    def _reload(self, pid: int) -> None:
        """What `nginx -s reload` does (SIGHUP to the master), then wait until new workers run and the old
        ones stopped accepting (gone or `shutting down`), so the new routes answer when apply returns. A
        config the master refuses (it keeps the old one) is reported from the error log."""
        since = self.error_log.stat().st_size if self.error_log.exists() else 0
        before = children_of(pid)

        def switched() -> bool:
            now = children_of(pid)
            return bool(now - before) and all(_retiring(old) for old in before & now)

        def settled() -> bool:
            gone = not pid_alive(pid, str(self.config_path))
            return switched() or gone or _has_errors(self.error_log, since)

        os.kill(pid, signal.SIGHUP)
        wait_for(settled, RELOAD_TIMEOUT_S)
        if not switched():
            errors = log_tail(self.error_log, 10, since)
            raise EdgeConfigInvalid(f"nginx did not reload: {_errors(errors) or 'no new workers'}")


def _retiring(worker: int) -> bool:
    """An old worker that closed its listening sockets (it retitles itself) or has exited."""
    try:
        return b"shutting down" in Path(f"/proc/{worker}/cmdline").read_bytes()
    except OSError:
        return True


def _has_errors(path: Path, since: int) -> bool:
    return bool(ERROR_LINE.search(log_tail(path, 50, since)))


def _errors(output: str) -> str:
    """nginx's own error lines, without the `nginx: ` prefix and the `test failed` trailer."""
    lines = [line.removeprefix("nginx: ").strip() for line in output.splitlines()]
    picked = [line for line in lines if ERROR_LINE.search(line)]
    picked = picked or [line for line in lines if line and "test failed" not in line]
    return "; ".join(picked or ["no output"])
