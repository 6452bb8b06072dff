"""The egress policy, pure: settings parsed, addresses decided, refusals that say what to change."""

import pytest

from dockyard.domain.egress import (
    ALLOW_SETTING,
    DENY_SETTING,
    PROBE_ALLOW_SETTING,
    EgressPolicy,
    policy_from,
)

OWN = [("127.0.0.1", 8420)]


def refused(policy: EgressPolicy, address: str, port: int = 443, local: bool = False) -> str | None:
    refusal = policy.refusal(address, port, local=local)
    return refusal.message if refusal else None


@pytest.mark.parametrize(
    "address",
    [
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack metadata
        "169.254.10.1",  # link-local
        "fd00:ec2::254",  # EC2's IPv6 metadata
        "100.100.100.200",  # Alibaba Cloud's metadata
        "fe80::1",
        "::ffff:169.254.169.254",  # IPv4-mapped: the same address
        "127.0.0.1",
        "127.9.9.9",
        "::1",
        "0.0.0.0",  # connecting to it reaches this machine
        "::",
    ],
)
def test_by_default_metadata_link_local_and_this_machine_are_refused(address: str) -> None:
    message = refused(policy_from({}, OWN), address)
    assert message and ALLOW_SETTING in message


@pytest.mark.parametrize("address", ["203.0.113.9", "10.1.2.3", "192.168.1.20", "2001:db8::5"])
def test_by_default_other_addresses_are_allowed(address: str) -> None:
    assert refused(policy_from({}, OWN), address) is None


def test_the_refusal_is_a_value_with_a_stable_code_naming_the_address_and_the_setting() -> None:
    refusal = policy_from({}, OWN).refusal("169.254.169.254", 80)
    assert refusal is not None
    assert refusal.code == "egress_denied" and refusal.address == "169.254.169.254" and refusal.port == 80
    assert "169.254.169.254" in refusal.message and "metadata" in refusal.message
    assert refusal.setting == ALLOW_SETTING and ALLOW_SETTING in refusal.next_action


def test_an_allow_list_permits_only_its_ranges() -> None:
    policy = policy_from({ALLOW_SETTING: "10.0.0.0/8, 2001:db8::/32"}, OWN)
    assert refused(policy, "10.4.4.4") is None and refused(policy, "2001:db8::1") is None
    message = refused(policy, "203.0.113.9")
    assert message and "203.0.113.9" in message and ALLOW_SETTING in message


def test_a_narrow_allow_lifts_a_default_deny_and_a_broad_one_does_not() -> None:
    loopback = policy_from({ALLOW_SETTING: "127.0.0.0/8,::1/128"}, OWN)
    assert refused(loopback, "127.0.0.1", 5000) is None and refused(loopback, "::1", 5000) is None
    everything = policy_from({ALLOW_SETTING: "0.0.0.0/0,::/0"}, OWN)
    assert refused(everything, "203.0.113.9") is None
    assert refused(everything, "169.254.169.254") and refused(everything, "127.0.0.1")
    link_local = policy_from({ALLOW_SETTING: "169.254.0.0/16"}, OWN)
    assert refused(link_local, "169.254.10.1") is None
    assert refused(link_local, "169.254.169.254")  # the metadata address needs naming on its own
    metadata = policy_from({ALLOW_SETTING: "169.254.169.254/32"}, OWN)
    assert refused(metadata, "169.254.169.254") is None


def test_the_probe_allow_setting_is_the_same_allow_list() -> None:
    policy = policy_from({PROBE_ALLOW_SETTING: "127.0.0.0/8"}, OWN)
    assert refused(policy, "127.0.0.1", 22) is None
    message = refused(policy, "192.0.2.10", 22)
    assert message and PROBE_ALLOW_SETTING in message
    both = policy_from({PROBE_ALLOW_SETTING: "127.0.0.0/8", ALLOW_SETTING: "10.0.0.0/8"}, OWN)
    assert refused(both, "127.0.0.1") is None and refused(both, "10.0.0.1") is None


def test_a_deny_list_wins_over_the_allow_list() -> None:
    policy = policy_from({ALLOW_SETTING: "10.0.0.0/8", DENY_SETTING: "10.9.0.0/16"}, OWN)
    assert refused(policy, "10.1.0.1") is None
    message = refused(policy, "10.9.0.1")
    assert message and DENY_SETTING in message and "10.9.0.0/16" in message
    default_allow = policy_from({DENY_SETTING: "192.168.0.0/16"}, OWN)
    assert refused(default_allow, "192.168.1.1") and refused(default_allow, "10.0.0.1") is None


def test_the_control_planes_own_listener_is_never_reached_whatever_is_allowed() -> None:
    policy = policy_from({ALLOW_SETTING: "127.0.0.0/8"}, [("127.0.0.1", 8420)])
    message = refused(policy, "127.0.0.1", 8420)
    assert message and "control plane" in message
    assert refused(policy, "127.0.0.1", 8421) is None
    anywhere = policy_from({ALLOW_SETTING: "0.0.0.0/0,::/0"}, [("0.0.0.0", 9000)])
    assert refused(anywhere, "10.0.0.7", 9000, local=True)  # one of this machine's addresses
    assert refused(anywhere, "10.0.0.7", 9000, local=False) is None  # another machine's port 9000
    assert refused(anywhere, "127.0.0.1", 9000)
    assert anywhere.needs_locality(9000) and not anywhere.needs_locality(9001)
    localhost = policy_from({ALLOW_SETTING: "::1/128"}, [("localhost", 8420)])
    assert refused(localhost, "::1", 8420)


@pytest.mark.parametrize(
    ("setting", "raw"), [(ALLOW_SETTING, "10.0.0.0/8,nonsense"), (DENY_SETTING, "10.0.0.1/8")]
)
def test_a_bad_setting_is_an_error_naming_it(setting: str, raw: str) -> None:
    with pytest.raises(ValueError, match=setting):
        policy_from({setting: raw}, OWN)


def test_a_name_is_not_an_address() -> None:
    with pytest.raises(ValueError, match=r"example\.com"):
        policy_from({}, OWN).refusal("example.com", 80)
