"""Readable tables for people, JSON for scripts."""

import json
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

out = Console(soft_wrap=True)  # piped output keeps whole lines
err = Console(stderr=True, soft_wrap=True)  # messages are never broken mid-path
PREFERRED = [
    "id",
    "name",
    "slug",
    "kind",
    "lifecycleStatus",
    "status",
    "host",
    "projectId",
    "environmentId",
    "createdAt",
]
MAX_COLUMNS = 6


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict | list):
        text = json.dumps(value, separators=(",", ":"))
        return text if len(text) <= 60 else text[:57] + "..."
    return str(value)


def _columns(items: list[dict[str, Any]]) -> list[str]:
    keys = [k for k in items[0] if not isinstance(items[0][k], dict | list) and k != "organizationId"]
    ordered = [k for k in PREFERRED if k in keys] + [k for k in keys if k not in PREFERRED]
    return ordered[:MAX_COLUMNS]


def show(data: Any, as_json: bool) -> None:
    if as_json or not isinstance(data, dict):
        out.print_json(json.dumps(data))
        return
    items = data.get("items")
    if isinstance(items, list):
        if not items:
            out.print("[dim]nothing here yet[/dim]")
            return
        columns = _columns(items)
        table = Table(header_style="bold")
        for c in columns:
            table.add_column(c, no_wrap=c == "id", overflow="fold")
        for item in items:
            table.add_row(*(escape(_cell(item.get(c))) for c in columns))
        out.print(table)
        if data.get("nextCursor"):
            out.print(f"[dim]more: --cursor {data['nextCursor']}[/dim]")
        return
    table = Table(show_header=False, box=None)
    for key, value in data.items():
        table.add_row(f"[bold]{key}[/bold]", escape(_cell(value)))
    out.print(table)


def fail(code: str, message: str, next_action: str | None) -> None:
    err.print(f"[red]Error[/red] {escape(f'[{code}]')} {escape(message)}")
    if next_action:
        err.print(f"[yellow]Next:[/yellow] {escape(next_action)}")


LEVEL_STYLE = {"error": "red", "warn": "yellow", "debug": "dim"}


def timeline_line(log: dict[str, Any]) -> str:
    style = LEVEL_STYLE.get(log.get("level", ""), "dim" if log.get("source") != "dockyard" else "")
    text = f"[dim]{log.get('phase', ''):>8}[/dim]  {escape(log.get('message', ''))}"
    return f"[{style}]{text}[/{style}]" if style else text


def envelope(item: dict[str, Any], as_json: bool) -> None:
    """One streamed timeline envelope: an event (phase or status change) or a log line."""
    if as_json:
        out.print_json(json.dumps(item))
    elif item.get("kind") == "log" and item.get("log"):
        out.print(timeline_line(item["log"]))
    elif item.get("kind") == "event" and item.get("event"):
        event = item["event"]
        out.print(
            f"[bold]▸ {escape(event.get('phase') or event.get('status', ''))}[/bold] "
            f"{escape(event.get('summary', ''))}"
        )
