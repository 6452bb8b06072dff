"""Connectivity probes against a real sshd on loopback, and the egress allowlist."""

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockyard.probes import connectivity

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


def test_reachable_sshd_passes_with_its_banner(sshd: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKYARD_PROBE_ALLOW", "127.0.0.0/8")
    checks = connectivity.check_remote("127.0.0.1", sshd)
    assert [c.status for c in checks] == ["passed", "passed"]
    assert checks[1].metadata["banner"].startswith("SSH-2.0-OpenSSH")
    assert connectivity.overall(checks) == "healthy"


def test_closed_port_is_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKYARD_PROBE_ALLOW", "127.0.0.0/8")
    checks = connectivity.check_remote("127.0.0.1", free_port())
    assert checks[-1].status == "failed"
    assert "refused" in checks[-1].message.lower()
    assert connectivity.overall(checks) == "unreachable"


def test_port_without_ssh_banner_is_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKYARD_PROBE_ALLOW", "127.0.0.0/8")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        monkeypatch.setattr(connectivity, "CONNECT_TIMEOUT_S", 0.3)
        checks = connectivity.check_remote("127.0.0.1", port)
    assert checks[-1].status == "warning"
    assert connectivity.overall(checks) == "degraded"


@pytest.mark.parametrize("host", ["10.1.2.3", "203.0.113.9", "example.com"])
def test_allowlist_refuses_other_addresses_and_names_before_any_traffic(
    host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKYARD_PROBE_ALLOW", "127.0.0.0/8,::1/128")

    def no_network(*_: object, **__: object) -> None:
        raise AssertionError("a refused probe must not touch the network")

    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    checks = connectivity.check_remote(host, 22)
    assert [(c.name, c.status) for c in checks] == [("egress-policy", "failed")]


def test_local_checks_report_host_and_disk(tmp_path: Path) -> None:
    checks = connectivity.check_local(tmp_path)
    assert [c.name for c in checks] == ["local-host", "disk-space"]
    assert checks[1].metadata["freeBytes"].isdigit()
