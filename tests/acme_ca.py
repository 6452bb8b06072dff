"""A local ACME certificate authority for tests: Pebble (Let's Encrypt's ACME test server) with its
DNS companion, pebble-challtestsrv, answering every name with 127.0.0.1 — so HTTP-01 validation
reaches the edge proxy under test on `http_port`. No public CA, no public DNS."""

import json
import shutil
import socket
import ssl
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from cryptography import x509

from certs import self_signed
from polling import poll


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class AcmeCA:
    directory_url: str
    ca_bundle: str  # trusts Pebble's own HTTPS listener
    management_url: str
    dns_management_url: str  # pebble-challtestsrv's

    def servfail(self, domain: str, failing: bool = True) -> None:
        """Make DNS lookups of `domain` fail (SERVFAIL) for the CA, or work again."""
        path = "set-servfail" if failing else "clear-servfail"
        httpx.post(f"{self.dns_management_url}/{path}", json={"host": domain + "."}).raise_for_status()

    def root_pem(self) -> str:
        """Pebble's issuing root (made anew at every start): what the issued chains lead to."""
        return httpx.get(f"{self.management_url}/roots/0", verify=self.tls()).text

    def status_of(self, chain_pem: str) -> str:
        """What the CA says of the chain's leaf: "Valid" or "Revoked" (Pebble's management API)."""

        serial = x509.load_pem_x509_certificates(chain_pem.encode())[0].serial_number
        answer = httpx.get(f"{self.management_url}/cert-status-by-serial/{serial:x}", verify=self.tls())
        answer.raise_for_status()
        return answer.json()["Status"]

    def tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_bundle)

    def env(self) -> dict[str, str]:
        return {"DOCKYARD_ACME_DIRECTORY_URL": self.directory_url, "DOCKYARD_ACME_CA_BUNDLE": self.ca_bundle}


def pebble_missing() -> str | None:
    missing = [b for b in ("pebble", "pebble-challtestsrv") if shutil.which(b) is None]
    return f"{', '.join(missing)} not installed (apt install pebble)" if missing else None


@contextmanager
def pebble(http_port: int) -> Iterator[AcmeCA]:
    """Start Pebble validating HTTP-01 on 127.0.0.1:`http_port`; stop it on exit."""
    with tempfile.TemporaryDirectory(prefix="dockyard-pebble-") as tmp:
        root = Path(tmp)
        tls = self_signed("localhost", days=(-1, 2))
        (root / "cert.pem").write_text(tls.chain)
        (root / "key.pem").write_text(tls.key)
        acme_port, mgmt_port, dns_mgmt_port = free_port(), free_port(), free_port()
        dns_port = free_port(socket.SOCK_DGRAM)
        config = {
            "pebble": {
                "listenAddress": f"127.0.0.1:{acme_port}",
                "managementListenAddress": f"127.0.0.1:{mgmt_port}",
                "certificate": str(root / "cert.pem"),
                "privateKey": str(root / "key.pem"),
                "httpPort": http_port,
                "tlsPort": free_port(),
                "ocspResponderURL": "",
                "externalAccountBindingRequired": False,
            }
        }
        (root / "pebble.json").write_text(json.dumps(config))
        env = {"PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0", "PATH": "/usr/bin:/bin"}
        log = (root / "log").open("wb")
        dns = subprocess.Popen(
            [
                "pebble-challtestsrv",
                "-defaultIPv4",
                "127.0.0.1",
                "-defaultIPv6",
                "",
                "-dns01",
                f"127.0.0.1:{dns_port}",
                "-http01",
                "",
                "-https01",
                "",
                "-tlsalpn01",
                "",
                "-management",
                f"127.0.0.1:{dns_mgmt_port}",
            ],
            stdout=log,
            stderr=log,
        )
        ca = subprocess.Popen(
            ["pebble", "-config", str(root / "pebble.json"), "-dnsserver", f"127.0.0.1:{dns_port}"],
            stdout=log,
            stderr=log,
            env=env,
        )
        bundle = str(root / "cert.pem")
        url = f"https://localhost:{acme_port}/dir"

        def answers() -> bool:
            if ca.poll() is not None:
                raise AssertionError("pebble exited: " + (root / "log").read_text()[-2000:])
            try:
                directory = httpx.get(url, verify=ssl.create_default_context(cafile=bundle), timeout=1)
                httpx.get(f"http://127.0.0.1:{dns_mgmt_port}/")  # any answer: it listens
            except httpx.HTTPError:
                return False
            return directory.is_success

        try:
            poll(answers, "pebble to answer", 20)
            yield AcmeCA(url, bundle, f"https://localhost:{mgmt_port}", f"http://127.0.0.1:{dns_mgmt_port}")
        finally:
            for proc in (ca, dns):
                proc.terminate()
                proc.wait(10)
            log.close()
