import base64
import os
import stat
from pathlib import Path

import pytest

from dockyard import secrets_key


def test_the_key_file_is_created_0600_and_seals_and_opens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(secrets_key.ENV, raising=False)
    sealed = secrets_key.seal(tmp_path, "hunter2", "pcf_1")
    assert "hunter2" not in sealed and sealed.startswith("v1:")
    assert stat.S_IMODE(os.stat(tmp_path / "secret.key").st_mode) == 0o600
    assert secrets_key.open_sealed(tmp_path, sealed, "pcf_1") == "hunter2"
    assert secrets_key.seal(tmp_path, "hunter2", "pcf_1") != sealed  # a fresh nonce every time


def test_a_sealed_value_does_not_open_for_another_row_or_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(secrets_key.ENV, raising=False)
    sealed = secrets_key.seal(tmp_path, "hunter2", "pcf_1")
    with pytest.raises(secrets_key.SecretKeyError):
        secrets_key.open_sealed(tmp_path, sealed, "pcf_2")
    monkeypatch.setenv(secrets_key.ENV, base64.b64encode(b"k" * 32).decode())
    with pytest.raises(secrets_key.SecretKeyError):
        secrets_key.open_sealed(tmp_path, sealed, "pcf_1")


def test_the_environment_key_wins_and_must_be_32_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(secrets_key.ENV, base64.b64encode(b"k" * 32).decode())
    sealed = secrets_key.seal(tmp_path, "v", "x")
    assert not (tmp_path / "secret.key").exists()
    assert secrets_key.open_sealed(tmp_path, sealed, "x") == "v"
    monkeypatch.setenv(secrets_key.ENV, base64.b64encode(b"short").decode())
    with pytest.raises(secrets_key.SecretKeyError):
        secrets_key.seal(tmp_path, "v", "x")
