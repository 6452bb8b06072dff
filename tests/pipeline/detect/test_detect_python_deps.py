"""Python dependencies, package manager and version: what gets installed and with which Python."""

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from dockyard.pipeline.detect import detect

MakeApp = Callable[..., Path]
FASTAPI_MAIN = "from fastapi import FastAPI\n\napp = FastAPI()\n"
FLASK_APP = "from flask import Flask\n\napp = Flask(__name__)\n"


def test_included_requirement_files_comments_and_markers_are_understood(make_app: MakeApp) -> None:
    app = make_app(
        {
            "requirements.txt": "# production\n-r requirements/base.txt\n--index-url https://pypi.org/simple\n",
            "requirements/base.txt": "Flask >= 3 ; python_version >= '3.9'  # web\ngunicorn==22.0\n",
            "app.py": FLASK_APP,
        }
    )
    evidence = detect(app)
    assert evidence.framework == "flask"
    assert evidence.start_command == "python -m gunicorn -b ${HOST:-127.0.0.1}:$PORT app:app"
    assert "requirements/base.txt" in evidence.detected_files


@pytest.mark.parametrize(
    ("lockfile", "manager"), [("uv.lock", "uv"), ("poetry.lock", "poetry"), ("requirements.txt", "pip")]
)
def test_the_lockfile_names_the_package_manager(make_app: MakeApp, lockfile: str, manager: str) -> None:
    pyproject = '[project]\nname = "svc"\ndependencies = ["fastapi", "uvicorn"]\n'
    files = {"pyproject.toml": pyproject, "main.py": FASTAPI_MAIN, lockfile: "fastapi\nuvicorn\n"}
    assert detect(make_app(files)).package_manager == manager


def test_poetry_only_dependencies_are_detected_and_flagged(make_app: MakeApp) -> None:
    pyproject = """
        [tool.poetry]
        name = "svc"

        [tool.poetry.dependencies]
        python = "^3.11"
        flask = "^3.0"
        """
    evidence = detect(make_app({"pyproject.toml": pyproject, "app.py": FLASK_APP}))
    assert (evidence.framework, evidence.package_manager, evidence.project_name) == ("flask", "poetry", "svc")
    assert evidence.python_requirements == "pyproject.toml"
    assert any("[tool.poetry.dependencies]" in w for w in evidence.warnings)


def test_a_broken_pyproject_is_reported_not_raised(make_app: MakeApp) -> None:
    evidence = detect(
        make_app({"pyproject.toml": "[project\nname=", "requirements.txt": "flask\n", "app.py": FLASK_APP})
    )
    assert evidence.framework == "flask"
    assert any("pyproject.toml is not valid TOML" in w for w in evidence.warnings)


RUNNING = f"{sys.version_info.major}.{sys.version_info.minor}"


@pytest.mark.parametrize(
    ("files", "version"),
    [
        ({"runtime.txt": f"python-{RUNNING}.7\n"}, f"{RUNNING}.7"),
        ({".python-version": f"{RUNNING}\n", "runtime.txt": "python-3.9.1"}, RUNNING),
    ],
)
def test_the_python_version_comes_from_version_files(
    make_app: MakeApp, files: dict[str, str], version: str
) -> None:
    evidence = detect(make_app({"requirements.txt": "fastapi\nuvicorn\n", "main.py": FASTAPI_MAIN, **files}))
    assert evidence.runtime_version == version
    assert evidence.warnings == ()


def test_asking_for_another_python_is_recorded_for_the_install_without_a_warning(make_app: MakeApp) -> None:
    evidence = detect(
        make_app(
            {"requirements.txt": "fastapi\nuvicorn\n", "main.py": FASTAPI_MAIN, ".python-version": "2.7\n"}
        )
    )
    assert evidence.runtime_version == "2.7" and ".python-version" in evidence.detected_files
    assert evidence.warnings == ()  # the install picks an interpreter, or fails saying which exist


def test_an_app_without_a_requirements_file_warns_that_nothing_is_installed(make_app: MakeApp) -> None:
    evidence = detect(make_app({"Pipfile": "[packages]\nflask = '*'\n", "app.py": FLASK_APP}))
    assert evidence.framework == "flask"
    assert evidence.python_requirements is None
    assert any("Pipfile is not read" in w and "will not be installed" in w for w in evidence.warnings)
