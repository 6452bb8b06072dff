"""Precedence between detectors, the folder rules, and what an empty or unknown folder says."""

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from dockyard.pipeline.detect import Evidence, detect

MakeApp = Callable[..., Path]
FASTAPI = {
    "requirements.txt": "fastapi\nuvicorn\n",
    "main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
}


def test_a_missing_path_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        detect(tmp_path / "nope")


def test_a_file_path_raises_not_a_directory(tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(NotADirectoryError):
        detect(tmp_path / "file.txt")


@pytest.mark.parametrize("files", [{}, {"notes.txt": "just notes", "data/rows.csv": "a,b\n"}])
def test_nothing_detected_says_what_was_looked_for(make_app: MakeApp, files: dict[str, str]) -> None:
    evidence = detect(make_app(files))
    assert evidence == Evidence(warnings=evidence.warnings, entry_profile=evidence.entry_profile)
    assert evidence.entry_profile is not None and set(evidence.entry_profile.values()) == {None}
    [warning] = evidence.warnings
    looked_for = (
        "index.html, requirements.txt, pyproject.toml, package.json, Procfile, Dockerfile or dockyard.yml"
    )
    assert f"no {looked_for} found" in warning


def test_a_python_server_wins_over_an_index_html(make_app: MakeApp) -> None:
    evidence = detect(make_app({**FASTAPI, "index.html": "<h1>docs</h1>"}))
    assert evidence.runtime_family == "python"
    assert evidence.publish_directory is None
    assert "index.html" not in evidence.detected_files


def test_a_front_end_build_wins_over_its_own_index_html(make_app: MakeApp) -> None:
    pkg = {"scripts": {"dev": "vite", "build": "vite build"}, "devDependencies": {"vite": "5"}}
    evidence = detect(make_app({"package.json": json.dumps(pkg), "index.html": "<div id=app></div>"}))
    assert (evidence.runtime_family, evidence.publish_directory) == ("node", "dist")
    assert evidence.build_command == "npm run build"


def test_a_static_site_with_tooling_files_is_still_a_static_site(make_app: MakeApp) -> None:
    app = make_app(
        {
            "index.html": "<h1>hi</h1>",
            "package.json": json.dumps(
                {"scripts": {"lint": "prettier -c ."}, "devDependencies": {"prettier": "3"}}
            ),
            "pyproject.toml": "[tool.ruff]\nline-length = 100\n",
        }
    )
    evidence = detect(app)
    assert (evidence.runtime_family, evidence.publish_directory) == ("static", ".")
    assert evidence.warnings == ()
    assert any("package.json found but nothing to start" in line for line in evidence.reasoning)


def test_a_static_site_wins_over_a_python_script_that_serves_nothing(make_app: MakeApp) -> None:
    script = 'if __name__ == "__main__":\n    print("regenerating the site")\n'
    evidence = detect(
        make_app({"index.html": "<h1>hi</h1>", "requirements.txt": "jinja2\n", "main.py": script})
    )
    assert (evidence.runtime_family, evidence.publish_directory) == ("static", ".")


def test_a_python_framework_wins_over_a_plain_node_server_with_a_warning(make_app: MakeApp) -> None:
    pkg = {"scripts": {"start": "node tools/mock.js"}}
    evidence = detect(make_app({**FASTAPI, "package.json": json.dumps(pkg)}))
    assert evidence.runtime_family == "python"
    assert any("both a Python and a Node app" in w for w in evidence.warnings)


def test_a_python_app_with_front_end_assets_says_the_build_is_not_run(make_app: MakeApp) -> None:
    pkg = {"scripts": {"build": "webpack"}, "devDependencies": {"webpack": "5"}}
    evidence = detect(make_app({**FASTAPI, "package.json": json.dumps(pkg)}))
    assert evidence.runtime_family == "python"
    assert evidence.build_command is None
    assert any("build script" in w and "not run" in w for w in evidence.warnings)


def test_dependency_and_vcs_folders_are_not_evidence(make_app: MakeApp) -> None:
    app_py = "from fastapi import FastAPI\napp = FastAPI()\n"
    evidence = detect(
        make_app(
            {
                "venv/main.py": app_py,
                ".venv/app/main.py": app_py,
                "node_modules/app/main.py": app_py,
                ".git/index.html": "x",
            }
        )
    )
    assert evidence.runtime_family is None


def test_files_over_one_mib_are_not_read(make_app: MakeApp) -> None:
    big = "from fastapi import FastAPI\napp = FastAPI()\n" + "#" * (1 << 20)
    evidence = detect(make_app({"requirements.txt": "fastapi\nuvicorn\n", "main.py": big}))
    assert evidence.start_command is None
    assert "main.py is larger than 1 MiB and was not read" in evidence.warnings


def test_requirements_linked_from_outside_the_folder_are_not_read(make_app: MakeApp, tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("flask\n")
    app = make_app({"notes.txt": "x"})
    (app / "requirements.txt").symlink_to(outside)
    assert detect(app).framework is None


def test_detection_leaves_the_folder_untouched(make_app: MakeApp) -> None:
    app = make_app(
        {**FASTAPI, "Procfile": "web: uvicorn main:app --port $PORT\n", "dockyard.yml": "port: 9000\n"}
    )
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in app.rglob("*")}
    detect(app)
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in app.rglob("*")} == before
    assert not any(p.name == "__pycache__" for p in app.rglob("*"))


def test_a_procfile_server_with_a_health_path_from_the_manifest(make_app: MakeApp) -> None:
    server = """
        import os
        from http.server import HTTPServer
        HTTPServer(("127.0.0.1", int(os.environ["PORT"])), None).serve_forever()
        """
    app = make_app(
        {"Procfile": "web: python server.py\n", "dockyard.yml": "health: /health\n", "server.py": server}
    )
    evidence = detect(app)
    assert (evidence.runtime_family, evidence.start_command) == ("custom", "python server.py")
    assert evidence.health_path == "/health"
    assert evidence.detected_files == ("Procfile", "dockyard.yml")


def test_the_inspection_document_uses_the_api_names(make_app: MakeApp) -> None:
    pkg = {"name": "shop", "scripts": {"start": "node server.js", "build": "tsc"}, "engines": {"node": "20"}}
    app = make_app({"package.json": json.dumps(pkg), "yarn.lock": "", "Dockerfile": "FROM node\n"})
    assert detect(app).to_inspection() == {
        "runtimeFamily": "node",
        "framework": "node-http",
        "packageManager": "yarn",
        "applicationShape": "web-server",
        "runtimeVersion": "20",
        "projectName": "shop",
        "detectedFiles": ["Dockerfile", "package.json", "yarn.lock"],
        "detectedScripts": ["build", "start"],
        "dockerfilePath": "Dockerfile",
        "composeFilePath": None,
        "jarPath": None,
    }


@pytest.mark.parametrize(
    ("example", "family", "start"),
    [
        ("hello-python", "python", "python -m uvicorn main:app --host ${HOST:-127.0.0.1} --port $PORT"),
        ("hello-node", "node", "node server.js"),
        ("hello-static", "static", None),
    ],
)
def test_the_bundled_examples_are_detected(family: str, example: str, start: str | None) -> None:
    folder = Path(__file__).resolve().parents[3] / "examples" / example
    if not folder.is_dir():
        pytest.skip(f"{folder} is not in this checkout")
    evidence = detect(folder)
    assert (evidence.runtime_family, evidence.start_command) == (family, start)
    assert evidence.warnings == ()


def test_an_unreadable_symlink_loop_is_ignored(make_app: MakeApp) -> None:
    app = make_app({"index.html": "hi"})
    os.symlink(app / "loop", app / "loop")
    (app / "package.json").symlink_to(app / "loop")
    assert detect(app).runtime_family == "static"
