"""What issuing a certificate needs from a certificate authority, whichever it is.

The real one is ACME (`acme_authority.AcmeAuthority`): any RFC 8555 directory, Let's Encrypt by
default; tests run it against Pebble, a local ACME test CA. HTTP-01 answers are handed to `publish`,
which puts them in the edge proxy's config (edge.protocol.Challenges) before the CA is told to look.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Issued:
    chain_pem: str  # leaf first
    key_pem: str  # PKCS#8, unencrypted


Publish = Callable[[Mapping[str, str]], None]  # token -> key authorization; {} when done


class IssuanceFailed(Exception):
    """An attempt failed; `phase` says where (account, order, challenge, finalize, revoke)."""

    def __init__(self, code: str, phase: str, message: str, *, retriable: bool) -> None:
        super().__init__(message)
        self.code, self.phase, self.message, self.retriable = code, phase, message, retriable


class CertificateAuthority(Protocol):
    provider_key: str

    def issue(self, domain: str, publish: Publish) -> Issued:
        """Prove control of `domain` by HTTP-01 (answers served through `publish`) and get a certificate."""
        ...

    def revoke(self, chain_pem: str) -> None:
        """Tell the authority the certificate must not be trusted any more."""
        ...
