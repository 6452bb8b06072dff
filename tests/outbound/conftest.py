"""Outbound tests: public DNS is a fake behind the resolver interface (domain/dns.py); a refused
destination must see no packet, so the socket layer is watched and any connection outside loopback
fails the test before it is made."""

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from egress_helpers import FakeDns

from dockyard.domain import dns


@pytest.fixture
def fake_dns() -> Iterator[FakeDns]:
    with dns.use_resolver(FakeDns()) as fake:
        yield fake  # type: ignore[misc]


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.socket.connect

    def guarded(sock: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else None
        if host is not None and host not in ("127.0.0.1", "::1"):
            raise AssertionError(f"a connection to {address} was attempted")
        return real(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket.socket, "connect_ex", lambda *_: pytest.fail("connect_ex"))
