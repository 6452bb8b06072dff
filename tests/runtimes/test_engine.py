"""The installation id that labels what Dockyard makes on a container engine several may share."""

from pathlib import Path

import pytest

from dockyard.runtimes.engine import installation_id, managed_labels


def test_an_installation_id_is_made_once_per_data_dir_and_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DOCKYARD_INSTALLATION_ID", raising=False)
    first = installation_id(tmp_path / "one")
    assert first and installation_id(tmp_path / "one") == first
    assert (tmp_path / "one" / "installation.id").read_text().strip() == first
    assert installation_id(tmp_path / "two") != first  # another data dir is another installation
    assert managed_labels(tmp_path / "one") == {
        "dockyard.managed-by": "dockyard",
        "dockyard.installation": first,
    }


def test_an_explicit_installation_id_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKYARD_INSTALLATION_ID", "shop-replicas")
    assert installation_id(tmp_path) == "shop-replicas" and not (tmp_path / "installation.id").exists()
    assert managed_labels(None)["dockyard.installation"] == "shop-replicas"
