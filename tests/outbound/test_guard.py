"""Resolving, checking and connecting under the egress policy, against real listeners on loopback."""

import socket

import pytest
from egress_helpers import FakeDns

from dockyard.domain.egress import ALLOW_SETTING, policy_from
from dockyard.outbound.guard import EgressDenied, Unresolved, checked_addresses, connect, resolve

LOOPBACK = {ALLOW_SETTING: "127.0.0.0/8,::1/128"}


def test_a_name_resolving_to_the_metadata_address_is_refused_before_any_connection(fake_dns: FakeDns) -> None:
    fake_dns.records["metadata.example.com"] = ["169.254.169.254"]
    with pytest.raises(EgressDenied) as refused:
        connect(policy_from({}, []), "metadata.example.com", 80, timeout=1)
    assert refused.value.code == "egress_denied" and refused.value.status == 422
    message = refused.value.message
    assert "169.254.169.254" in message and "metadata.example.com" in message and ALLOW_SETTING in message
    assert refused.value.details == {"address": "169.254.169.254", "port": 80, "host": "metadata.example.com"}


def test_one_refused_address_refuses_the_name(fake_dns: FakeDns) -> None:
    fake_dns.records["mixed.example.com"] = ["127.0.0.1", "169.254.169.254"]
    with pytest.raises(EgressDenied, match=r"169\.254\.169\.254"):
        checked_addresses(policy_from(LOOPBACK, []), "mixed.example.com", 80)


def test_addresses_are_taken_as_they_are_and_names_resolve_once(fake_dns: FakeDns) -> None:
    assert resolve("10.0.0.1") == ["10.0.0.1"] and resolve("[::1]") == ["::1"]
    assert resolve("::ffff:169.254.169.254") == ["169.254.169.254"]  # the address it reaches
    fake_dns.records["two.example.com"] = ["127.0.0.1", "two.cname.example.net", "::1", "127.0.0.1"]
    assert resolve("two.example.com") == ["127.0.0.1", "::1"]
    assert fake_dns.asked == ["two.example.com"]
    with pytest.raises(Unresolved):
        resolve("nowhere.example.com")


def test_the_connection_goes_to_a_checked_address_and_the_next_when_one_refuses(fake_dns: FakeDns) -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        fake_dns.records["app.example.com"] = ["::1", "127.0.0.1"]  # nothing listens on ::1
        fake_dns.then["app.example.com"] = ["169.254.169.254"]
        with connect(policy_from(LOOPBACK, []), "app.example.com", port, timeout=2) as sock:
            assert sock.getpeername()[:2] == ("127.0.0.1", port)
    assert fake_dns.asked == ["app.example.com"]


def test_loopback_is_refused_by_default_and_the_own_listener_always() -> None:
    with pytest.raises(EgressDenied, match="loopback"):
        connect(policy_from({}, []), "127.0.0.1", 5000, timeout=1)
    with pytest.raises(EgressDenied, match="control plane's own API"):
        connect(policy_from(LOOPBACK, [("127.0.0.1", 8420)]), "localhost", 8420, timeout=1)
    with pytest.raises(EgressDenied, match="control plane's own API"):
        connect(policy_from(LOOPBACK, [("0.0.0.0", 8420)]), "127.0.0.1", 8420, timeout=1)
