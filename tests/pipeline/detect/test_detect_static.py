"""Static sites: which folder gets served, and what the API shows about it."""

from collections.abc import Callable
from pathlib import Path

import pytest

from dockyard.pipeline.detect import detect

MakeApp = Callable[..., Path]
PAGE = "<!doctype html><title>hi</title>"


def test_index_html_at_the_root_is_served_from_the_root(make_app: MakeApp) -> None:
    evidence = detect(make_app({"index.html": PAGE, "style.css": "body {}"}))
    assert evidence.runtime_family == "static"
    assert evidence.application_shape == "static"
    assert evidence.publish_directory == "."
    assert evidence.detected_files == ("index.html",)
    assert evidence.start_command is None and evidence.install_command is None
    assert evidence.framework is None
    assert evidence.warnings == ()
    assert any("index.html" in line for line in evidence.reasoning)


@pytest.mark.parametrize("folder", ["public", "dist", "build", "out", "_site"])
def test_a_site_in_a_conventional_folder_is_served_from_that_folder(make_app: MakeApp, folder: str) -> None:
    evidence = detect(make_app({f"{folder}/index.html": PAGE, "README.md": "my site"}))
    assert evidence.runtime_family == "static"
    assert evidence.publish_directory == folder
    assert evidence.detected_files == (f"{folder}/index.html",)


def test_the_root_index_wins_over_a_public_folder(make_app: MakeApp) -> None:
    evidence = detect(make_app({"index.html": PAGE, "public/index.html": PAGE}))
    assert evidence.publish_directory == "."


def test_a_build_folder_without_an_index_is_not_a_site(make_app: MakeApp) -> None:
    evidence = detect(make_app({"dist/app.js": "console.log(1)"}))
    assert evidence.runtime_family is None


def test_an_index_html_linked_from_outside_the_folder_is_not_served(
    make_app: MakeApp, tmp_path: Path
) -> None:
    secret = tmp_path / "elsewhere" / "index.html"
    secret.parent.mkdir()
    secret.write_text(PAGE)
    app = make_app({"notes.txt": "x"})
    (app / "index.html").symlink_to(secret)
    assert detect(app).runtime_family is None


def test_an_index_html_linked_inside_the_folder_is_served(make_app: MakeApp) -> None:
    app = make_app({"site/index.html": PAGE})
    (app / "index.html").symlink_to(app / "site" / "index.html")
    assert detect(app).publish_directory == "."


def test_the_inspection_document_describes_a_static_site(make_app: MakeApp) -> None:
    assert detect(make_app({"index.html": PAGE})).to_inspection() == {
        "runtimeFamily": "static",
        "framework": None,
        "packageManager": None,
        "applicationShape": "static",
        "runtimeVersion": None,
        "projectName": None,
        "detectedFiles": ["index.html"],
        "detectedScripts": [],
        "dockerfilePath": None,
        "composeFilePath": None,
        "jarPath": None,
    }
