"""Outbound connections made on a user's behalf, under the egress policy (domain/egress.py).

A name is resolved once, every address it resolves to is checked (one refused address refuses the
name: a record set mixing a public address with 169.254.169.254 is an attack, not a fallback), and
the connection goes to a checked address — never to a second lookup that could answer differently
(DNS rebinding). Over HTTP(S) (`outbound.http`) the request keeps its Host header and TLS keeps the
name for SNI and the certificate check; every request of a client is checked, redirects included.
"""

import ipaddress
import socket

from dockyard.domain import dns
from dockyard.domain.egress import EgressPolicy, Refusal, normalized
from dockyard.domain.errors import DockyardError

DEFAULT_PORTS = {"http": 80, "https": 443}  # of a URL without a port


class EgressDenied(DockyardError):
    """The egress policy refuses the destination; `refusal` says which address and which setting."""

    status = 422
    code = "egress_denied"

    def __init__(self, refusal: Refusal, host: str) -> None:
        via = "" if host == refusal.address else f" ({host} resolves to it)"
        super().__init__(
            refusal.message.replace(" are refused:", f"{via} are refused:", 1),
            details={"address": refusal.address, "port": refusal.port, "host": host},
            next_action=refusal.next_action,
        )
        self.refusal = refusal


class Unresolved(OSError):
    """The name did not resolve to any address."""


def is_local(address: str) -> bool:
    """Whether `address` is one of this machine's (it can be bound to; nothing is sent)."""
    ip = ipaddress.ip_address(address)
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.bind((address, 0))
    except OSError:
        return False
    return True


def resolve(host: str) -> list[str]:
    """The addresses of `host` (itself when it is an address), through the platform's resolver."""
    try:
        return [str(normalized(host.strip("[]")))]
    except ValueError:
        pass
    found = [a for a in dns.resolver().resolve(host) if dns.is_ip(a)]
    if not found:
        raise Unresolved(f"{host} does not resolve to any address")
    return [str(normalized(a)) for a in dict.fromkeys(found)]


def checked_addresses(policy: EgressPolicy, host: str, port: int) -> list[str]:
    """`host` resolved once, each address checked; EgressDenied for the first refused one."""
    addresses = resolve(host)
    for address in addresses:
        local = policy.needs_locality(port) and is_local(address)
        refusal = policy.refusal(address, port, local=local)
        if refusal is not None:
            raise EgressDenied(refusal, host)
    return addresses


def connect(policy: EgressPolicy, host: str, port: int, timeout: float) -> socket.socket:
    """A TCP connection to a checked address of `host` (the next one when one refuses)."""
    failure: OSError | None = None
    for address in checked_addresses(policy, host, port):
        try:
            return socket.create_connection((address, port), timeout=timeout)
        except OSError as exc:
            failure = exc
    assert failure is not None
    raise failure
