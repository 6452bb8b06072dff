"""The `dockyard` command: hand-written verbs (serve, start) plus every catalog operation."""

from enum import StrEnum

import typer

from dockyard.interfaces.cli import render
from dockyard.interfaces.cli.daemon import ensure_running
from dockyard.interfaces.cli.env_verbs import app as env_app
from dockyard.interfaces.cli.generated import add_catalog_commands


class RuntimeChoice(StrEnum):
    auto = "auto"
    host_process = "host-process"
    container = "container"


app = typer.Typer(
    help="Dockyard: deploy folders, images and MCP servers to machines you own.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8420, help="Port to listen on."),
    data_dir: str = typer.Option(
        None, help="Data directory (default $DOCKYARD_DATA_DIR or ~/.local/share/dockyard)."
    ),
    bootstrap_admin: bool = typer.Option(
        True,
        help="On first start, create the first admin and <data-dir>/admin.token. With "
        "--no-bootstrap-admin (or DOCKYARD_BOOTSTRAP=manual), POST /api/bootstrap/auth/first-admin does.",
    ),
) -> None:
    """Run the control plane (API, worker) in the foreground."""
    import os
    import sys

    args = [sys.executable, "-m", "dockyard.server", "--host", host, "--port", str(port)]
    args += ["--data-dir", data_dir] if data_dir else []
    os.execv(sys.executable, args + ([] if bootstrap_admin else ["--no-bootstrap-admin"]))


RESOURCE_HELP = "Resource id, name or slug (default: the one this folder deploys to, see `dockyard up`)."


@app.command()
def start(
    resource: str = typer.Argument(
        None, help="Start this resource's stopped process; without it, start the control plane."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (with RESOURCE)."),
) -> None:
    """Start the control plane in the background (unless one answers), or a stopped resource."""
    if resource is not None:
        from dockyard.interfaces.cli.runtime_verbs import control

        control("start", resource, as_json)
        return
    try:
        url, started = ensure_running()
    except RuntimeError as exc:
        render.fail(
            "control_plane_start_failed", str(exc), "Run `dockyard serve` in the foreground to see why."
        )
        raise typer.Exit(1) from None
    render.out.print(f"{'Started' if started else 'Already running:'} Dockyard control plane at {url}")
    render.out.print(f"  API docs   {url}/api/docs")
    render.out.print("  Try        dockyard projects create --name web && dockyard projects list")


@app.command("up")
def up_command(
    path: str = typer.Argument(".", help="The folder to deploy, or a local image (localhost/app:1)."),
    name: str = typer.Option(
        None, "--name", help="Name for the project and resource (default: folder name)."
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print one JSON object: deploymentId, resourceId, status, url."
    ),
    runtime: RuntimeChoice = typer.Option(
        None,
        "--runtime",
        help="auto (default: a container when the source has a Dockerfile or is an image and an engine "
        "answers), host-process, or container. Remembered by the resource.",
    ),
    yes: bool = typer.Option(
        False,
        "--yes",
        "-y",
        help="Create the project, environment and resource without asking (asked only on a terminal).",
    ),
    verbose: bool = typer.Option(
        False, "--verbose", "-v", help="Show the output of the install, build and release commands too."
    ),
) -> None:
    """Deploy a folder and print its live URL."""
    from dockyard.interfaces.cli.up import up

    up(path, name, as_json, yes, runtime.value if runtime else None, verbose)


@app.command("ps")
def ps_command(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Resources with their deployment status and URL."""
    from dockyard.interfaces.cli.up import ps

    ps(as_json)


@app.command("logs")
def logs_command(
    resource: str = typer.Argument(None, help=RESOURCE_HELP),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing new lines as they come."),
    tail: int = typer.Option(200, "--tail", "-n", help="How many of the last lines to print (max 5000)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (one line object per line with -f)."),
) -> None:
    """What a deployed resource's process printed (stdout and stderr)."""
    from dockyard.interfaces.cli.runtime_verbs import logs

    logs(resource, follow, tail, as_json)


@app.command("stop")
def stop_command(
    resource: str = typer.Argument(None, help=RESOURCE_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Stop a deployed resource's process; `dockyard start RESOURCE` brings it back."""
    from dockyard.interfaces.cli.runtime_verbs import control

    control("stop", resource, as_json)


@app.command("restart")
def restart_command(
    resource: str = typer.Argument(None, help=RESOURCE_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Restart a deployed resource's process."""
    from dockyard.interfaces.cli.runtime_verbs import control

    control("restart", resource, as_json)


app.add_typer(env_app, name="env")
add_catalog_commands(app)


def main() -> None:
    app()
