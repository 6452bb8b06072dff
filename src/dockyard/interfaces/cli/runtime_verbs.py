"""`dockyard logs|stop|start|restart [RESOURCE]`: thin calls to the resources.runtime-* operations.

RESOURCE is an id, a resource's name or slug, or (left out) the resource this folder deploys to
since `dockyard up`.
"""

import json
import re
import sys
from pathlib import Path
from typing import Any

import typer

from dockyard.interfaces.cli import client, links, render

RESOURCE_ID = re.compile(r"res_[0-9a-z]{26}")
DONE = {"stop": "stopped", "start": "started", "restart": "restarted"}


def _fail(exc: client.ApiError) -> typer.Exit:
    render.fail(exc.code, exc.message, exc.next_action)
    return typer.Exit(2 if exc.status == 0 else 1)


def resolve(resource: str | None) -> str:
    """The resource id meant by RESOURCE (an id, a name or slug, or this folder's link)."""
    if resource is None:
        link = links.get(client.base_url(), Path.cwd().resolve())
        if link:
            return link["resourceId"]
        raise client.ApiError(
            422,
            "resource_required",
            "Which resource? This folder was never deployed with `dockyard up`.",
            "Pass a resource id or name (see `dockyard ps`), or run this in a folder you deployed.",
        )
    if RESOURCE_ID.fullmatch(resource):
        return resource
    found, cursor = [], None
    while True:
        page = client.request(
            "GET", "/resources", params={"limit": 500, **({"cursor": cursor} if cursor else {})}
        )
        wanted = resource.lower()
        found += [r["id"] for r in page["items"] if wanted in (r["slug"], r["name"].lower())]
        cursor = page.get("nextCursor")
        if not cursor:
            break
    if len(found) == 1:
        return found[0]
    if not found:
        raise client.ApiError(
            404,
            "resource_not_found",
            f"No resource with id, name or slug {resource[:80]!r}.",
            "List them with `dockyard ps`.",
        )
    raise client.ApiError(
        409,
        "resource_ambiguous",
        f"{len(found)} resources are named {resource[:80]!r}: {', '.join(found)}.",
        "Pass the id of the one you mean.",
    )


def control(op: str, resource: str | None, as_json: bool) -> None:
    try:
        resource_id = resolve(resource)
        attempt = client.request("POST", f"/resources/{resource_id}/runtime/{op}", body={})
    except client.ApiError as exc:
        raise _fail(exc) from None
    if as_json:
        print(json.dumps(attempt))
    elif attempt["status"] == "succeeded":
        render.out.print(
            f"[green]✓ {DONE[op]}[/green] {resource_id} (now {attempt['runtimeState']})", highlight=False
        )
    else:
        render.fail(
            attempt.get("errorCode") or attempt["status"],
            f"{op} of {resource_id} {attempt['status']}; its process is {attempt['runtimeState']}.",
            f"Read what it printed: dockyard logs {resource_id}",
        )
    if attempt["status"] != "succeeded":
        raise typer.Exit(1)


def logs(resource: str | None, follow: bool, tail: int, as_json: bool) -> None:
    params: dict[str, Any] = {"tailLines": tail}
    try:
        resource_id = resolve(resource)
        if not follow:
            data = client.request("GET", f"/resources/{resource_id}/runtime-logs", params=params)
            if as_json:
                print(json.dumps(data))
            else:
                for line in data["logs"]:
                    sys.stdout.write(line["message"] + "\n")
            return
        while True:  # the server closes a stream after a while; carry on from its cursor
            closed = None
            for item in client.stream("GET", f"/resources/{resource_id}/runtime-logs/stream", params=params):
                if item["kind"] == "closed":
                    closed = item
                elif as_json and item["kind"] == "log":
                    print(json.dumps(item["log"]), flush=True)
                elif item["kind"] == "log":
                    sys.stdout.write(item["log"]["message"] + "\n")
                    sys.stdout.flush()
            if not closed or not closed.get("cursor"):
                return
            params = {"cursor": closed["cursor"], "tailLines": 5000}
    except client.ApiError as exc:
        raise _fail(exc) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
