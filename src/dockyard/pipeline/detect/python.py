"""Python apps: the framework from the dependencies, the app object from the source, a start command.

Start commands run in the app's venv (its python is first on PATH) and listen on
$HOST:$PORT (127.0.0.1 unless the runtime says otherwise).
"""

from dataclasses import dataclass, field

from dockyard.pipeline.detect.evidence import Evidence
from dockyard.pipeline.detect.files import Source
from dockyard.pipeline.detect.python_apps import (
    ENTRY_FILES,
    AppRef,
    DjangoRef,
    find_apps,
    find_django,
    find_script,
)
from dockyard.pipeline.detect.python_deps import (
    PythonDeps,
    package_manager,
    python_version,
    read_pyproject,
    read_requirements,
)

FRAMEWORK_DEPS = ("django", "fastapi", "starlette", "flask")  # when several are listed, the first wins
ASGI = frozenset({"fastapi", "starlette", "asgi"})
HOST = "${HOST:-127.0.0.1}"  # the container runtime sets HOST=0.0.0.0


@dataclass
class _Ctx:
    deps: PythonDeps
    req: str  # where the user would add a dependency
    files: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    build: str | None = None

    def has(self, name: str) -> bool:
        return name in self.deps.names

    def has_uvicorn(self) -> bool:  # fastapi[standard] brings uvicorn along
        return self.has("uvicorn") or bool(self.deps.names.get("fastapi", set()) & {"standard", "all"})


def _uvicorn(ctx: _Ctx, target: str, app_dir: str | None = None, factory: bool = False) -> str:
    if not ctx.has_uvicorn():
        ctx.warnings.append(f"uvicorn is not in {ctx.req}: add uvicorn to {ctx.req}")
    options = (" --factory" if factory else "") + (f" --app-dir {app_dir}" if app_dir else "")
    return f"python -m uvicorn {target}{options} --host {HOST} --port $PORT"


def _django(ctx: _Ctx, ref: DjangoRef) -> str:
    ctx.files.append("manage.py")
    if ref.static_root_in:
        ctx.files.append(ref.static_root_in)
        ctx.build = "python manage.py collectstatic --noinput"
        ctx.reasons.append(f"{ref.static_root_in} sets STATIC_ROOT: the build runs `{ctx.build}`")
    if not ctx.has("django"):
        ctx.warnings.append(f"manage.py found but django is not in {ctx.req}")
    if ref.has_wsgi and ctx.has("gunicorn"):
        ctx.files.append(f"{ref.project}/wsgi.py")
        ctx.reasons.append(f"manage.py and {ref.project}/wsgi.py: a Django project, served with gunicorn")
        return f"python -m gunicorn -b {HOST}:$PORT {ref.project}.wsgi"
    if ref.has_asgi and ctx.has("uvicorn"):
        ctx.files.append(f"{ref.project}/asgi.py")
        ctx.reasons.append(f"manage.py and {ref.project}/asgi.py: a Django project, served with uvicorn")
        return _uvicorn(ctx, f"{ref.project}.asgi:application")
    ctx.reasons.append("manage.py: a Django project, served with `manage.py runserver`")
    ctx.warnings.append(
        f"manage.py runserver is Django's development server: add gunicorn to {ctx.req} to use gunicorn"
    )
    return f"python manage.py runserver {HOST}:$PORT --noreload"


def _serve(ctx: _Ctx, ref: AppRef, framework: str) -> str | None:
    ctx.files.append(ref.file)
    target = f"'{ref.target}()'" if ref.factory else ref.target
    if framework in ASGI:
        ctx.reasons.append(f"{ref.file} defines {ref.definition}: serving `{ref.target}` with uvicorn")
        return _uvicorn(ctx, ref.target, ref.app_dir, ref.factory)
    if ctx.has("gunicorn"):
        ctx.reasons.append(f"{ref.file} defines {ref.definition}: serving `{ref.target}` with gunicorn")
        path = f" --pythonpath {ref.app_dir}" if ref.app_dir else ""
        return f"python -m gunicorn -b {HOST}:$PORT{path} {target}"
    if framework == "flask":
        ctx.reasons.append(f"{ref.file} defines {ref.definition}: serving `{ref.target}` with `flask run`")
        ctx.warnings.append(
            f"flask run is Flask's development server: add gunicorn to {ctx.req} to serve with gunicorn"
        )
        env = f"PYTHONPATH={ref.app_dir} " if ref.app_dir else ""
        return f"{env}python -m flask --app {target} run --host {HOST} --port $PORT"
    ctx.warnings.append(f"{ref.file} defines a WSGI app but no server is listed: add gunicorn to {ctx.req}")
    return None


def _pick_app(apps: list[AppRef], dep_framework: str | None, ctx: _Ctx) -> tuple[AppRef, str] | None:
    """The app object to serve and its framework. A bare `app = ...` only counts next to a server."""
    ref = next((a for a in apps if a.framework), None) or next((a for a in apps if a.factory), None)
    if ref is None and (dep_framework or ctx.has("uvicorn") or ctx.has("gunicorn")):
        ref = next(iter(apps), None)
    if ref is None:
        return None
    fallback = "asgi" if ctx.has("uvicorn") and not ctx.has("gunicorn") else "wsgi"
    return ref, ref.framework or dep_framework or fallback


def detect_python(src: Source, start_given: bool = False) -> Evidence | None:
    """`start_given`: a Procfile or dockyard.yml says how to start the app, so finding no app object
    to serve is no reason to warn."""
    deps = PythonDeps()
    if src.is_file("requirements.txt"):
        read_requirements(src, "requirements.txt", deps)
    pyproject = read_pyproject(src, deps)
    declares = src.is_file("requirements.txt") or "pyproject.toml" in deps.files
    django, apps, script = find_django(src), find_apps(src), find_script(src)
    if not (declares or django or any(a.framework or a.factory for a in apps) or (script and script[1])):
        return None
    requirements = (
        "requirements.txt" if src.is_file("requirements.txt") else "pyproject.toml" if declares else None
    )
    ctx = _Ctx(deps, requirements or "requirements.txt", files=list(deps.files), warnings=list(deps.warnings))
    dep_framework = next((f for f in FRAMEWORK_DEPS if ctx.has(f)), None)
    if dep_framework:
        ctx.reasons.append(
            f"{' and '.join(deps.files)} list{'s' if len(deps.files) == 1 else ''} {dep_framework}"
        )
    framework, start, shape = dep_framework, None, None
    picked = _pick_app(apps, dep_framework, ctx)
    if django and (dep_framework in (None, "django") or picked is None):
        framework, start = "django", _django(ctx, django)
    elif picked:
        ref, framework = picked
        start = _serve(ctx, ref, framework)
    elif script:
        name, reads_port = script
        ctx.files.append(name)
        start, framework = f"python {name}", None
        ctx.reasons.append(f"{name} runs as a script" + (" and reads PORT" if reads_port else ""))
        if not reads_port:
            shape = "worker"
            ctx.warnings.append(
                f"{name} does not read PORT: dockyard tells the app which port to listen on in $PORT"
            )
    elif not start_given:
        ctx.warnings.append(
            f"found {' and '.join(deps.files) or 'Python files'} but no app to start: looked for "
            f"`app = FastAPI()`, `Flask()` or `Starlette()` in {', '.join(ENTRY_FILES)} (also in packages "
            "and src/<pkg>/), a Django manage.py, and a main.py/app.py/server.py script that reads PORT"
        )
    if start and shape is None:
        shape = "web-server"
    if requirements is None and framework:
        hint = (
            " (Pipfile is not read: `pipenv requirements > requirements.txt`)"
            if src.is_file("Pipfile")
            else ""
        )
        ctx.warnings.append(
            f"no requirements.txt or pyproject.toml{hint}: {framework} and its server will not be installed"
        )
    if deps.poetry_only:
        ctx.warnings.append(
            "pyproject.toml lists dependencies only under [tool.poetry.dependencies], which dockyard does "
            "not install: list them in [project].dependencies or a requirements.txt"
        )
    manager, lock = package_manager(src, pyproject)
    version, version_file = python_version(src)
    ctx.files += [f for f in (lock, version_file) if f]
    return Evidence(
        runtime_family="python",
        framework=framework,
        package_manager=manager,
        application_shape=shape,
        runtime_version=version,
        project_name=deps.project_name,
        detected_files=tuple(sorted(set(ctx.files))),
        start_command=start,
        build_command=ctx.build,
        python_requirements=requirements,
        reasoning=("; ".join(ctx.reasons),) if ctx.reasons else (),
        warnings=tuple(ctx.warnings),
    )
