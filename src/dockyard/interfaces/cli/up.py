"""`dockyard up [PATH]`: deploy a folder and print its live URL.

The first `up` in a folder creates a project, a `production` environment and a resource named after
it (or reuses ones with those names) and remembers the link; later runs redeploy the same resource.
A name that another folder already deploys is not taken over: `up b/site` after `up a/site` makes
`site-2` (asking first on a terminal); `--name site` still means the resource `site`.
"""

import json
import re
import sys
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import typer

from dockyard.config import Settings
from dockyard.domain.deployment import PHASES
from dockyard.interfaces.cli import client, links, render
from dockyard.interfaces.cli.daemon import ensure_running


def _all(path: str, **params: Any) -> list[dict[str, Any]]:
    items, cursor = [], None
    while True:
        page = client.request(
            "GET", path, params={**params, "limit": 500, **({"cursor": cursor} if cursor else {})}
        )
        items += page["items"]
        cursor = page.get("nextCursor")
        if not cursor:
            return items


def _find_or_create(path: str, match: dict[str, str], body: dict[str, Any], **filters: Any) -> str:
    for item in _all(path, **filters):
        if (
            all(item.get(k) == v for k, v in match.items())
            and item.get("lifecycleStatus", "active") == "active"
        ):
            return item["id"]
    return client.request("POST", path, body=body)["id"]


IMAGE_REF = re.compile(
    r"^[a-z0-9][a-z0-9._-]*(?::[0-9]+)?(?:/[a-z0-9._-]+)*(?::[\w.-]+|@sha256:[0-9a-f]{64})?$"
)


def image_reference(path: str) -> str | None:
    """`path` read as an image reference (localhost/app:1, nginx:alpine) when it is not a folder."""
    if Path(path).expanduser().exists() or path.startswith((".", "/", "~")):
        return None
    return path if (":" in path or "/" in path) and IMAGE_REF.match(path) else None


def _repository(image: str) -> str:
    """The image reference without its tag or digest."""
    name = image.split("@", 1)[0]
    head, _, last = name.rpartition("/")
    return f"{head}/{last.split(':', 1)[0]}" if head else last.split(":", 1)[0]


def _slug(label: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in label.lower()).split())


def _same_source(shown: dict[str, Any] | None, source: dict[str, str]) -> bool:
    """Whether a resource's source is this folder (or, for an image, this repository)."""
    if not shown or shown.get("kind") != source["kind"]:
        return False
    if source["kind"] == "docker-image":
        return _repository(shown.get("locator") or "") == _repository(source["locator"])
    return shown.get("locator") == source["locator"]


def _named_resource(label: str) -> dict[str, Any] | None:
    """The active resource of project `label`'s production environment named `label`, with its view."""
    slug = _slug(label)
    project = next((p for p in _all("/projects") if p.get("slug") == slug), None)
    if project is None or project.get("lifecycleStatus", "active") != "active":
        return None
    envs = [e for e in _all("/environments", projectId=project["id"]) if e.get("name") == "production"]
    for env in envs:
        for item in _all("/resources", environmentId=env["id"]):
            if item["slug"] == slug and item.get("lifecycleStatus", "active") == "active":
                return client.request("GET", f"/resources/{item['id']}")
    return None


@dataclass(frozen=True)
class Choice:
    label: str
    mine: dict[str, Any] | None = None  # the resource this very source deploys to (its view)
    taken: dict[str, Any] | None = None  # the resource of another source that has the name asked for


def _free_label(label: str, source: dict[str, str]) -> Choice:
    """`label`, else `label-2`, `label-3`…: the first name that is free or already this source's."""
    taken = None
    for n in range(1, 100):
        candidate = label if n == 1 else f"{label}-{n}"
        found = _named_resource(candidate)
        if found is None or _same_source(found.get("source"), source):
            return Choice(candidate, found, taken)
        taken = taken or found
    raise client.ApiError(
        409, "name_taken", f"{label} and {label}-2 … {label}-99 are all taken.", "Pass --name NAME."
    )


def link_folder(
    folder: Path | str, name: str | None, ask: bool, source: dict[str, str]
) -> dict[str, str] | None:
    """The folder's (or image's) project/environment/resource, created on first use (after asking,
    when `ask`); None when the user declined. A name another folder already deploys is not reused
    (`site` from a/site, then `site-2` from b/site) unless `name` says so explicitly."""
    base = client.base_url()
    link = links.get(base, folder)
    if link:
        try:
            client.request("GET", f"/resources/{link['resourceId']}")
            return link
        except client.ApiError as exc:
            if exc.status != 404:
                raise
    wanted = name or source["displayName"]
    choice = Choice(wanted) if name else _free_label(wanted, source)
    label = choice.label
    if choice.mine is not None:  # deployed from here before and the link was lost: that resource
        shown = choice.mine["resource"]
        link = {k: shown[k] for k in ("projectId", "environmentId")} | {"resourceId": shown["id"]}
        links.put(base, folder, link)
        return link
    if choice.taken is not None:
        where = (choice.taken.get("source") or {}).get("locator", "another source")
        question = (
            f"{wanted!r} is deployed from {where}. Deploy {folder} as a new project and resource "
            f"{label!r}? (or pass --name {wanted} to redeploy that one from here)"
        )
    else:
        question = (
            f"First deploy of {folder}: use (or create) project {label!r}, environment 'production' "
            f"and resource {label!r}?"
        )
    if ask and not typer.confirm(question, default=True):
        return None
    slug = _slug(label)
    project = _find_or_create("/projects", {"slug": slug}, {"name": label})
    env = _find_or_create(
        "/environments",
        {"name": "production"},
        {"projectId": project, "name": "production", "kind": "production"},
        projectId=project,
    )
    resource = None
    for item in _all("/resources", environmentId=env):
        if item["slug"] == slug:
            resource = item["id"]
    if resource is None:
        resource = client.request(
            "POST",
            "/resources",
            body={"projectId": project, "environmentId": env, "name": label, "source": source},
        )["id"]
    link = {"projectId": project, "environmentId": env, "resourceId": resource}
    links.put(base, folder, link)
    return link


def local_server() -> str:
    for server in _all("/servers"):
        if server["providerKey"] == "local" and server["lifecycleStatus"] == "active":
            return server["id"]
    raise client.ApiError(
        409,
        "no_local_server",
        "The control plane's own server is not active.",
        "Run `dockyard servers list` to check it.",
    )


HELD_LINES = 20  # of a step's raw output, shown when it fails


def follow(body: dict[str, Any], quiet: bool, verbose: bool = False) -> str | None:
    """Stream the deployment; return its id. Shows phases with a spinner and Dockyard's own timeline
    lines (what each step does, how long it took); the raw output of the app's install, build and
    release commands only when `verbose` — otherwise its last lines when a step fails."""
    deployment_id = None
    held: deque[str] = deque(maxlen=HELD_LINES)
    with render.out.status("starting…", spinner="dots") as status:
        for item in client.stream("POST", "/deployments/stream", body=body):
            event = item.get("event") or {}
            deployment_id = deployment_id or event.get("deploymentId")
            if quiet:
                continue
            log = item.get("log") if item.get("kind") == "log" else None
            if log and log.get("source") == "build" and not verbose:
                held.append(render.timeline_line(log))
            elif log:
                if log.get("level") == "error" and held:
                    render.out.print(
                        f"[dim]… the last {len(held)} lines of its output (all: --verbose):[/dim]"
                    )
                    for line in held:
                        render.out.print(line)
                render.out.print(render.timeline_line(log))
            elif event.get("phase") in PHASES and event.get("eventType") == "phase-started":
                held.clear()  # a failure shows the output of its own step
                step = PHASES.index(event["phase"]) + 1
                status.update(
                    f"[bold]{event['phase']}[/bold] ({step}/{len(PHASES)}) {event.get('summary', '')}"
                )
    return deployment_id


def _fail(error: dict[str, Any], as_json: bool, code: int = 1, **result: Any) -> NoReturn:
    """Say why on stderr; with --json, also print one object with `error` ({code, message, nextAction})."""
    render.fail(error["code"], error["message"], error.get("nextAction"))
    if as_json:
        print(json.dumps({**result, "error": error}))
    raise typer.Exit(code)


def up(
    path: str,
    name: str | None,
    as_json: bool,
    yes: bool = False,
    runtime: str | None = None,
    verbose: bool = False,
) -> None:
    image = image_reference(path)
    folder = Path(path).expanduser().resolve()
    if image:
        repository = _repository(image)
        source = {"kind": "docker-image", "locator": image, "displayName": repository.rsplit("/", 1)[-1]}
        link_key: Path | str = f"image:{repository}"  # a new tag redeploys the same resource
    else:
        source = {"kind": "local-folder", "locator": str(folder), "displayName": folder.name}
        link_key = folder
    if not image and not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        _fail(
            {
                "code": "source_path_invalid",
                "message": f"{folder} {what}.",
                "nextAction": "Run `dockyard up` in your app's folder, or pass the path of one: "
                "dockyard up ./my-app",
            },
            as_json,
        )
        raise typer.Exit(1)
    data = Settings.from_env().data_dir
    if not image and (data.is_relative_to(folder) or folder.is_relative_to(data)):
        where = "holds" if data.is_relative_to(folder) else "is inside"
        render.fail(
            "source_folder_refused",
            f"{folder} {where} Dockyard's data dir {data}: deploying it would copy the secret key and "
            "the admin token (and a folder holding the data dir would be copied into itself).",
            "Run `dockyard up` in your app's own folder, e.g. dockyard up ./my-app",
        )
        raise typer.Exit(1)
    try:
        url, started = ensure_running()
    except RuntimeError as exc:
        error = {"code": "control_plane_start_failed", "message": str(exc)}
        _fail({**error, "nextAction": "Run `dockyard serve` in the foreground to see why."}, as_json)
    if started and not as_json:
        render.out.print(f"[dim]started the Dockyard control plane at {url}[/dim]")
    try:
        link = link_folder(link_key, name, not (yes or as_json) and sys.stdin.isatty(), source)
        if link is None:
            render.out.print(
                "Nothing created. Pass --name to choose other names, or --yes to skip this question."
            )
            raise typer.Exit(1)
        if not as_json:
            render.out.print(f"Deploying [bold]{source['locator']}[/bold] → resource {link['resourceId']}")
        client.request("POST", f"/resources/{link['resourceId']}/source", body={"source": source})
        if runtime:
            client.request(
                "POST",
                f"/resources/{link['resourceId']}/runtime-profile",
                body={"runtimeProfile": {"runtimeName": None if runtime == "auto" else runtime}},
            )
        body = {**link, "serverId": local_server()}
        deployment_id = follow(body, quiet=as_json, verbose=verbose)
        if deployment_id is None:
            raise client.ApiError(
                500,
                "stream_ended",
                "The deployment stream ended before it began.",
                "See `dockyard deployments list`.",
            )
        shown = client.request("GET", f"/deployments/{deployment_id}")
    except client.ApiError as exc:
        error = {"code": exc.code, "message": exc.message, "nextAction": exc.next_action}
        _fail(error, as_json, 2 if exc.status == 0 else 1)
    dep = shown["deployment"]
    result = {
        "deploymentId": dep["id"],
        "resourceId": dep["resourceId"],
        "status": dep["status"],
        "url": dep["url"],
    }
    if dep["status"] != "succeeded":
        failure = dep.get("failure") or {}
        error = {
            "code": failure.get("code") or dep["status"],
            "message": failure.get("message") or f"deployment {dep['status']}",
            "nextAction": failure.get("nextAction") or f"dockyard deployments logs {dep['id']}",
        }
        _fail(error, as_json, **result)
    if as_json:
        print(json.dumps(result))
    else:
        render.out.print(f"[green]✓ live[/green] {dep['url']}")


def ps(as_json: bool) -> None:
    try:
        items = _all("/resources")
    except client.ApiError as exc:
        render.fail(exc.code, exc.message, exc.next_action)
        raise typer.Exit(2 if exc.status == 0 else 1) from None
    rows = [
        {
            "id": r["id"],
            "name": r["name"],
            "status": r["lastDeploymentStatus"] or "never deployed",
            "url": ((r["accessSummary"] or {}).get("latestGeneratedAccessRoute") or {}).get("url"),
            "deployments": r["deploymentCount"],
        }
        for r in items
    ]
    render.show({"items": rows}, as_json)
