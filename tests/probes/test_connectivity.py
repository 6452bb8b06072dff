"""Connectivity probes against a real sshd on loopback, under the egress policy."""

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockyard.domain import dns
from dockyard.domain.egress import EgressPolicy, policy_from
from dockyard.probes import connectivity

LOOPBACK = policy_from({"DOCKYARD_PROBE_ALLOW": "127.0.0.0/8,::1/128"}, [])

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[int]:
    if not Path(SSHD).exists():
        pytest.skip("OpenSSH server not installed (make test installs it when run as root)")
    key = tmp_path / "host_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    Path("/run/sshd").mkdir(exist_ok=True)
    port = free_port()
    proc = subprocess.Popen(
        [
            SSHD,
            "-D",
            "-e",
            "-f",
            "/dev/null",
            "-h",
            str(key),
            "-p",
            str(port),
            "-o",
            "ListenAddress=127.0.0.1",
            "-o",
            "PidFile=none",
        ],
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"sshd did not start: {proc.stderr.read().decode()}")  # type: ignore[union-attr]
            time.sleep(0.05)
    yield port
    proc.terminate()
    proc.wait(timeout=10)


def test_reachable_sshd_passes_with_its_banner(sshd: int) -> None:
    checks = connectivity.check_remote(LOOPBACK, "127.0.0.1", sshd)
    assert [c.status for c in checks] == ["passed", "passed"]
    assert checks[1].metadata["banner"].startswith("SSH-2.0-OpenSSH")
    assert connectivity.overall(checks) == "healthy"


def test_closed_port_is_unreachable() -> None:
    checks = connectivity.check_remote(LOOPBACK, "127.0.0.1", free_port())
    assert checks[-1].status == "failed"
    assert "refused" in checks[-1].message.lower()
    assert connectivity.overall(checks) == "unreachable"


def test_port_without_ssh_banner_is_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        monkeypatch.setattr(connectivity, "CONNECT_TIMEOUT_S", 0.3)
        checks = connectivity.check_remote(LOOPBACK, "127.0.0.1", port)
    assert checks[-1].status == "warning"
    assert connectivity.overall(checks) == "degraded"


class FakeDns:
    def __init__(self, records: dict[str, list[str]]) -> None:
        self.records = records

    def resolve(self, name: str) -> list[str]:
        return list(self.records.get(name, []))


@pytest.mark.parametrize(
    ("host", "policy"),
    [
        ("10.1.2.3", LOOPBACK),
        ("203.0.113.9", LOOPBACK),
        ("example.com", LOOPBACK),  # resolves to 203.0.113.9
        ("169.254.169.254", policy_from({}, [])),
        ("metadata.example.com", policy_from({}, [])),  # resolves to 169.254.169.254
        ("127.0.0.1", policy_from({}, [])),  # loopback without an allow list
    ],
)
def test_the_egress_policy_refuses_before_any_connection(
    host: str, policy: EgressPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_network(*_: object, **__: object) -> None:
        raise AssertionError("a refused probe must not connect anywhere")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)  # names go through the resolver below
    records = {"example.com": ["203.0.113.9"], "metadata.example.com": ["169.254.169.254"]}
    with dns.use_resolver(FakeDns(records)):
        checks = connectivity.check_remote(policy, host, 22)
    assert [(c.name, c.status) for c in checks] == [("egress-policy", "failed")]
    assert "refused" in checks[0].message


def test_a_name_that_does_not_resolve_fails_the_dns_check() -> None:
    with dns.use_resolver(FakeDns({})):
        checks = connectivity.check_remote(LOOPBACK, "nowhere.example.com", 22)
    assert [(c.name, c.status) for c in checks] == [("dns-resolve", "failed"), ("tcp-connect", "skipped")]


def test_local_checks_report_host_disk_and_how_stable_ports_are_served(tmp_path: Path) -> None:
    checks = connectivity.check_local(tmp_path)
    assert [c.name for c in checks] == ["local-host", "disk-space", "stable-port"]
    assert checks[1].metadata["freeBytes"].isdigit()
    assert checks[2].metadata["mechanism"] in ("kernel-redirect", "forwarder")


def test_the_python_forwarder_is_a_warning_that_says_why_and_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKYARD_STABLE_PORT", "forwarder")
    stable = connectivity.check_local(tmp_path)[2]
    assert (stable.status, stable.metadata["mechanism"]) == ("warning", "forwarder")
    assert "DOCKYARD_STABLE_PORT" in stable.message and "nftables" in stable.message
