"""The planner: which runtime and strategy a source gets, and why a plan is blocked. Pure, no I/O."""

from dataclasses import replace

from dockyard.domain.profiles import HealthCheck, NetworkProfile, RuntimeProfile
from dockyard.pipeline.containerfiles import containerfile
from dockyard.pipeline.detect import Evidence
from dockyard.pipeline.planner import Plan, plan

STATIC = Evidence(runtime_family="static", application_shape="static", detected_files=("index.html",))
PYTHON = Evidence(
    runtime_family="python",
    python_requirements="requirements.txt",
    start_command="python -m uvicorn main:app --host ${HOST:-127.0.0.1} --port $PORT",
)
DOCKERFILE_ONLY = Evidence(runtime_family="dockerfile", dockerfile_path="Dockerfile", port=8080)
STATIC_WITH_DOCKERFILE = Evidence(
    runtime_family="static", application_shape="static", dockerfile_path="Dockerfile", port=8080
)


def make(
    evidence: Evidence, *, runtime: dict | None = None, network: dict | None = None, **kw: object
) -> Plan:
    return plan(
        evidence,
        RuntimeProfile.model_validate(runtime or {}),
        NetworkProfile.model_validate(network or {}),
        HealthCheck(),
        **kw,  # type: ignore[arg-type]
    )


def test_a_static_site_runs_as_a_host_process_by_default() -> None:
    p = make(STATIC)
    assert (p.runtime_kind, p.build_strategy, p.ready) == ("host-process", "static", True)
    assert "-m dockyard.runtimes.static_server --root . --within . --port $PORT" in (p.start_command or "")
    assert "--spa" not in (p.start_command or "")


def test_a_static_plan_serves_a_single_page_app_with_its_fallback() -> None:
    p = make(replace(STATIC, publish_directory="dist", spa=True))
    assert (p.start_command or "").endswith("--root dist --within . --port $PORT --spa")


def test_a_dockerfile_is_used_when_an_engine_answers_and_ignored_otherwise() -> None:
    assert make(STATIC_WITH_DOCKERFILE, engine=True).build_strategy == "dockerfile"
    assert make(STATIC_WITH_DOCKERFILE, engine=True).runtime_kind == "container"
    assert make(STATIC_WITH_DOCKERFILE, engine=False).runtime_kind == "host-process"
    pinned = make(STATIC_WITH_DOCKERFILE, engine=True, runtime={"runtimeName": "host-process"})
    assert pinned.runtime_kind == "host-process"


def test_a_dockerfile_only_folder_plans_a_container_even_without_an_engine() -> None:
    p = make(DOCKERFILE_ONLY)
    assert (p.runtime_kind, p.build_strategy, p.dockerfile, p.container_port) == (
        "container",
        "dockerfile",
        "Dockerfile",
        8080,
    )
    assert p.ready and p.steps == ("detect", "plan", "package", "build", "start", "verify", "switch")


def test_an_image_source_runs_that_image_without_building() -> None:
    p = make(Evidence(), image="localhost/app:1", network={"internalPort": 3000})
    assert (p.build_strategy, p.image, p.container_port) == ("prebuilt-image", "localhost/app:1", 3000)
    assert "build" not in p.steps and "package" not in p.steps


def test_the_container_runtime_name_puts_a_detected_app_in_a_generated_image() -> None:
    p = make(STATIC, runtime={"runtimeName": "container"})
    assert (p.runtime_kind, p.build_strategy, p.dockerfile, p.container_port) == (
        "container",
        "static",
        None,
        8080,
    )
    text = containerfile(p)
    assert text.startswith("FROM ") and "COPY ./ /www/" in text and "httpd -f -p ${PORT}" in text
    assert "RUN find /www -mindepth 1 -name '.*' ! -path /www/.well-known -prune -exec rm -rf {} +" in text


def test_a_generated_python_image_installs_requirements_before_copying_the_app() -> None:
    p = make(PYTHON, runtime={"runtimeName": "container"})
    lines = containerfile(p).splitlines()
    install = next(i for i, line in enumerate(lines) if "pip install" in line)
    assert install < lines.index("COPY . /app")  # the dependency layer is cached across code edits
    assert "HOST=0.0.0.0" in containerfile(p) and lines[-1].startswith(
        'CMD ["/bin/sh", "-c", "python -m uvicorn'
    )


def test_a_generated_node_image_installs_from_the_manifests_before_copying_the_app() -> None:
    evidence = Evidence(
        runtime_family="node",
        package_manager="pnpm",
        install_command="pnpm install --frozen-lockfile",
        build_command="pnpm run build",
        start_command="pnpm start",
    )
    lines = containerfile(
        make(evidence, runtime={"runtimeName": "container"}), ("pnpm-lock.yaml",)
    ).splitlines()
    source = lines.index("COPY . /app")
    assert lines.index("COPY package.json pnpm-lock.yaml /app/") < source  # only the manifests first
    assert lines.index("RUN command -v pnpm >/dev/null || corepack enable pnpm") < source
    assert lines.index("RUN pnpm install --frozen-lockfile") < source < lines.index("RUN pnpm run build")
    npm = containerfile(
        make(
            Evidence(**{**evidence.__dict__, "install_command": "npm ci"}),
            runtime={"runtimeName": "container"},
        )
    )
    assert "corepack" not in npm


def test_compose_and_commands_without_an_app_are_blocked_with_the_fix() -> None:
    compose = make(Evidence(compose_file_path="compose.yaml"), runtime={"strategy": "docker-compose"})
    assert [r.code for r in compose.blocked] == ["compose-not-supported"]
    custom = make(Evidence(), runtime={"runtimeName": "container", "startCommand": "./server"})
    assert [r.code for r in custom.blocked] == ["container-source-not-detected"]
    assert custom.blocked[0].fix_operation == "resources.configure-runtime"


def test_nothing_detected_on_the_host_runtime_is_blocked() -> None:
    p = make(Evidence(warnings=("no index.html, package.json or Python app",)))
    assert [r.code for r in p.blocked] == ["source-not-detected"] and not p.ready


def test_a_release_command_runs_after_the_build_and_before_the_start() -> None:
    evidence = Evidence(**{**PYTHON.__dict__, "build_command": "make assets", "release_command": "./migrate"})
    host = make(evidence)
    assert host.release_command == "./migrate"
    assert host.steps[host.steps.index("build") + 1 :] == ("release", "start", "verify", "switch")
    container = make(evidence, runtime={"runtimeName": "container"})
    assert container.release_command == "./migrate"
    assert container.steps.index("build") < container.steps.index("release") < container.steps.index("start")
    assert "release" not in make(PYTHON).steps
