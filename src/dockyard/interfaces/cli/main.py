"""The `dockyard` command: hand-written verbs (serve, start) plus every catalog operation."""

import typer

from dockyard.interfaces.cli import render
from dockyard.interfaces.cli.daemon import ensure_running
from dockyard.interfaces.cli.generated import add_catalog_commands

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
) -> None:
    """Run the control plane (API, worker) in the foreground."""
    import os
    import sys

    args = [sys.executable, "-m", "dockyard.server", "--host", host, "--port", str(port)]
    os.execv(sys.executable, args + (["--data-dir", data_dir] if data_dir else []))


@app.command()
def start() -> None:
    """Start the control plane in the background unless one already answers."""
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
    path: str = typer.Argument(".", help="The folder to deploy."),
    name: str = typer.Option(
        None, "--name", help="Name for the project and resource (default: folder name)."
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print one JSON object: deploymentId, resourceId, status, url."
    ),
    yes: bool = typer.Option(
        False,
        "--yes",
        "-y",
        help="Create the project, environment and resource without asking (asked only on a terminal).",
    ),
) -> None:
    """Deploy a folder and print its live URL."""
    from dockyard.interfaces.cli.up import up

    up(path, name, as_json, yes)


@app.command("ps")
def ps_command(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Resources with their deployment status and URL."""
    from dockyard.interfaces.cli.up import ps

    ps(as_json)


add_catalog_commands(app)


def main() -> None:
    app()
