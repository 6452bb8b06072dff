"""dockyard.yml: explicit values win; a bad file is reported, never raised."""

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from dockyard.pipeline.detect import detect

MakeApp = Callable[..., Path]
NODE = {
    "package.json": json.dumps(
        {
            "name": "shop",
            "scripts": {"start": "node server.js", "build": "tsc"},
            "dependencies": {"express": "4"},
        }
    ),
    "package-lock.json": "{}",
    "server.js": "require('express')().listen(process.env.PORT)\n",
}


def test_explicit_values_win_over_what_was_detected(make_app: MakeApp) -> None:
    manifest = """
        install: npm ci --omit=dev
        build: npm run compile
        start: node dist/main.js
        port: 8080
        health: /healthz
        """
    evidence = detect(make_app({**NODE, "dockyard.yml": manifest}))
    assert evidence.runtime_family == "node"
    assert evidence.framework == "express"
    assert evidence.install_command == "npm ci --omit=dev"
    assert evidence.build_command == "npm run compile"
    assert evidence.start_command == "node dist/main.js"
    assert evidence.port == 8080
    assert evidence.health_path == "/healthz"
    assert "dockyard.yml" in evidence.detected_files
    assert evidence.warnings == ()
    assert any(line.startswith("dockyard.yml sets") and "port: 8080" in line for line in evidence.reasoning)


def test_unset_keys_keep_what_was_detected(make_app: MakeApp) -> None:
    evidence = detect(make_app({**NODE, "dockyard.yml": "health: /up\n"}))
    assert (evidence.install_command, evidence.build_command) == ("npm ci", "npm run build")
    assert evidence.start_command == "node server.js"
    assert evidence.health_path == "/up"
    assert evidence.port is None


def test_the_manifest_wins_over_a_procfile(make_app: MakeApp) -> None:
    app = make_app({"Procfile": "web: ./old\n", "dockyard.yaml": "start: ./new --port $PORT\n"})
    evidence = detect(app)
    assert evidence.runtime_family == "custom"
    assert evidence.start_command == "./new --port $PORT"
    assert {"Procfile", "dockyard.yaml"} <= set(evidence.detected_files)


def test_a_start_command_alone_is_a_custom_app(make_app: MakeApp) -> None:
    evidence = detect(make_app({"dockyard.yml": "start: sleep 1000\n"}))
    assert (evidence.runtime_family, evidence.application_shape) == ("custom", "web-server")
    assert evidence.start_command == "sleep 1000"


def test_static_serves_a_folder(make_app: MakeApp) -> None:
    evidence = detect(
        make_app({"site/index.html": "hi", "dockyard.yml": "build: ./generate\nstatic: ./site/\n"})
    )
    assert evidence.runtime_family == "static"
    assert evidence.application_shape == "static"
    assert evidence.publish_directory == "site"
    assert evidence.build_command == "./generate"
    assert evidence.start_command is None


def test_static_on_a_node_app_serves_its_build_output(make_app: MakeApp) -> None:
    evidence = detect(make_app({**NODE, "dockyard.yml": "static: dist\n"}))
    assert evidence.runtime_family == "node"
    assert (evidence.application_shape, evidence.publish_directory) == ("static", "dist")
    assert evidence.start_command is None
    assert evidence.build_command == "npm run build"


def test_health_path_alias_and_a_missing_slash_are_accepted(make_app: MakeApp) -> None:
    evidence = detect(make_app({"index.html": "hi", "dockyard.yml": "healthPath: status\n"}))
    assert evidence.health_path == "/status"


@pytest.mark.parametrize(
    ("text", "warning"),
    [
        ("start: [unclosed\n", "dockyard.yml is not valid YAML (line"),
        ("- start\n- build\n", "dockyard.yml must be a mapping"),
        ("start: npm start\nrun: x\nworkers: 2\n", "dockyard.yml has unknown keys run, workers"),
        ("port: http\n", "`port` must be a number from 1 to 65535"),
        ("port: 70000\n", "`port` must be a number from 1 to 65535"),
        ("start: 42\n", "`start` must be a shell command"),
        ("static: /etc\n", "`static` must be a folder inside the app"),
    ],
)
def test_a_bad_manifest_is_reported_and_detection_goes_on(make_app: MakeApp, text: str, warning: str) -> None:
    evidence = detect(make_app({"index.html": "hi", "dockyard.yml": text}))
    assert any(warning in w for w in evidence.warnings), evidence.warnings
    assert evidence.runtime_family in ("static", "custom")
    assert evidence.port is None


def test_both_start_and_static_keep_the_start_command(make_app: MakeApp) -> None:
    evidence = detect(make_app({"dockyard.yml": "start: ./serve\nstatic: dist\n"}))
    assert evidence.start_command == "./serve" and evidence.publish_directory is None
    assert any("`start` wins" in w for w in evidence.warnings)


def test_a_manifest_that_starts_nothing_says_what_is_missing(make_app: MakeApp) -> None:
    evidence = detect(make_app({"dockyard.yml": "install: make deps\n"}))
    assert evidence.runtime_family is None
    assert evidence.install_command == "make deps"
    assert any("add `start:" in w for w in evidence.warnings)


def test_a_list_of_commands_runs_in_order(make_app: MakeApp) -> None:
    evidence = detect(make_app({"dockyard.yml": "build:\n  - make deps\n  - make site\nstatic: out\n"}))
    assert evidence.build_command == "make deps && make site"


@pytest.mark.parametrize(
    ("deps", "manifest", "spa"),
    [
        ({"vite": "5"}, "", True),  # a single-page app's build: unknown paths get index.html
        ({"react-scripts": "5"}, "", True),
        ({"astro": "4"}, "", False),  # a site generator writes every page: a missing one is a 404
        ({"vite": "5"}, "spa: false\n", False),
        ({}, "spa: true\n", True),
        ({}, "", False),  # a plain folder of pages
    ],
)
def test_the_single_page_app_fallback_is_on_for_spa_builds_and_set_by_spa(
    make_app: MakeApp, deps: dict[str, str], manifest: str, spa: bool
) -> None:
    files = {"index.html": "hi", **({"dockyard.yml": manifest} if manifest else {})}
    if deps:
        files["package.json"] = json.dumps({"scripts": {"build": "x build"}, "devDependencies": deps})
    evidence = detect(make_app(files))
    assert evidence.application_shape == "static" and evidence.spa is spa
    assert evidence.warnings == () or deps


def test_spa_must_be_true_or_false(make_app: MakeApp) -> None:
    evidence = detect(make_app({"index.html": "hi", "dockyard.yml": "spa: maybe\n"}))
    assert evidence.spa is False
    assert any("`spa` must be true or false" in w for w in evidence.warnings), evidence.warnings


def test_a_release_command_wins_over_the_procfiles(make_app: MakeApp) -> None:
    app = make_app(
        {
            "Procfile": "web: ./serve\nrelease: ./migrate-old\n",
            "dockyard.yml": "release:\n  - flask --app flaskr init-db\n  - ./seed\n",
        }
    )
    evidence = detect(app)
    assert evidence.release_command == "flask --app flaskr init-db && ./seed"
    assert evidence.start_command == "./serve"
    assert evidence.warnings == ()
