"""Node apps: package manager, install/build/start commands, framework and front-end builds."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dockyard.pipeline.detect import detect
from dockyard.pipeline.detect.node import choose_manager

MakeApp = Callable[..., Path]
SERVER = "require('http').createServer((q, s) => s.end('hi')).listen(process.env.PORT);\n"


def package(**fields: Any) -> str:
    return json.dumps({"name": "shop", "version": "1.0.0", **fields})


def test_an_express_app_with_a_lockfile_is_installed_with_npm_ci_and_its_node_start_script_runs_as_is(
    make_app: MakeApp,
) -> None:
    pkg = package(scripts={"start": "node server.js", "test": "jest"}, dependencies={"express": "^4"})
    evidence = detect(make_app({"package.json": pkg, "package-lock.json": "{}", "server.js": SERVER}))
    assert (evidence.runtime_family, evidence.framework, evidence.package_manager) == (
        "node",
        "express",
        "npm",
    )
    assert (evidence.application_shape, evidence.project_name) == ("web-server", "shop")
    assert evidence.install_command == "npm ci"
    assert evidence.build_command is None
    assert evidence.start_command == "node server.js"  # no npm process between the runner and the app
    assert "the start script is `node server.js`: running it directly, without npm in between" in (
        evidence.reasoning
    )
    assert evidence.detected_scripts == ("start", "test")
    assert evidence.detected_files == ("package-lock.json", "package.json", "server.js")
    assert evidence.python_requirements is None and evidence.publish_directory is None
    assert evidence.warnings == ()


@pytest.mark.parametrize(
    ("lockfile", "manager", "install", "build", "start"),
    [
        ("pnpm-lock.yaml", "pnpm", "pnpm install --frozen-lockfile", "pnpm run build", "pnpm start"),
        ("yarn.lock", "yarn", "yarn install --frozen-lockfile", "yarn run build", "yarn start"),
        ("bun.lockb", "bun", "bun install --frozen-lockfile", "bun run build", "bun run start"),
        ("bun.lock", "bun", "bun install --frozen-lockfile", "bun run build", "bun run start"),
        (None, "npm", "npm install", "npm run build", "npm start"),
    ],
)
def test_the_lockfile_picks_the_package_manager_and_its_commands(
    make_app: MakeApp, lockfile: str | None, manager: str, install: str, build: str, start: str
) -> None:
    files = {
        "package.json": package(
            scripts={"build": "tsc", "start": "NODE_ENV=production node dist/index.js"},
            dependencies={"fastify": "^4"},
        )
    }
    if lockfile:
        files[lockfile] = ""
    evidence = detect(make_app(files))
    assert (evidence.package_manager, evidence.install_command) == (manager, install)
    assert (evidence.build_command, evidence.start_command) == (build, start)
    assert evidence.framework == "fastify"


@pytest.mark.parametrize(
    "script",
    ["node server.js && node worker.js", "node -r dotenv/config server.js $ARGS", "nodemon server.js"],
)
def test_a_start_script_that_is_more_than_a_plain_node_command_runs_through_the_manager(
    make_app: MakeApp, script: str
) -> None:
    evidence = detect(make_app({"package.json": package(scripts={"start": script}), "server.js": SERVER}))
    assert evidence.start_command == "npm start"


def test_the_package_manager_field_is_used_without_a_lockfile(make_app: MakeApp) -> None:
    app = make_app(
        {"package.json": package(packageManager="pnpm@9.1.0", dependencies={"koa": "2"}), "app.js": SERVER}
    )
    evidence = detect(app)
    assert (evidence.package_manager, evidence.install_command) == ("pnpm", "pnpm install")
    assert evidence.framework == "koa"


def test_the_package_manager_field_wins_over_another_managers_lockfile(make_app: MakeApp) -> None:
    app = make_app(
        {
            "package.json": package(packageManager="pnpm@9.1.0", dependencies={"koa": "2"}),
            "package-lock.json": "{}",
            "pnpm-lock.yaml": "",
            "app.js": SERVER,
        }
    )
    evidence = detect(app)
    assert (evidence.package_manager, evidence.install_command) == ("pnpm", "pnpm install --frozen-lockfile")
    assert evidence.reasoning[0].startswith("package manager: pnpm (packageManager pnpm@9.1.0)")
    assert evidence.warnings == (
        "package.json's packageManager is pnpm@9.1.0: package-lock.json is not read; delete it",
    )


@pytest.mark.parametrize(
    ("present", "declared", "choice"),
    [
        (["pnpm-lock.yaml"], None, ("pnpm", "pnpm-lock.yaml", "pnpm-lock.yaml")),
        (["yarn.lock"], None, ("yarn", "yarn.lock", "yarn.lock")),
        (["bun.lockb"], None, ("bun", "bun.lockb", "bun.lockb")),
        (["bun.lock"], None, ("bun", "bun.lock", "bun.lock")),
        (["package-lock.json"], None, ("npm", "package-lock.json", "package-lock.json")),
        ([], None, ("npm", None, "no lockfile")),
        ([], "yarn@4.1.0", ("yarn", None, "packageManager yarn@4.1.0")),
        (["yarn.lock"], "pnpm@9.1.0", ("pnpm", None, "packageManager pnpm@9.1.0")),
        (["package-lock.json"], "deno@2", ("npm", "package-lock.json", "package-lock.json")),  # unknown
        (["package-lock.json"], 7, ("npm", "package-lock.json", "package-lock.json")),  # not a string
    ],
)
def test_the_package_manager_choice(present: list[str], declared: object, choice: tuple) -> None:
    chosen = choose_manager(present, declared)
    assert (chosen.manager, chosen.lock, chosen.why) == choice


def test_several_lockfiles_are_flagged(make_app: MakeApp) -> None:
    app = make_app(
        {"package.json": package(scripts={"start": "node a.js"}), "package-lock.json": "{}", "yarn.lock": ""}
    )
    evidence = detect(app)
    assert evidence.package_manager == "npm"
    assert any("several lockfiles" in w for w in evidence.warnings)


@pytest.mark.parametrize(
    ("files", "start"),
    [
        ({"package.json": package(main="src/server.js"), "src/server.js": SERVER}, "node src/server.js"),
        ({"package.json": package(), "server.js": SERVER}, "node server.js"),
        ({"package.json": package(), "index.js": SERVER}, "node index.js"),
        ({"package.json": package(main="missing.js"), "app.js": SERVER}, "node app.js"),
        (
            {
                "package.json": package(
                    main="dist/server.js", scripts={"build": "tsc"}, dependencies={"x": "1"}
                )
            },
            "node dist/server.js",
        ),
    ],
)
def test_without_a_start_script_the_server_file_is_run_with_node(
    make_app: MakeApp, files: dict[str, str], start: str
) -> None:
    evidence = detect(make_app(files))
    assert evidence.start_command == start
    assert evidence.application_shape == "web-server"
    assert evidence.framework == "node-http"


def test_a_package_without_a_way_to_start_says_so(make_app: MakeApp) -> None:
    evidence = detect(
        make_app({"package.json": package(scripts={"lint": "eslint ."}, dependencies={"express": "4"})})
    )
    assert evidence.runtime_family == "node"
    assert evidence.start_command is None
    assert evidence.detected_scripts == ("lint",)
    assert (
        "package.json has no start script and no server.js/index.js: cannot tell how to start it"
        in evidence.warnings
    )


def test_a_server_that_ignores_port_is_flagged(make_app: MakeApp) -> None:
    app = make_app(
        {"package.json": package(scripts={"start": "node server.js"}), "server.js": "app.listen(3000)\n"}
    )
    assert any("server.js does not read PORT" in w for w in detect(app).warnings)


@pytest.mark.parametrize(
    ("dependency", "start", "publish", "framework"),
    [
        ("vite", None, "dist", None),
        ("vite", "vite", "dist", None),
        ("react-scripts", "react-scripts start", "build", None),
        ("next", None, "out", "next"),
    ],
)
def test_a_front_end_build_without_a_server_is_served_as_static_files(
    make_app: MakeApp, dependency: str, start: str | None, publish: str, framework: str | None
) -> None:
    scripts = {"build": f"{dependency} build", **({"start": start} if start else {})}
    app = make_app(
        {
            "package.json": package(scripts=scripts, devDependencies={dependency: "latest"}),
            "package-lock.json": "{}",
            "index.html": "<div id=root></div>",
        }
    )
    evidence = detect(app)
    assert evidence.runtime_family == "node"
    assert evidence.application_shape == "static"
    assert evidence.publish_directory == publish
    assert evidence.framework == framework
    assert (evidence.install_command, evidence.build_command) == ("npm ci", "npm run build")
    assert evidence.start_command is None
    assert any(f"static build output in {publish}/" in w for w in evidence.warnings)


def test_a_next_app_with_a_start_script_runs_its_server(make_app: MakeApp) -> None:
    scripts = {"dev": "next dev", "build": "next build", "start": "next start"}
    app = make_app({"package.json": package(scripts=scripts, dependencies={"next": "14", "react": "18"})})
    evidence = detect(app)
    assert evidence.framework == "next"
    assert evidence.application_shape == "web-server"
    assert (evidence.build_command, evidence.start_command) == ("npm run build", "npm start")
    assert evidence.detected_scripts == ("build", "dev", "start")


@pytest.mark.parametrize(
    ("files", "version"),
    [
        ({"package.json": package(engines={"node": ">=20"}), ".nvmrc": "18"}, ">=20"),
        ({"package.json": package(), ".nvmrc": "v20.11.0\n"}, "20.11.0"),
        ({"package.json": package(), ".node-version": "22\n"}, "22"),
    ],
)
def test_the_node_version_comes_from_engines_or_version_files(
    make_app: MakeApp, files: dict[str, str], version: str
) -> None:
    evidence = detect(make_app({**files, "server.js": SERVER}))
    assert evidence.runtime_version == version


def test_a_broken_package_json_is_reported_not_raised(make_app: MakeApp) -> None:
    evidence = detect(make_app({"package.json": '{"name": "shop",', "server.js": SERVER}))
    assert evidence.runtime_family == "node"
    assert evidence.start_command is None
    assert any("package.json could not be read as JSON" in w for w in evidence.warnings)


def test_a_package_without_dependencies_installs_nothing(make_app: MakeApp) -> None:
    evidence = detect(
        make_app({"package.json": package(scripts={"start": "node server.js"}), "server.js": SERVER})
    )
    assert evidence.install_command is None
    assert evidence.start_command == "node server.js"
