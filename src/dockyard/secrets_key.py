"""The at-rest encryption key and AES-GCM sealing of small secrets (provider config, registry passwords).

The key is `DOCKYARD_SECRET_KEY` (base64 of 32 bytes) when set, else `<data_dir>/secret.key`, created
0600 on first use. A sealed value is `v1:` + base64(nonce || ciphertext+tag); `aad` binds it to the
row it belongs to, so a ciphertext copied to another row does not open.
"""

import base64
import os
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ENV = "DOCKYARD_SECRET_KEY"
PREFIX = "v1:"


class SecretKeyError(RuntimeError):
    """The key is missing, malformed, or does not open a sealed value."""


def key_path(data_dir: Path) -> Path:
    return data_dir / "secret.key"


def load_key(data_dir: Path) -> bytes:
    explicit = os.environ.get(ENV)
    if explicit:
        try:
            key = base64.b64decode(explicit, validate=True)
        except ValueError as exc:
            raise SecretKeyError(f"{ENV} is not base64") from exc
        if len(key) != 32:
            raise SecretKeyError(f"{ENV} must be 32 bytes (base64), got {len(key)}")
        return key
    path = key_path(data_dir)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(base64.b64encode(AESGCM.generate_key(bit_length=256)))
    key = base64.b64decode(path.read_bytes().strip())
    if len(key) != 32:
        raise SecretKeyError(f"{path} does not hold a 32-byte base64 key")
    return key


def seal(data_dir: Path, plaintext: str, aad: str) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(load_key(data_dir)).encrypt(nonce, plaintext.encode(), aad.encode())
    return PREFIX + base64.b64encode(nonce + sealed).decode()


def open_sealed(data_dir: Path, value: str, aad: str) -> str:
    if not value.startswith(PREFIX):
        raise SecretKeyError("not a sealed value")
    raw = base64.b64decode(value[len(PREFIX) :])
    try:
        return AESGCM(load_key(data_dir)).decrypt(raw[:12], raw[12:], aad.encode()).decode()
    except Exception as exc:  # InvalidTag: another key, or a value moved between rows
        raise SecretKeyError("the sealed value does not open with this key") from exc
