"""Procfile: its `web:` command starts the app, over any guess."""

from collections.abc import Callable
from pathlib import Path

from dockyard.pipeline.detect import detect

MakeApp = Callable[..., Path]
FASTAPI = {
    "requirements.txt": "fastapi\nuvicorn\n",
    "main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
}


def test_the_web_command_wins_over_the_detected_one(make_app: MakeApp) -> None:
    web = "uvicorn main:app --host 0.0.0.0 --port $PORT --workers 2"
    evidence = detect(make_app({**FASTAPI, "Procfile": f"web: {web}\n"}))
    assert evidence.runtime_family == "python"
    assert evidence.framework == "fastapi"
    assert evidence.start_command == web
    assert evidence.python_requirements == "requirements.txt"
    assert "Procfile" in evidence.detected_files
    assert any("Procfile" in line and "instead of" in line for line in evidence.reasoning)


def test_a_procfile_alone_is_a_custom_app(make_app: MakeApp) -> None:
    evidence = detect(make_app({"Procfile": "# how to run\nweb: ./bin/serve --port $PORT\n"}))
    assert evidence.runtime_family == "custom"
    assert evidence.application_shape == "web-server"
    assert evidence.start_command == "./bin/serve --port $PORT"
    assert evidence.detected_files == ("Procfile",)
    assert evidence.warnings == ()


def test_a_procfile_next_to_a_static_site_runs_the_command_instead(make_app: MakeApp) -> None:
    evidence = detect(
        make_app({"index.html": "<h1>hi</h1>", "Procfile": "web: python -m http.server $PORT\n"})
    )
    assert evidence.runtime_family == "custom"
    assert evidence.start_command == "python -m http.server $PORT"
    assert evidence.publish_directory is None


def test_a_node_app_keeps_its_install_and_build_under_a_procfile(make_app: MakeApp) -> None:
    app = make_app(
        {
            "package.json": '{"scripts": {"build": "tsc"}, "dependencies": {"express": "4"}}',
            "Procfile": "web: node dist/server.js\n",
        }
    )
    evidence = detect(app)
    assert evidence.runtime_family == "node"
    assert (evidence.install_command, evidence.build_command) == ("npm install", "npm run build")
    assert evidence.start_command == "node dist/server.js"


def test_processes_other_than_web_and_release_are_named_as_not_run(make_app: MakeApp) -> None:
    procfile = "release: python manage.py migrate\nweb: gunicorn app:app\nworker: celery -A app worker\n"
    evidence = detect(make_app({"Procfile": procfile}))
    assert evidence.start_command == "gunicorn app:app"
    assert evidence.release_command == "python manage.py migrate"
    assert "Procfile processes other than web are not run: worker" in evidence.warnings
    assert any("`python manage.py migrate` runs once per deployment" in r for r in evidence.reasoning)


def test_a_procfile_without_web_starts_its_worker_with_a_warning(make_app: MakeApp) -> None:
    evidence = detect(make_app({"Procfile": "release: ./migrate\nworker: ./consume\n"}))
    assert evidence.start_command == "./consume"
    assert evidence.application_shape == "worker"
    assert any("no web process" in w and "`worker`" in w for w in evidence.warnings)
    assert evidence.release_command == "./migrate"
    assert not any("not run" in w for w in evidence.warnings)


def test_malformed_and_duplicate_lines_are_reported(make_app: MakeApp) -> None:
    evidence = detect(make_app({"Procfile": "web: ./one\nthis is not a process\nweb: ./two\n"}))
    assert evidence.start_command == "./one"
    assert any("line 2" in w for w in evidence.warnings)
    assert any("`web` more than once" in w for w in evidence.warnings)


def test_an_empty_procfile_is_not_an_app(make_app: MakeApp) -> None:
    evidence = detect(make_app({"Procfile": "\n# nothing yet\n"}))
    assert evidence.runtime_family is None
    assert "Procfile declares no processes" in evidence.warnings


def test_a_procfile_start_for_a_python_app_without_an_app_object_warns_of_nothing(make_app: MakeApp) -> None:
    app = make_app(
        {"requirements.txt": "datasette\n", "Procfile": "web: datasette serve data.db --port $PORT\n"}
    )
    evidence = detect(app)
    assert (evidence.runtime_family, evidence.python_requirements) == ("python", "requirements.txt")
    assert evidence.start_command == "datasette serve data.db --port $PORT"
    assert evidence.warnings == ()
