"""Python apps: framework, app object and the command that serves it on $PORT."""

from collections.abc import Callable
from pathlib import Path

import pytest

from dockyard.pipeline.detect import detect

MakeApp = Callable[..., Path]
FASTAPI_MAIN = """
    from fastapi import FastAPI

    app = FastAPI()
    """
FLASK_APP = """
    from flask import Flask

    app = Flask(__name__)
    """


def test_a_fastapi_app_is_served_by_uvicorn_on_port(make_app: MakeApp) -> None:
    evidence = detect(
        make_app({"requirements.txt": "fastapi>=0.110\nuvicorn>=0.29\n", "main.py": FASTAPI_MAIN})
    )
    assert evidence.runtime_family == "python"
    assert evidence.framework == "fastapi"
    assert evidence.package_manager == "pip"
    assert evidence.application_shape == "web-server"
    assert evidence.start_command == "python -m uvicorn main:app --host ${HOST:-127.0.0.1} --port $PORT"
    assert evidence.python_requirements == "requirements.txt"
    assert evidence.install_command is None
    assert evidence.detected_files == ("main.py", "requirements.txt")
    assert evidence.warnings == ()
    assert "requirements.txt lists fastapi" in evidence.reasoning[0]
    assert "main.py defines `app = FastAPI(...)`" in evidence.reasoning[0]


def test_a_fastapi_app_without_uvicorn_asks_for_it(make_app: MakeApp) -> None:
    evidence = detect(make_app({"requirements.txt": "fastapi\n", "main.py": FASTAPI_MAIN}))
    assert evidence.start_command and "uvicorn main:app" in evidence.start_command
    assert any("add uvicorn to requirements.txt" in w for w in evidence.warnings)


def test_fastapi_standard_brings_uvicorn_along(make_app: MakeApp) -> None:
    evidence = detect(make_app({"requirements.txt": "fastapi[standard]==0.115.0\n", "main.py": FASTAPI_MAIN}))
    assert evidence.warnings == ()


def test_the_app_object_is_found_under_any_name_and_in_a_package(make_app: MakeApp) -> None:
    app = make_app(
        {
            "requirements.txt": "fastapi\nuvicorn[standard]\n",
            "api/__init__.py": "",
            "api/main.py": "import fastapi\n\nservice: fastapi.FastAPI = fastapi.FastAPI(title='x')\n",
        }
    )
    evidence = detect(app)
    assert (
        evidence.start_command == "python -m uvicorn api.main:service --host ${HOST:-127.0.0.1} --port $PORT"
    )
    assert "api/main.py" in evidence.detected_files


def test_a_src_layout_project_is_served_from_src(make_app: MakeApp) -> None:
    app = make_app(
        {
            "pyproject.toml": """
                [project]
                name = "shop"
                dependencies = ["starlette>=0.37", "uvicorn"]
                """,
            "src/shop/__init__.py": "",
            "src/shop/app.py": "from starlette.applications import Starlette\napp = Starlette()\n",
        }
    )
    evidence = detect(app)
    assert evidence.framework == "starlette"
    assert evidence.project_name == "shop"
    assert evidence.python_requirements == "pyproject.toml"
    assert evidence.start_command == (
        "python -m uvicorn shop.app:app --app-dir src --host ${HOST:-127.0.0.1} --port $PORT"
    )


def test_a_flask_app_runs_on_the_flask_server_with_a_warning(make_app: MakeApp) -> None:
    evidence = detect(make_app({"requirements.txt": "Flask==3.0\n", "app.py": FLASK_APP}))
    assert evidence.framework == "flask"
    assert (
        evidence.start_command == "python -m flask --app app:app run --host ${HOST:-127.0.0.1} --port $PORT"
    )
    assert any("add gunicorn" in w for w in evidence.warnings)


def test_a_flask_app_with_gunicorn_is_served_by_gunicorn(make_app: MakeApp) -> None:
    evidence = detect(make_app({"requirements.txt": "flask\ngunicorn\n", "app.py": FLASK_APP}))
    assert evidence.start_command == "python -m gunicorn -b ${HOST:-127.0.0.1}:$PORT app:app"
    assert evidence.warnings == ()


def test_a_flask_app_factory_is_called(make_app: MakeApp) -> None:
    factory = """
        from flask import Flask

        def create_app():
            app = Flask(__name__)
            return app
        """
    evidence = detect(make_app({"requirements.txt": "flask\ngunicorn\n", "server.py": factory}))
    assert evidence.framework == "flask"
    assert evidence.start_command == "python -m gunicorn -b ${HOST:-127.0.0.1}:$PORT 'server:create_app()'"


def test_an_unknown_asgi_app_next_to_uvicorn_is_served_by_uvicorn(make_app: MakeApp) -> None:
    app = make_app({"requirements.txt": "uvicorn\nmyframework\n", "main.py": "app = make_asgi_app()\n"})
    evidence = detect(app)
    assert evidence.framework == "asgi"
    assert evidence.start_command == "python -m uvicorn main:app --host ${HOST:-127.0.0.1} --port $PORT"


DJANGO = {
    "manage.py": """
        import os
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
        """,
    "mysite/__init__.py": "",
    "mysite/settings.py": "DEBUG = True\n",
    "mysite/wsgi.py": """
        from django.core.wsgi import get_wsgi_application
        application = get_wsgi_application()
        """,
}


def test_a_django_project_with_gunicorn_is_served_by_gunicorn(make_app: MakeApp) -> None:
    evidence = detect(make_app({**DJANGO, "requirements.txt": "Django>=5\ngunicorn\n"}))
    assert evidence.framework == "django"
    assert evidence.start_command == "python -m gunicorn -b ${HOST:-127.0.0.1}:$PORT mysite.wsgi"
    assert {"manage.py", "mysite/wsgi.py", "requirements.txt"} <= set(evidence.detected_files)


def test_a_django_project_without_gunicorn_uses_runserver_without_the_reloader(make_app: MakeApp) -> None:
    evidence = detect(make_app({**DJANGO, "requirements.txt": "django\n"}))
    assert evidence.start_command == "python manage.py runserver ${HOST:-127.0.0.1}:$PORT --noreload"
    assert any("development server" in w and "gunicorn" in w for w in evidence.warnings)


def test_a_django_project_with_only_uvicorn_is_served_over_asgi(make_app: MakeApp) -> None:
    asgi = "from django.core.asgi import get_asgi_application\napplication = get_asgi_application()\n"
    app = make_app({**DJANGO, "mysite/asgi.py": asgi, "requirements.txt": "django\nuvicorn[standard]\n"})
    evidence = detect(app)
    assert evidence.start_command == (
        "python -m uvicorn mysite.asgi:application --host ${HOST:-127.0.0.1} --port $PORT"
    )
    assert not any("development server" in w for w in evidence.warnings)


@pytest.mark.parametrize(
    "settings",
    [
        {"mysite/settings.py": "from pathlib import Path\nSTATIC_ROOT = Path(__file__).parent / 'static'\n"},
        {"mysite/settings/__init__.py": "", "mysite/settings/base.py": "STATIC_ROOT = BASE_DIR / 'static'\n"},
    ],
)
def test_a_django_project_with_a_static_root_collects_its_static_files_at_build(
    make_app: MakeApp, settings: dict[str, str]
) -> None:
    files = {k: v for k, v in DJANGO.items() if k != "mysite/settings.py"}
    evidence = detect(make_app({**files, **settings, "requirements.txt": "django\ngunicorn\n"}))
    assert evidence.build_command == "python manage.py collectstatic --noinput"
    assert any("STATIC_ROOT" in r and "collectstatic" in r for r in evidence.reasoning)


def test_a_django_project_without_a_static_root_has_no_build(make_app: MakeApp) -> None:
    evidence = detect(make_app({**DJANGO, "requirements.txt": "django\ngunicorn\n"}))
    assert evidence.build_command is None


def test_a_script_that_reads_port_is_run_directly(make_app: MakeApp) -> None:
    script = """
        import os
        from http.server import HTTPServer, SimpleHTTPRequestHandler

        if __name__ == "__main__":
            HTTPServer(("127.0.0.1", int(os.environ["PORT"])), SimpleHTTPRequestHandler).serve_forever()
        """
    evidence = detect(make_app({"server.py": script}))
    assert evidence.runtime_family == "python"
    assert evidence.start_command == "python server.py"
    assert evidence.application_shape == "web-server"
    assert evidence.python_requirements is None


def test_a_script_that_ignores_port_is_a_worker_with_a_warning(make_app: MakeApp) -> None:
    script = 'if __name__ == "__main__":\n    print("crunching")\n'
    evidence = detect(make_app({"requirements.txt": "requests\n", "main.py": script}))
    assert evidence.start_command == "python main.py"
    assert evidence.application_shape == "worker"
    assert any("main.py does not read PORT" in w for w in evidence.warnings)


def test_requirements_without_an_app_say_what_was_looked_for(make_app: MakeApp) -> None:
    evidence = detect(make_app({"requirements.txt": "fastapi\n", "tool.py": "print(1)\n"}))
    assert evidence.runtime_family == "python"
    assert evidence.framework == "fastapi"
    assert evidence.start_command is None
    assert any("no app to start" in w and "main.py" in w for w in evidence.warnings)


def test_detection_reads_the_source_and_never_runs_it(make_app: MakeApp, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    main = f"""
        from pathlib import Path
        Path({str(marker)!r}).write_text("imported")
        from fastapi import FastAPI
        app = FastAPI()
        """
    evidence = detect(make_app({"requirements.txt": "fastapi\nuvicorn\n", "main.py": main}))
    assert evidence.framework == "fastapi"
    assert not marker.exists()


def test_an_app_file_python_cannot_parse_is_still_read(make_app: MakeApp) -> None:
    main = "from fastapi import FastAPI\napp = FastAPI()\n\ndef broken(:\n    pass\n"
    evidence = detect(make_app({"requirements.txt": "fastapi\nuvicorn\n", "main.py": main}))
    assert evidence.start_command == "python -m uvicorn main:app --host ${HOST:-127.0.0.1} --port $PORT"


def test_an_app_in_src_without_a_package_is_served_from_src(make_app: MakeApp) -> None:
    evidence = detect(make_app({"requirements.txt": "fastapi\nuvicorn\n", "src/main.py": FASTAPI_MAIN}))
    assert (
        evidence.start_command
        == "python -m uvicorn main:app --app-dir src --host ${HOST:-127.0.0.1} --port $PORT"
    )
