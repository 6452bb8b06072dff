"""DNS observation of custom domains: the pure comparison, expected targets, the resolver switch."""

import socket
from typing import Any

import pytest

from dockyard.domain import dns


def test_answers_that_all_point_at_the_server_match() -> None:
    found = dns.observe(["127.0.0.1"], ["127.0.0.1"], "2026-11-23T00:00:00.000Z")
    assert found.status == "matched"
    assert found.as_dict() == {
        "status": "matched",
        "expected_targets": ["127.0.0.1"],
        "observed_targets": ["127.0.0.1"],
        "checked_at": "2026-11-23T00:00:00.000Z",
        "message": "The domain points at the server.",
    }


def test_a_cname_to_the_server_name_matches_regardless_of_case_and_trailing_dot() -> None:
    assert dns.observe(["vps.example.com", "203.0.113.7"], ["VPS.example.com.", "203.0.113.7"]).status == (
        "matched"
    )


def test_a_stray_answer_is_a_mismatch_that_names_it() -> None:
    found = dns.observe(["203.0.113.7"], ["203.0.113.7", "198.51.100.1"])
    assert found.status == "mismatched"
    assert "198.51.100.1" in (found.message or "") and "203.0.113.7" in (found.message or "")
    assert dns.observe(["203.0.113.7"], ["198.51.100.1"]).status == "mismatched"


def test_no_answer_is_unresolved() -> None:
    found = dns.observe(["203.0.113.7"], [])
    assert (found.status, found.observed_targets) == ("unresolved", [])
    assert "A, AAAA or CNAME" in (found.message or "")


def test_expected_targets_are_the_server_and_loopback_for_localhost_names() -> None:
    assert dns.expected_targets("www.example.com", "203.0.113.7") == ["203.0.113.7"]
    assert dns.expected_targets("www.example.com", "vps.example.com", ["203.0.113.7"]) == [
        "vps.example.com",
        "203.0.113.7",
    ]
    assert dns.expected_targets("shop.localhost", "127.0.0.1") == ["127.0.0.1", "::1"]


def test_use_resolver_swaps_and_restores_the_resolver() -> None:
    class Fake:
        def resolve(self, name: str) -> list[str]:
            return ["192.0.2.1"]

    before = dns.resolver()
    with dns.use_resolver(Fake()):
        assert dns.resolver().resolve("anything.example") == ["192.0.2.1"]
    assert dns.resolver() is before


def test_the_system_resolver_reads_getaddrinfo(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_getaddrinfo(name: str, *args: Any, **kwargs: Any) -> list[Any]:
        if name in ("missing.example", "shop.localhost"):
            raise socket.gaierror("not found")
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "edge.example.net", ("203.0.113.7", 0)),
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("2001:db8::7", 0, 0, 0)),
        ]

    monkeypatch.setattr(dns.socket, "getaddrinfo", fake_getaddrinfo)
    system = dns.SystemResolver()
    assert system.resolve("www.example.com") == ["edge.example.net", "203.0.113.7", "2001:db8::7"]
    assert system.resolve("missing.example") == []
    assert system.resolve("shop.localhost") == ["127.0.0.1"]  # RFC 6761, also where glibc says no
