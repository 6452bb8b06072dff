"""Real third-party apps deployed the way their own docs say, with `dockyard up` against a real
control plane: the app's console scripts, its build, release and data directory as a user relies on."""

import json
import sqlite3
import stat
from pathlib import Path

import httpx
import pytest
from control_plane_process import ControlPlane, app

pytestmark = pytest.mark.e2e


def test_datasette_from_its_console_script_serves_a_sqlite_file(plane: ControlPlane, tmp_path: Path) -> None:
    folder = app(
        tmp_path,
        "datasette-site",
        {
            "requirements.txt": "datasette\n",
            "Procfile": "web: datasette serve data.db --host 127.0.0.1 --port $PORT\n",
        },
    )
    with sqlite3.connect(folder / "data.db") as db:
        db.execute("create table ships (name text)")
        db.execute("insert into ships values ('Endurance')")
    result = plane.up(folder)
    assert result["status"] == "succeeded", result
    page = httpx.get(result["url"] + "data/ships.json?_shape=array")
    assert page.status_code == 200 and [row["name"] for row in page.json()] == ["Endurance"]
    assert "Datasette" in httpx.get(result["url"]).text


FLASKR = {
    "requirements.txt": "flask\ngunicorn\n",
    "Procfile": "web: gunicorn -b 127.0.0.1:$PORT 'flaskr:create_app()'\n"
    "release: flask --app flaskr init-db\n",
    "flaskr/__init__.py": """
        import os

        from flask import Flask, redirect, request

        from flaskr import db

        HEADING = "Posts"


        def create_app():
            app = Flask(__name__)
            app.config["DATABASE"] = os.path.join(os.environ["DOCKYARD_APP_DATA_DIR"], "flaskr.sqlite")
            db.init_app(app)

            @app.get("/")
            def index():
                titles = [row[0] for row in db.get_db().execute("SELECT title FROM post ORDER BY id")]
                return "\\n".join([f"<h1>{HEADING}</h1>", *(f"<p>{t}</p>" for t in titles)])

            @app.post("/create")
            def create():
                database = db.get_db()
                database.execute("INSERT INTO post (title) VALUES (?)", (request.form["title"],))
                database.commit()
                return redirect("/")

            return app
        """,
    "flaskr/db.py": """
        import sqlite3

        import click
        from flask import current_app, g

        SCHEMA = "CREATE TABLE IF NOT EXISTS post (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL)"


        def get_db():
            if "db" not in g:
                g.db = sqlite3.connect(current_app.config["DATABASE"])
            return g.db


        def close_db(error=None):
            database = g.pop("db", None)
            if database is not None:
                database.close()


        @click.command("init-db")
        def init_db_command():
            \"\"\"Create the tables that are missing: safe on every deploy.\"\"\"
            get_db().executescript(SCHEMA)
            click.echo("Initialized the database.")


        def init_app(app):
            app.teardown_appcontext(close_db)
            app.cli.add_command(init_db_command)
        """,
}


def test_a_flask_app_with_a_release_step_keeps_its_posts_across_a_redeploy(
    plane: ControlPlane, tmp_path: Path
) -> None:
    folder = app(tmp_path, "flaskr-site", FLASKR)
    first = plane.up(folder)
    assert first["status"] == "succeeded", first
    written = httpx.post(first["url"] + "create", data={"title": "written before the redeploy"})
    assert written.status_code == 302
    init = folder / "flaskr" / "__init__.py"
    init.write_text(init.read_text().replace('HEADING = "Posts"', 'HEADING = "Posts, version two"'))
    second = plane.up(folder)
    assert second["status"] == "succeeded", second
    page = httpx.get(second["url"]).text
    assert "Posts, version two" in page and "<p>written before the redeploy</p>" in page
    logs = plane.api("GET", f"/deployments/{second['deploymentId']}/logs")["logs"]
    phases = [line["phase"] for line in logs]
    assert "Initialized the database." in [line["message"] for line in logs if line["phase"] == "release"]
    assert phases.index("release") < phases.index("start")
    data = plane.data_dir / "appdata" / second["resourceId"]
    assert (data / "flaskr.sqlite").is_file() and stat.S_IMODE(data.stat().st_mode) == 0o700
    plane.api(
        "DELETE", f"/resources/{second['resourceId']}", json={"confirmation": {"resourceSlug": "flaskr-site"}}
    )
    assert not data.exists()  # the data goes with the resource, and only then


def test_a_failing_release_fails_the_deploy_before_anything_starts(
    plane: ControlPlane, tmp_path: Path
) -> None:
    folder = app(tmp_path, "migrating", {"index.html": "good version"})
    good = plane.up(folder)
    assert good["status"] == "succeeded"
    (folder / "Procfile").write_text(
        "web: python3 -m http.server --bind 127.0.0.1 $PORT\n"
        "release: echo 'migration 0042 failed' >&2; exit 4\n"
    )
    (folder / "index.html").write_text("bad version")
    bad = plane.up(folder)
    assert bad["exit"] == 1 and bad["status"] == "failed"
    failure = plane.api("GET", f"/deployments/{bad['deploymentId']}")["deployment"]["failure"]
    assert (failure["phase"], failure["code"]) == ("release", "release-failed")
    assert "exit code 4: migration 0042 failed" in failure["message"] and failure["nextAction"]
    assert bad["error"] == {k: failure[k] for k in ("code", "message", "nextAction")}
    logs = plane.api("GET", f"/deployments/{bad['deploymentId']}/logs")["logs"]
    assert "start" not in {line["phase"] for line in logs}
    assert httpx.get(good["url"]).text == "good version"


def test_build_steps_run_with_the_apps_own_tools_first_on_path(plane: ControlPlane, tmp_path: Path) -> None:
    python = app(
        tmp_path,
        "py-build",
        {
            "requirements.txt": "# nothing to install\n",
            "Procfile": "web: python -m http.server --bind 127.0.0.1 $PORT\n",
            "dockyard.yml": "build: python -c 'import sys; print(sys.prefix)' > prefix.txt; "
            'echo "$DOCKYARD_APP_DATA_DIR" > data-dir.txt\n',
        },
    )
    done = plane.up(python)
    assert done["status"] == "succeeded", done
    prefix = httpx.get(done["url"] + "prefix.txt").text.strip()
    assert Path(prefix).is_relative_to(plane.data_dir / "cache" / "python")
    assert httpx.get(done["url"] + "data-dir.txt").text.strip() == str(
        plane.data_dir / "appdata" / done["resourceId"]
    )
    tool = "node_modules/.bin/site-gen"
    install = f"mkdir -p node_modules/.bin && printf '#!/bin/sh\\necho made by a node tool\\n' > {tool}"
    node = app(
        tmp_path,
        "node-build",
        {
            "package.json": json.dumps({"name": "node-build"}),
            "dockyard.yml": f"install: {install} && chmod +x {tool}\n"
            "build: mkdir -p dist && site-gen > dist/index.html\nstatic: dist\n",
        },
    )
    built = plane.up(node)
    assert built["status"] == "succeeded", built
    assert httpx.get(built["url"]).text.strip() == "made by a node tool"
