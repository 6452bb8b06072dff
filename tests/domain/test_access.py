"""Generated hostnames: loopback, public IPv4 (sslip.io), templates, and uniqueness."""

import pytest

from dockyard.domain.access import (
    Policy,
    generated_hostname,
    hostname_error,
    path_prefix_error,
    provider_for,
    template_error,
)

RID = "res_01m84ft8pws9kat7qy08536abc"


def test_a_loopback_server_gets_slug_dot_localhost_and_a_suffix_when_taken() -> None:
    assert generated_hostname(Policy(), "hello-python", RID, "127.0.0.1", ()) == "hello-python.localhost"
    taken = {"hello-python.localhost"}
    assert (
        generated_hostname(Policy(), "hello-python", RID, "127.0.0.1", taken)
        == "hello-python-536abc.localhost"
    )


def test_a_public_ipv4_gets_an_sslip_name_that_resolves_without_dns_setup() -> None:
    assert provider_for("203.0.113.9") == "localhost"  # documentation range: not global
    assert provider_for("8.8.8.8") == "sslip" and provider_for("10.0.0.5") == "localhost"
    assert generated_hostname(Policy(), "web", RID, "8.8.8.8", ()) == "web-536abc.8.8.8.8.sslip.io"


def test_templates_and_disabled_policies() -> None:
    policy = Policy(mode="custom-template", template_ref="{slug}.apps.example.com")
    assert generated_hostname(policy, "shop", RID, "127.0.0.1", ()) == "shop.apps.example.com"
    assert (
        generated_hostname(policy, "shop", RID, "127.0.0.1", {"shop.apps.example.com"})
        == "shop-536abc.apps.example.com"
    )
    assert generated_hostname(Policy(mode="disabled"), "shop", RID, "127.0.0.1", ()) is None


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("app.example.com", True),
        ("a.localhost", True),
        ("App.example.com", False),
        ("-x.example.com", False),
        ("localhost", False),
        ("a..b", False),
        ("x" * 64 + ".com", False),
        ("a b.com", False),
    ],
)
def test_hostname_rules(name: str, ok: bool) -> None:
    assert (hostname_error(name) is None) is ok


def test_a_template_must_name_the_slug_and_make_valid_hostnames() -> None:
    assert template_error("apps.example.com") == "the template must contain {slug}"
    assert template_error("{slug}.Apps.example.com") is not None
    assert template_error("{slug}-{suffix}.apps.example.com") is None


@pytest.mark.parametrize("prefix", ["/", "/api", "/a-b_c.d~e/", "/v1/items", "/%7Euser"])
def test_path_prefixes_the_edge_can_render(prefix: str) -> None:
    assert path_prefix_error(prefix) is None


@pytest.mark.parametrize(
    "prefix",
    ["", "app", "/a;b", "/a b", "/a{b}", '/a"b', "/a'b", "/a\\b", "/a?x", "/a#x", "/a\n", "/" + "x" * 200],
)
def test_path_prefixes_that_would_break_out_of_a_config_statement_are_refused(prefix: str) -> None:
    problem = path_prefix_error(prefix)
    assert problem and "/" in problem
