"""One request through a resource's route, as a visitor would send it, and the runner's word on which
deployment its front port routes to. The edge is asked on loopback with the route's Host header, so no
DNS is needed and nothing leaves the machine."""

import http.client
import socket
from dataclasses import dataclass

import httpx

from dockyard.domain.access_failures import Answer
from dockyard.edge.process import NOT_FOUND_BODY
from dockyard.runtimes import redirect
from dockyard.runtimes.protocol import DEPLOYMENT_HEADER, PROBE_PATH

ALL_INTERFACES = {"", "0.0.0.0", "::", "[::]", "*"}
UNROUTED = "dockyard-probe.invalid"  # a hostname no route can have (.invalid is reserved)


def edge_address(edge_state: dict) -> str:
    """Where the server's edge answers on this machine: its bind address, or loopback when it binds all."""
    bind = str(edge_state.get("bindAddress") or "")
    host = "127.0.0.1" if bind in ALL_INTERFACES else bind
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{int(edge_state.get('httpPort') or 80)}"


def request(base: str, path: str, host: str | None, timeout: float) -> Answer:
    """GET `path` at `base` (with `host` as the Host header when the route has one)."""
    headers = {"Host": host} if host else {}
    try:
        # Plain HTTP to this machine's edge: no proxy, and no CA bundle to load (33 ms a call).
        resp = httpx.get(
            base + path,
            headers=headers,
            timeout=timeout,
            follow_redirects=False,
            verify=False,
            trust_env=False,
        )
    except httpx.TimeoutException:
        return Answer(connected=False, timed_out=True)
    except httpx.HTTPError:
        return Answer(connected=False)
    return Answer(connected=True, status=resp.status_code, edge_not_found=resp.text == NOT_FOUND_BODY)


@dataclass(frozen=True)
class RunnerAnswer:
    status: int
    deployment_id: str | None  # the DEPLOYMENT_HEADER the answer carried
    body: bytes


class _Bypassing(http.client.HTTPConnection):
    """A connection marked before it connects, so the kernel's redirect lets it reach the runner."""

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        for option in redirect.bypass_options():
            self.sock.setsockopt(*option)
        self.sock.connect((self.host, self.port))


def ask_runner(port: int, token: str, timeout: float) -> RunnerAnswer:
    """The runner's probe on its front port, on a connection of its own that the kernel does not
    redirect to the app (see runtimes/redirect.py). Raises OSError when nothing answers."""
    conn = _Bypassing("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", f"{PROBE_PATH}{token}")
        resp = conn.getresponse()
        return RunnerAnswer(resp.status, resp.getheader(DEPLOYMENT_HEADER), resp.read())
    except http.client.HTTPException as exc:
        raise OSError(f"not an HTTP answer: {exc!r}") from exc
    finally:
        conn.close()


def routed_deployment(port: int, token: str, timeout: float) -> str | None:
    """The deployment the runner on `port` says it routes to."""
    try:
        return ask_runner(port, token, timeout).deployment_id
    except OSError:
        return None


def is_our_edge(base: str, timeout: float) -> bool:
    """Whether what listens at `base` is Dockyard's edge: asked for a hostname no route has, it answers
    with its own page. One address has one listener, so the route's answer came from that edge too."""
    answer = request(base, "/", UNROUTED, timeout)
    return answer.edge_not_found
