"""`dockyard env set|list|unset|import`: thin calls to the variable operations of resources and
environments. The target is `--resource R` (id, name or slug), `--environment E` (id, or a name in the
folder's project), or by default the resource this folder deploys to since `dockyard up`.
Values are never printed back: secrets read `****` everywhere.
"""

import json
import re
import sys
from pathlib import Path
from typing import Any

import typer

from dockyard.interfaces.cli import client, links, render
from dockyard.interfaces.cli.runtime_verbs import resolve

ENVIRONMENT_ID = re.compile(r"env_[0-9a-z]{26}")
RESOURCE_OPT = typer.Option(
    None, "--resource", "-r", help="Resource id, name or slug (default: this folder's)."
)
ENVIRONMENT_OPT = typer.Option(
    None, "--environment", "-e", help="Environment id, or its name in this folder's project."
)
BUILD_OPT = typer.Option(
    False, "--build-time", help="For install and build steps instead of the running app."
)
JSON_OPT = typer.Option(False, "--json", help="Print the raw JSON answer.")

app = typer.Typer(
    help="Configuration: variables and secrets of a resource or an environment.", no_args_is_help=True
)


def _fail(exc: client.ApiError) -> typer.Exit:
    render.fail(exc.code, exc.message, exc.next_action)
    return typer.Exit(2 if exc.status == 0 else 1)


def _environment(name: str) -> str:
    if ENVIRONMENT_ID.fullmatch(name):
        return name
    link = links.get(client.base_url(), Path.cwd().resolve())
    if not link:
        raise client.ApiError(
            422,
            "environment_required",
            f"Which project is {name[:80]!r} in? This folder was never deployed with `dockyard up`.",
            "Pass the environment id (see `dockyard environments list`).",
        )
    page = client.request("GET", "/environments", params={"projectId": link["projectId"], "limit": 500})
    for env in page["items"]:
        if env["name"] == name:
            return env["id"]
    raise client.ApiError(
        404,
        "environment_not_found",
        f"The folder's project has no environment named {name[:80]!r}.",
        f"List them: dockyard environments list --project-id {link['projectId']}",
    )


def _target(resource: str | None, environment: str | None) -> tuple[str, str]:
    """('/resources/ID' or '/environments/ID', a label for people)."""
    if resource and environment:
        raise client.ApiError(
            422, "target_ambiguous", "Pass --resource or --environment, not both.", "Choose one target."
        )
    if environment:
        env_id = _environment(environment)
        return f"/environments/{env_id}", f"environment {env_id}"
    resource_id = resolve(resource)
    return f"/resources/{resource_id}", f"resource {resource_id}"


def _exposure(build_time: bool) -> str:
    return "build-time" if build_time else "runtime"


def set_variable(
    assignment: str,
    secret: bool,
    build_time: bool,
    resource: str | None,
    environment: str | None,
    scope: str | None,
    stdin: bool,
) -> None:
    key, has_value, value = assignment.partition("=")
    if stdin:
        value = sys.stdin.read().removesuffix("\n")
    elif not has_value:
        render.fail(
            "value_missing",
            f"No value for {key}: write KEY=VALUE.",
            f"Or pipe the value in (kept out of your shell history): dockyard env set {key} --stdin",
        )
        raise typer.Exit(1)
    try:
        base, label = _target(resource, environment)
        body: dict[str, Any] = {
            "key": key,
            "value": value,
            "exposure": _exposure(build_time),
            "kind": "secret" if secret else "plain-config",
        }
        if scope:
            if not base.startswith("/environments"):
                raise client.ApiError(
                    422,
                    "scope_needs_environment",
                    "--scope applies to --environment.",
                    "Add --environment E.",
                )
            body["scope"] = scope
        client.request("POST", f"{base}/variables", body=body)
    except client.ApiError as exc:
        raise _fail(exc) from None
    what = ", ".join([_exposure(build_time), *(["secret"] if secret else [])])
    render.out.print(f"[green]✓ set[/green] {key} ({what}) on {label}", highlight=False)
    render.out.print("[dim]Running deployments keep their values; the next deploy uses it: dockyard up[/dim]")


def list_variables(resource: str | None, environment: str | None, as_json: bool) -> None:
    try:
        base, _ = _target(resource, environment)
        view = "effective-precedence" if base.startswith("/environments") else "effective-config"
        data = client.request("GET", f"{base}/{view}")
    except client.ApiError as exc:
        raise _fail(exc) from None
    if as_json:
        print(json.dumps(data))
        return
    rows = [
        {
            "key": e["key"],
            "value": e["value"],
            "scope": e["scope"],
            "exposure": e["exposure"],
            "secret": "yes" if e["isSecret"] else "",
        }
        for e in data["effectiveEntries"]
    ]
    render.show({"items": rows}, False)


def unset_variable(
    key: str, build_time: bool, resource: str | None, environment: str | None, scope: str | None
) -> None:
    try:
        base, label = _target(resource, environment)
        body: dict[str, Any] = {"exposure": _exposure(build_time)}
        if scope and base.startswith("/environments"):
            body["scope"] = scope
        client.request("DELETE", f"{base}/variables/{key}", body=body)
    except client.ApiError as exc:
        raise _fail(exc) from None
    render.out.print(f"[green]✓ unset[/green] {key} ({_exposure(build_time)}) on {label}", highlight=False)


def import_file(path: Path, build_time: bool, resource: str | None, last_wins: bool, as_json: bool) -> None:
    try:
        content = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        render.fail(
            "file_unreadable", f"Cannot read {path}: {type(exc).__name__}.", "Pass a readable .env file."
        )
        raise typer.Exit(1) from None
    try:
        resource_id = resolve(resource)
        report = client.request(
            "POST",
            f"/resources/{resource_id}/variables/import",
            body={
                "content": content,
                "exposure": _exposure(build_time),
                "onDuplicate": "last-wins" if last_wins else "reject",
            },
        )
    except client.ApiError as exc:
        raise _fail(exc) from None
    if as_json:
        print(json.dumps(report))
        return
    for e in report["importedEntries"]:
        secret = " (secret)" if e["isSecret"] else ""
        render.out.print(
            f"  {e['action']:<9} {e['key']}{secret}  [dim]line {e['sourceLine']}[/dim]", highlight=False
        )
    for e in report["skippedEntries"]:
        render.out.print(
            f"  skipped   {e['key']}  [dim]line {e['sourceLine']}: {e['reason']}[/dim]", highlight=False
        )
    render.out.print(
        f"[green]✓ imported[/green] {len(report['importedEntries'])} into resource {resource_id}, "
        f"skipped {len(report['skippedEntries'])}",
        highlight=False,
    )


@app.command("set")
def set_command(
    assignment: str = typer.Argument(..., metavar="KEY=VALUE", help="The variable (KEY alone with --stdin)."),
    secret: bool = typer.Option(
        False, "--secret", help="Store it encrypted; it is shown as **** ever after."
    ),
    build_time: bool = BUILD_OPT,
    resource: str = RESOURCE_OPT,
    environment: str = ENVIRONMENT_OPT,
    scope: str = typer.Option(
        None, "--scope", help="With --environment: environment (default), defaults, or project."
    ),
    stdin: bool = typer.Option(False, "--stdin", help="Read the value from standard input."),
) -> None:
    """Set a variable (or a secret) of a resource or an environment."""
    set_variable(assignment, secret, build_time, resource, environment, scope, stdin)


@app.command("list")
def list_command(
    resource: str = RESOURCE_OPT, environment: str = ENVIRONMENT_OPT, as_json: bool = JSON_OPT
) -> None:
    """The effective variables (every layer resolved, secrets masked) of a resource or an environment."""
    list_variables(resource, environment, as_json)


@app.command("unset")
def unset_command(
    key: str = typer.Argument(..., metavar="KEY"),
    build_time: bool = BUILD_OPT,
    resource: str = RESOURCE_OPT,
    environment: str = ENVIRONMENT_OPT,
    scope: str = typer.Option(None, "--scope", help="With --environment: defaults, environment or project."),
) -> None:
    """Remove a variable of a resource or an environment."""
    unset_variable(key, build_time, resource, environment, scope)


@app.command("import")
def import_command(
    file: Path = typer.Argument(..., metavar="FILE", help="A .env file."),
    build_time: bool = BUILD_OPT,
    resource: str = RESOURCE_OPT,
    last_wins: bool = typer.Option(
        False, "--last-wins", help="A key set twice: keep the last (default: refuse)."
    ),
    as_json: bool = JSON_OPT,
) -> None:
    """Import a .env file into a resource's variables, all or nothing (secret-like names become secrets)."""
    import_file(file, build_time, resource, last_wins, as_json)
