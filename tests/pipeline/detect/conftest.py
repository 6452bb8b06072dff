"""`make_app` writes a small app folder (relative path -> text, dedented) under tmp_path."""

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

MakeApp = Callable[..., Path]


@pytest.fixture
def make_app(tmp_path: Path) -> MakeApp:
    def make(files: dict[str, str], name: str = "app") -> Path:
        root = tmp_path / name
        root.mkdir(parents=True, exist_ok=True)
        for rel, text in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).lstrip("\n"))
        return root

    return make
