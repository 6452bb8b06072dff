"""A build's outputs are kept per source, commands, dependencies and build-time variables."""

import os
from pathlib import Path

from dockyard.pipeline import build_cache
from dockyard.pipeline.build_cache import Inputs

INPUTS = Inputs("npm ci", "npm run build", "/cache/node/abc/node_modules", {"API_URL": "https://x"})


def workspace(tmp_path: Path, name: str, page: str = "<h1>shop</h1>") -> Path:
    work = tmp_path / name
    (work / "src").mkdir(parents=True)
    (work / "src" / "page.html").write_text(page)
    (work / "package.json").write_text("{}")
    return work


def built(work: Path) -> None:
    """What a build does: writes its output folder."""
    (work / "dist").mkdir()
    (work / "dist" / "index.html").write_text((work / "src" / "page.html").read_text() + "<!-- built -->")


def test_the_same_source_gets_the_kept_output_back(tmp_path: Path) -> None:
    first = workspace(tmp_path, "dep_1")
    key = build_cache.key(first, INPUTS)
    before = build_cache.listing(first)
    built(first)
    assert build_cache.keep(tmp_path / "cache", key, first, before, "dep_1") == 1
    again = workspace(tmp_path, "dep_2")
    assert build_cache.key(again, INPUTS) == key
    assert build_cache.restore(tmp_path / "cache", key, again) == "dep_1"
    assert (again / "dist" / "index.html").read_text() == "<h1>shop</h1><!-- built -->"


def test_a_changed_file_command_dependency_or_variable_is_another_build(tmp_path: Path) -> None:
    work = workspace(tmp_path, "dep_1")
    key = build_cache.key(work, INPUTS)
    assert build_cache.key(workspace(tmp_path, "dep_2", "<h1>new</h1>"), INPUTS) != key
    changed = [
        Inputs("npm ci", "npm run build:prod", INPUTS.dependencies, INPUTS.variables),
        Inputs("npm ci", "npm run build", "/cache/node/def/node_modules", INPUTS.variables),
        Inputs("npm ci", "npm run build", INPUTS.dependencies, {"API_URL": "https://y"}),
    ]
    assert all(build_cache.key(work, other) != key for other in changed)
    os.chmod(work / "src" / "page.html", 0o755)
    assert build_cache.key(work, INPUTS) != key, "a file made executable"


def test_dependency_folders_are_not_part_of_the_source(tmp_path: Path) -> None:
    work = workspace(tmp_path, "dep_1")
    key = build_cache.key(work, INPUTS)
    (tmp_path / "shared-install").mkdir()
    os.symlink(tmp_path / "shared-install", work / "node_modules")
    (work / "__pycache__").mkdir()
    (work / "__pycache__" / "x.pyc").write_bytes(b"\0")
    assert build_cache.key(work, INPUTS) == key


def test_nothing_kept_is_nothing_restored_and_old_entries_go(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert build_cache.restore(cache, "0" * 32, workspace(tmp_path, "dep_0")) is None
    for n in range(build_cache.KEPT_BUILDS + 2):
        work = workspace(tmp_path, f"dep_{n + 1}", f"<p>{n}</p>")
        before = build_cache.listing(work)
        built(work)
        build_cache.keep(cache, build_cache.key(work, INPUTS), work, before, f"dep_{n + 1}")
    assert len(list((cache / "builds").iterdir())) == build_cache.KEPT_BUILDS
