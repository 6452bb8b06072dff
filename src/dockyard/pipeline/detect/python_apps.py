"""Find a Python app's entry point by reading its source (ast, with a regex fallback); never imports it."""

import ast
import re
from dataclasses import dataclass

from dockyard.pipeline.detect.files import Source

ENTRY_FILES = ("main.py", "app.py", "server.py", "asgi.py", "wsgi.py", "application.py")
SCRIPT_FILES = ("main.py", "app.py", "server.py")
APP_CLASSES = {"FastAPI": "fastapi", "Starlette": "starlette", "Flask": "flask"}
FACTORIES = ("create_app", "make_app")
GENERIC_NAMES = ("app", "application")
NOT_APP_PACKAGES = frozenset({"tests", "test", "docs", "scripts", "migrations", "src", "static", "templates"})
MAX_FILES = 40  # bound the work on a large repository

ASSIGN_RE = re.compile(r"^(\w+)\s*(?::[^=\n]+)?=\s*(?:[\w.]+\.)?(FastAPI|Starlette|Flask)\(", re.M)
FACTORY_RE = re.compile(r"^def (create_app|make_app)\(", re.M)
MAIN_GUARD_RE = re.compile(r"""__name__\s*==\s*['"]__main__['"]""")
PORT_RE = re.compile(r"""['"]PORT['"]""")
SETTINGS_RE = re.compile(r"""DJANGO_SETTINGS_MODULE['"]\s*,\s*['"]([\w.]+)['"]""")
STATIC_ROOT_RE = re.compile(r"^STATIC_ROOT\s*(?::[^=\n]+)?=\s*(?!None\b)\S", re.M)
SETTINGS_PARTS = ("__init__", "base", "common", "production", "prod")  # a settings/ package's usual files


@dataclass(frozen=True)
class AppRef:
    """Where the app object is: `module:attr`, importable from `app_dir` (None: the folder root)."""

    file: str
    module: str
    attr: str
    framework: str | None  # None: an `app = ...` object of a kind we do not recognise
    factory: bool = False
    app_dir: str | None = None

    @property
    def target(self) -> str:
        return f"{self.module}:{self.attr}"

    @property
    def definition(self) -> str:
        if self.factory:
            return f"`def {self.attr}()`"
        cls = next((c for c, f in APP_CLASSES.items() if f == self.framework), "...")
        return f"`{self.attr} = {cls}(...)`"


@dataclass(frozen=True)
class DjangoRef:
    project: str | None  # the package holding settings/wsgi/asgi, when found
    has_wsgi: bool
    has_asgi: bool
    static_root_in: str | None = None  # the settings file that sets STATIC_ROOT


def candidate_files(src: Source) -> list[tuple[str, str, str | None]]:
    """(file, module, app_dir) for the usual entry files at the root, in packages, and in src/<pkg>/."""
    found = [(name, name[:-3], None) for name in ENTRY_FILES if src.is_file(name)]
    found += [(f"src/{name}", name[:-3], "src") for name in ENTRY_FILES if src.is_file(f"src/{name}")]
    for base in ("", "src"):
        for folder in src.subdirs(base):
            package = folder.rsplit("/", 1)[-1]
            if not package.isidentifier() or (not base and package in NOT_APP_PACKAGES):
                continue
            for name in (*ENTRY_FILES, "__init__.py"):
                if src.is_file(f"{folder}/{name}"):
                    module = package if name == "__init__.py" else f"{package}.{name[:-3]}"
                    found.append((f"{folder}/{name}", module, base or None))
    return found[:MAX_FILES]


def _callee(node: ast.expr) -> str | None:
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def scan_module(text: str) -> list[tuple[str, str | None, bool]]:
    """(attr, framework, is_factory) for each app-like top-level definition, best first."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError):
        apps: list[tuple[str, str | None, bool]] = [
            (m[0], APP_CLASSES[m[1]], False) for m in ASSIGN_RE.findall(text)
        ]
        kind = next((f for c, f in APP_CLASSES.items() if f"{c}(" in text), None)
        return apps + [(name, kind, True) for name in FACTORY_RE.findall(text)]
    known: list[tuple[str, str | None, bool]] = []
    factories: list[tuple[str, str | None, bool]] = []
    generic: list[tuple[str, str | None, bool]] = []
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            cls = _callee(node.value)
            for target in (t.id for t in targets if isinstance(t, ast.Name)):
                if cls in APP_CLASSES:
                    known.append((target, APP_CLASSES[cls], False))
                elif target in GENERIC_NAMES and cls is not None:
                    generic.append((target, None, False))
        elif isinstance(node, ast.FunctionDef) and node.name in FACTORIES:
            calls = {_callee(n) for n in ast.walk(node) if isinstance(n, ast.Call)}
            kind = next((APP_CLASSES[c] for c in APP_CLASSES if c in calls), None)
            factories.append((node.name, kind, True))
    return known + factories + generic


def find_apps(src: Source) -> list[AppRef]:
    refs: list[AppRef] = []
    for file, module, app_dir in candidate_files(src):
        text = src.read_text(file)
        if text:
            refs += [AppRef(file, module, attr, kind, fac, app_dir) for attr, kind, fac in scan_module(text)]
    return refs


def find_script(src: Source) -> tuple[str, bool] | None:
    """The first of main.py/app.py/server.py run as a script, and whether it reads PORT."""
    for name in SCRIPT_FILES:
        text = src.read_text(name)
        if text and MAIN_GUARD_RE.search(text):
            return name, bool(PORT_RE.search(text))
    return None


def find_django(src: Source) -> DjangoRef | None:
    if not src.is_file("manage.py"):
        return None
    match = SETTINGS_RE.search(src.read_text("manage.py") or "")
    module = match.group(1) if match else None
    named = [module.split(".")[0]] if module else []
    for project in named + [d for d in src.subdirs() if d not in named]:
        wsgi, asgi = src.is_file(f"{project}/wsgi.py"), src.is_file(f"{project}/asgi.py")
        if wsgi or asgi:
            return DjangoRef(project, wsgi, asgi, _static_root(src, module or f"{project}.settings"))
    project = named[0] if named else None
    return DjangoRef(project, False, False, _static_root(src, module) if module else None)


def _static_root(src: Source, settings_module: str) -> str | None:
    """The settings file (the module manage.py names, or a file of its settings/ package) that sets
    STATIC_ROOT to something, which `collectstatic` needs."""
    path = settings_module.replace(".", "/")
    packages = dict.fromkeys((path, path.rsplit("/", 1)[0]))  # settings/ itself, or the one holding prod.py
    files = [f"{path}.py", *(f"{folder}/{part}.py" for folder in packages for part in SETTINGS_PARTS)]
    return next((f for f in files if STATIC_ROOT_RE.search(src.read_text(f) or "")), None)
