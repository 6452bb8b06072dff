"""DNS checks for custom domains: a resolver interface and a pure comparison of what DNS says.

Production resolves through the system resolver (`socket.getaddrinfo`). Tests replace public DNS,
and only it, with a fake behind the same `Resolver` interface (`use_resolver`).
"""

import ipaddress
import socket
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

DnsStatus = Literal["pending", "matched", "mismatched", "unresolved"]
LOOPBACK_TARGETS = ("127.0.0.1", "::1")
RESOLVE_TIMEOUT_S = 5.0


class Resolver(Protocol):
    def resolve(self, name: str) -> list[str]:
        """The A/AAAA addresses and CNAME target of `name`; empty when it does not resolve."""
        ...


class SystemResolver:
    """The host's resolver via getaddrinfo; the canonical name stands in for a CNAME target."""

    def __init__(self, timeout_s: float = RESOLVE_TIMEOUT_S) -> None:
        self.timeout_s = timeout_s

    def _lookup(self, name: str) -> list[str]:
        try:
            infos = socket.getaddrinfo(name, None, type=socket.SOCK_STREAM, flags=socket.AI_CANONNAME)
        except (socket.gaierror, UnicodeError, OSError):
            return []
        targets: list[str] = []
        for _family, _type, _proto, canonname, sockaddr in infos:
            if canonname and normalize(canonname) != normalize(name):
                targets.append(canonname)
            targets.append(str(sockaddr[0]))
        return unique(targets)

    def resolve(self, name: str) -> list[str]:
        # getaddrinfo has no timeout of its own: a stuck lookup must not hold a request forever.
        pool = ThreadPoolExecutor(max_workers=1)
        try:
            found = pool.submit(self._lookup, name).result(timeout=self.timeout_s)
        except FutureTimeout:
            found = []
        finally:
            pool.shutdown(wait=False)
        if not found and is_localhost(name):
            return ["127.0.0.1"]  # RFC 6761 loopback, also where glibc does not resolve it
        return found


_resolver: Resolver = SystemResolver()


def resolver() -> Resolver:
    return _resolver


@contextmanager
def use_resolver(replacement: Resolver) -> Iterator[Resolver]:
    """Resolve through `replacement` inside the block (tests: a fake for public DNS only)."""
    global _resolver
    previous, _resolver = _resolver, replacement
    try:
        yield replacement
    finally:
        _resolver = previous


def normalize(target: str) -> str:
    return target.strip().lower().rstrip(".")


def unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class DnsObservation:
    status: DnsStatus = "pending"
    expected_targets: list[str] = field(default_factory=list)
    observed_targets: list[str] = field(default_factory=list)
    checked_at: str | None = None
    message: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def is_localhost(name: str) -> bool:
    name = normalize(name)
    return name == "localhost" or name.endswith(".localhost")


def expected_targets(domain_name: str, server_host: str, server_addresses: Iterable[str] = ()) -> list[str]:
    """Where the domain must point: the server's host (and its addresses); `*.localhost` to loopback."""
    targets = [normalize(server_host), *(normalize(a) for a in server_addresses)]
    if is_localhost(domain_name):
        targets.extend(LOOPBACK_TARGETS)
    return unique(targets)


def observe(
    expected: Iterable[str], observed: Iterable[str], checked_at: str | None = None
) -> DnsObservation:
    """Compare what DNS answered with where the domain must point.

    Matched when something resolved and every answer is an expected target (a stray A/AAAA record
    would send part of the traffic elsewhere); unresolved when nothing came back.
    """
    want = unique(normalize(t) for t in expected)
    got = unique(normalize(t) for t in observed)
    if not got:
        message = "The domain does not resolve yet; add an A, AAAA or CNAME record."
        return DnsObservation("unresolved", want, got, checked_at, message)
    stray = [t for t in got if t not in want]
    if not stray:
        return DnsObservation("matched", want, got, checked_at, "The domain points at the server.")
    return DnsObservation(
        "mismatched",
        want,
        got,
        checked_at,
        f"The domain points at {', '.join(stray)}; expected only {', '.join(want) or 'the server'}.",
    )
