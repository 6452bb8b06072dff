"""Imported TLS certificates: parse and check a PEM chain and its private key, and keep them on disk.

The private key never reaches the database or any answer: it lives in
`<data_dir>/certificates/<certificate id>/privkey.pem` (0600, directory 0700), next to
`fullchain.pem`; the store keeps metadata only. Error messages never quote the key.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from dockyard.domain.errors import Invalid

# cryptography is imported where a certificate is read: its OpenSSL bindings are ~8 MB resident, and
# a control plane that imports none keeps none
if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

CHAIN_FILE = "fullchain.pem"
KEY_FILE = "privkey.pem"


@dataclass(frozen=True)
class CheckedCertificate:
    chain_pem: bytes  # re-serialized, leaf first
    key_pem: bytes  # PKCS#8, unencrypted (the edge reads it at start/reload)
    fingerprint: str  # SHA-256 of the leaf (DER), upper-case hex with colons
    not_before: datetime
    not_after: datetime
    issuer: str  # RFC 4514
    key_algorithm: str  # RSA-2048, EC-secp256r1, Ed25519
    subject_alternative_names: list[str]


def _invalid(code: str, message: str, next_action: str, **details: object) -> Invalid:
    return Invalid(message, code=code, details=details, next_action=next_action)


def _load_chain(chain: str) -> list[x509.Certificate]:
    from cryptography import x509

    try:
        certs = x509.load_pem_x509_certificates(chain.encode())
    except ValueError:
        certs = []
    if not certs:
        raise _invalid(
            "certificate_invalid_pem",
            "certificateChain is not a PEM certificate chain.",
            "Send the PEM text: one or more -----BEGIN CERTIFICATE----- blocks, the leaf first.",
            field="certificateChain",
        )
    return certs


def _load_key(key: str) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey:
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    problem = None
    try:
        loaded = serialization.load_pem_private_key(key.encode(), password=None)
    except TypeError:
        problem = "privateKey is encrypted with a passphrase."
    except (ValueError, UnsupportedAlgorithm):  # never echo the key's text or the library's message
        problem = "privateKey is not a PEM private key."
    else:
        if isinstance(loaded, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
            return loaded
        problem = "privateKey is not an RSA, EC or Ed25519 key."
    raise _invalid(
        "private_key_invalid",
        problem,
        "Send the unencrypted PEM private key (RSA, EC or Ed25519) of the leaf certificate.",
        field="privateKey",
    )


def _algorithm(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey) -> str:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if isinstance(key, rsa.RSAPrivateKey):
        return f"RSA-{key.key_size}"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return f"EC-{key.curve.name}"
    return "Ed25519"


def _dns_names(cert: x509.Certificate) -> list[str]:
    from cryptography import x509
    from cryptography.x509.oid import ExtensionOID

    try:
        ext = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    except x509.ExtensionNotFound:
        return []
    except (ValueError, x509.DuplicateExtension, x509.UnsupportedGeneralNameType) as exc:
        raise _invalid(
            "certificate_invalid_pem",
            f"The leaf certificate's extensions cannot be read ({type(exc).__name__}).",
            "Send a well-formed X.509 certificate, as issued by your certificate authority.",
            field="certificateChain",
        ) from None
    return [name.lower() for name in ext.value.get_values_for_type(x509.DNSName)]


def covers(name: str, domain: str) -> bool:
    """A SAN DNS name covers the domain exactly, or as a wildcard of exactly one left-most label."""
    if name.startswith("*."):
        head, _, rest = domain.partition(".")
        return bool(head) and rest == name[2:]
    return name == domain


def check(chain: str, key: str, domain: str, now: datetime) -> CheckedCertificate:
    """Parse the chain and key and check they fit `domain` at `now`; raise Invalid with a stable code."""
    from cryptography.hazmat.primitives import hashes, serialization

    certs = _load_chain(chain)
    private_key = _load_key(key)
    leaf = certs[0]
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    if private_key.public_key().public_bytes(der, spki) != leaf.public_key().public_bytes(der, spki):
        raise _invalid(
            "certificate_key_mismatch",
            "privateKey does not belong to the leaf (first) certificate of certificateChain.",
            "Send the key the leaf certificate was issued for, and put the leaf first in the chain.",
            field="privateKey",
        )
    names = _dns_names(leaf)
    if not any(covers(n, domain) for n in names):
        raise _invalid(
            "certificate_domain_mismatch",
            f"The certificate does not cover {domain}: its DNS names are {', '.join(names) or 'none'}.",
            f"Use a certificate whose subjectAltName includes {domain} (or a wildcard of its parent).",
            field="certificateChain",
            domainName=domain,
            subjectAlternativeNames=names,
        )
    not_before, not_after = leaf.not_valid_before_utc, leaf.not_valid_after_utc
    if now > not_after:
        raise _invalid(
            "certificate_expired",
            f"The certificate expired at {not_after.isoformat()}.",
            "Renew the certificate with its issuer and import the new one.",
            field="certificateChain",
            notAfter=not_after.isoformat(),
        )
    if now < not_before:
        raise _invalid(
            "certificate_not_yet_valid",
            f"The certificate is not valid before {not_before.isoformat()}.",
            "Import it once it is valid, or check the issuer's and this server's clocks.",
            field="certificateChain",
            notBefore=not_before.isoformat(),
        )
    pem = serialization.Encoding.PEM
    return CheckedCertificate(
        chain_pem=b"".join(c.public_bytes(pem) for c in certs),
        key_pem=private_key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        fingerprint=leaf.fingerprint(hashes.SHA256()).hex(":").upper(),
        not_before=not_before,
        not_after=not_after,
        issuer=leaf.issuer.rfc4514_string(),
        key_algorithm=_algorithm(private_key),
        subject_alternative_names=names,
    )


def files_dir(data_dir: Path, certificate_id: str) -> Path:
    return Path(data_dir) / "certificates" / certificate_id


def write_files(data_dir: Path, certificate_id: str, checked: CheckedCertificate) -> Path:
    """Write (or replace) fullchain.pem (0644) and privkey.pem (0600) in a 0700 directory; return it."""
    root = Path(data_dir) / "certificates"
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder = files_dir(data_dir, certificate_id)
    folder.mkdir(mode=0o700, exist_ok=True)
    os.chmod(folder, 0o700)  # mkdir's mode is masked by the umask
    # A renewal replaces the files of the same certificate: each is written aside and renamed in.
    for name, data, mode in ((KEY_FILE, checked.key_pem, 0o600), (CHAIN_FILE, checked.chain_pem, 0o644)):
        aside = folder / f".{name}.new"
        fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(aside, mode)
        os.replace(aside, folder / name)
    return folder


def remove_files(data_dir: Path, certificate_id: str) -> None:
    shutil.rmtree(files_dir(data_dir, certificate_id), ignore_errors=True)
