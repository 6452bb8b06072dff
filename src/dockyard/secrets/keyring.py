"""Encryption at rest: AES-256-GCM with the control plane's key.

The key comes from `DOCKYARD_SECRET_KEY` (32 bytes, base64 or hex) or from `secret.key` in the data
dir, created (0600) on first start. The key file holds one key per line, the current one first;
older keys stay in it only while a rotation re-encrypts the values they sealed. With the key in the
environment, a rotation re-encrypts with the new `DOCKYARD_SECRET_KEY` whatever was sealed with a
key listed in `DOCKYARD_SECRET_KEY_PREVIOUS` (comma-separated).

A sealed value reads `v1:<key id>:<base64 of nonce + ciphertext>`; the key id says which key opens
it, and the value's own id is bound in as associated data, so ciphertext moved to another row does
not open.
"""

import base64
import binascii
import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dockyard.config import Settings
from dockyard.domain.errors import Conflict, DockyardError
from dockyard.secrets.files import write_private

ENV_KEY = "DOCKYARD_SECRET_KEY"
ENV_PREVIOUS = "DOCKYARD_SECRET_KEY_PREVIOUS"
KEY_FILE = "secret.key"
KEY_BYTES = 32
VERSION = "v1"

_LOCK = threading.RLock()
_CACHE: dict[tuple[str, str, str], "Keyring"] = {}


class KeyUnavailable(DockyardError):
    status = 500
    code = "secret_key_unavailable"


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"dockyard-secret-key:" + key).hexdigest()[:12]


def _decode_key(text: str, where: str) -> bytes:
    text = text.strip()
    for decode in (bytes.fromhex, lambda t: base64.b64decode(t, validate=True), base64.urlsafe_b64decode):
        try:
            key = decode(text)
        except (ValueError, binascii.Error):
            continue
        if len(key) == KEY_BYTES:
            return key
    raise KeyUnavailable(
        f"The secret key in {where} is not {KEY_BYTES} bytes in base64 or hex.",
        next_action="Generate one: openssl rand -base64 32",
    )


def _encode_key(key: bytes) -> str:
    return base64.b64encode(key).decode()


@dataclass(frozen=True)
class Keyring:
    current: bytes
    previous: tuple[bytes, ...] = ()
    source: Literal["file", "environment"] = "file"

    @property
    def current_id(self) -> str:
        return key_id(self.current)

    @property
    def previous_ids(self) -> list[str]:
        return [key_id(k) for k in self.previous]

    def encrypt(self, plaintext: str, bound_to: str) -> str:
        # imported on first use: OpenSSL's bindings are ~6.5 MB resident, and an idle control plane
        # seals and opens nothing
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        nonce = os.urandom(12)
        sealed = AESGCM(self.current).encrypt(nonce, plaintext.encode(), bound_to.encode())
        return f"{VERSION}:{self.current_id}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str, bound_to: str) -> str:
        version, kid, body = ([*token.split(":", 2), "", ""])[:3]
        keys = {key_id(k): k for k in (self.current, *self.previous)}
        if version != VERSION or kid not in keys:
            raise Conflict(
                f"A stored secret was sealed with key {kid or '?'}, which this control plane does not have.",
                code="secret_key_unknown",
                details={"keyId": kid, "currentKeyId": self.current_id},
                next_action=f"Start the control plane with that key ({ENV_PREVIOUS}, or back in {KEY_FILE}).",
            )
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        raw = base64.b64decode(body)
        try:
            return AESGCM(keys[kid]).decrypt(raw[:12], raw[12:], bound_to.encode()).decode()
        except InvalidTag:
            raise Conflict(
                "A stored secret does not decrypt: it was altered or moved.",
                code="secret_corrupt",
                details={"keyId": kid},
                next_action="Set that secret again.",
            ) from None

    @staticmethod
    def sealed_with(token: str) -> str:
        return token.split(":", 2)[1] if token.count(":") >= 2 else ""


def _file(data_dir: Path) -> Path:
    return Path(data_dir) / KEY_FILE


def _write_keys(path: Path, keys: list[bytes]) -> None:
    write_private(path, "".join(_encode_key(k) + "\n" for k in keys))


def _load(data_dir: Path) -> Keyring:
    if os.environ.get(ENV_KEY):
        previous = [p for p in os.environ.get(ENV_PREVIOUS, "").split(",") if p.strip()]
        return Keyring(
            _decode_key(os.environ[ENV_KEY], ENV_KEY),
            tuple(_decode_key(p, ENV_PREVIOUS) for p in previous),
            "environment",
        )
    path = _file(data_dir)
    if not path.exists():
        _write_keys(path, [os.urandom(KEY_BYTES)])
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    if not lines:
        raise KeyUnavailable(f"{path} is empty.", next_action=f"Restore it from a backup, or set {ENV_KEY}.")
    keys = [_decode_key(line, str(path)) for line in lines]
    return Keyring(keys[0], tuple(keys[1:]), "file")


def _cache_key(data_dir: Path) -> tuple[str, str, str]:
    return str(data_dir), os.environ.get(ENV_KEY, ""), os.environ.get(ENV_PREVIOUS, "")


def for_settings(settings: Settings) -> Keyring:
    """The control plane's keyring; the key file is created on first use."""
    return for_data_dir(settings.data_dir)


def for_data_dir(data_dir: Path) -> Keyring:
    cache_key = _cache_key(data_dir)
    with _LOCK:
        ring = _CACHE.get(cache_key)
        if ring is None:
            ring = _CACHE[cache_key] = _load(Path(data_dir))
        return ring


def begin_rotation(settings: Settings) -> Keyring:
    """A keyring whose current key is new (file keys), keeping the old ones until `finish_rotation`."""
    with _LOCK:
        ring = for_settings(settings)
        if ring.source == "environment":
            return ring
        rotated = Keyring(os.urandom(KEY_BYTES), (ring.current, *ring.previous), "file")
        _write_keys(_file(settings.data_dir), [rotated.current, *rotated.previous])
        _CACHE[_cache_key(settings.data_dir)] = rotated
        return rotated


def finish_rotation(settings: Settings) -> None:
    """Every value is sealed with the current key: older keys leave the key file."""
    with _LOCK:
        ring = for_settings(settings)
        if ring.source == "file" and ring.previous:
            _write_keys(_file(settings.data_dir), [ring.current])
            _CACHE[_cache_key(settings.data_dir)] = Keyring(ring.current, (), "file")
