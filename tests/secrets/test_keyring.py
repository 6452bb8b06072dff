"""AES-GCM at rest: the key file, the environment key, sealing and rotation."""

import base64
import os
import stat
from pathlib import Path

import pytest

from dockyard.config import Settings
from dockyard.domain.errors import DockyardError
from dockyard.secrets import keyring


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.delenv(keyring.ENV_KEY, raising=False)
    monkeypatch.delenv(keyring.ENV_PREVIOUS, raising=False)
    return Settings(data_dir=tmp_path, database_url="sqlite://")


def test_the_key_file_is_created_on_first_use_readable_by_its_owner_only(settings: Settings) -> None:
    ring = keyring.for_settings(settings)
    path = settings.data_dir / keyring.KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ring.source == "file" and len(ring.current) == 32


def test_sealed_values_hide_the_plaintext_and_open_only_for_their_own_row(settings: Settings) -> None:
    ring = keyring.for_settings(settings)
    token = ring.encrypt("canary-plaintext", "sev_1")
    assert "canary" not in token and token.startswith(f"v1:{ring.current_id}:")
    assert ring.decrypt(token, "sev_1") == "canary-plaintext"
    with pytest.raises(DockyardError) as caught:
        ring.decrypt(token, "sev_2")  # ciphertext copied to another row
    assert caught.value.code == "secret_corrupt"


def test_rotation_keeps_the_old_key_until_finished(settings: Settings) -> None:
    old = keyring.for_settings(settings)
    sealed = old.encrypt("v", "sev_1")
    new = keyring.begin_rotation(settings)
    assert new.current_id != old.current_id and new.decrypt(sealed, "sev_1") == "v"
    keyring.finish_rotation(settings)
    reloaded = keyring._load(settings.data_dir)
    assert reloaded.current_id == new.current_id and reloaded.previous == ()
    with pytest.raises(DockyardError) as caught:
        reloaded.decrypt(sealed, "sev_1")
    assert caught.value.code == "secret_key_unknown"


def test_the_environment_key_wins_and_a_bad_one_is_refused(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = os.urandom(32)
    monkeypatch.setenv(keyring.ENV_KEY, base64.b64encode(key).decode())
    ring = keyring.for_settings(settings)
    assert ring.source == "environment" and ring.current == key
    assert not (settings.data_dir / keyring.KEY_FILE).exists()
    monkeypatch.setenv(keyring.ENV_KEY, "too-short")
    with pytest.raises(DockyardError) as caught:
        keyring.for_settings(settings)
    assert caught.value.code == "secret_key_unavailable"
