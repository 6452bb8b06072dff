"""Dockerfiles and compose files are recorded; they decide the family only when nothing else can run."""

from collections.abc import Callable
from pathlib import Path

import pytest

from dockyard.pipeline.detect import detect

MakeApp = Callable[..., Path]
DOCKERFILE = 'FROM golang:1.22\nCOPY . .\nCMD ["./server"]\n'


@pytest.mark.parametrize("name", ["Dockerfile", "Containerfile"])
def test_a_container_file_alone_needs_a_container_engine(make_app: MakeApp, name: str) -> None:
    evidence = detect(make_app({name: DOCKERFILE, "main.go": "package main\n"}))
    assert evidence.runtime_family == "dockerfile"
    assert evidence.dockerfile_path == name
    assert evidence.detected_files == (name,)
    assert evidence.start_command is None
    assert any("container engine" in w and "DOCKER_HOST" in w and "Procfile" in w for w in evidence.warnings)


def test_a_python_app_with_a_dockerfile_runs_as_python(make_app: MakeApp) -> None:
    app = make_app(
        {
            "Dockerfile": DOCKERFILE,
            "compose.yaml": "services: {}\n",
            "requirements.txt": "flask\ngunicorn\n",
            "app.py": "from flask import Flask\napp = Flask(__name__)\n",
        }
    )
    evidence = detect(app)
    assert evidence.runtime_family == "python"
    assert (evidence.dockerfile_path, evidence.compose_file_path) == ("Dockerfile", "compose.yaml")
    assert evidence.detected_files == ("Dockerfile", "app.py", "compose.yaml", "requirements.txt")
    assert evidence.to_inspection()["dockerfilePath"] == "Dockerfile"


def test_a_procfile_runs_a_dockerfile_project_as_a_host_process(make_app: MakeApp) -> None:
    evidence = detect(make_app({"Dockerfile": DOCKERFILE, "Procfile": "web: ./server --port $PORT\n"}))
    assert evidence.runtime_family == "custom"
    assert evidence.dockerfile_path == "Dockerfile"
    assert evidence.start_command == "./server --port $PORT"


@pytest.mark.parametrize("name", ["compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"])
def test_a_compose_file_alone_is_recorded_and_explained(make_app: MakeApp, name: str) -> None:
    evidence = detect(make_app({name: "services:\n  web:\n    image: nginx\n"}))
    assert evidence.runtime_family is None
    assert evidence.compose_file_path == name
    assert any(name in w and "not deployed yet" in w for w in evidence.warnings)
