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
FOLDED_MIN = 6  # the narrowest a folded column may get before records replace the table
URL_PREFIXES = ("http://", "https://")


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


def _whole(column: str, values: list[str]) -> bool:
    """Ids and URLs are copied and clicked: their cells are never broken over lines."""
    return (
        column == "id"
        or column.endswith(("Id", "url", "Url"))
        or any(v.startswith(URL_PREFIXES) for v in values)
    )


def _table(items: list[dict[str, Any]]) -> None:
    """A table when the ids and URLs fit whole (other columns fold), else one record per line."""
    columns = _columns(items)
    rows = [[_cell(item.get(c)) for c in columns] for item in items]
    widths = [max(len(c), *(len(row[i]) for row in rows)) for i, c in enumerate(columns)]
    whole = [_whole(c, [row[i] for row in rows]) for i, c in enumerate(columns)]
    needed = sum(w if keep else min(w, FOLDED_MIN) for w, keep in zip(widths, whole, strict=True))
    if needed + 3 * len(columns) + 1 > out.width:
        for row in rows:
            out.print("  ".join(escape(v if i == 0 else f"{columns[i]}={v}") for i, v in enumerate(row)))
        return
    table = Table(header_style="bold")
    for c, w, keep in zip(columns, widths, whole, strict=True):
        table.add_column(c, no_wrap=keep, min_width=w if keep else None, overflow="fold")
    for row in rows:
        table.add_row(*(escape(v) for v in row))
    out.print(table)


def _lines(logs: list[Any]) -> None:
    for line in logs:
        out.print(timeline_line(line) if isinstance(line, dict) else escape(str(line)))


def show(data: Any, as_json: bool) -> None:
    if data is None and not as_json:  # a 204: done, nothing to show
        out.print("[green]done[/green]")
        return
    if as_json or not isinstance(data, dict):
        out.print_json(json.dumps(data))
        return
    items = data.get("items")
    if isinstance(items, list):
        if not items:
            out.print("[dim]nothing here yet[/dim]")
            return
        _table(items)
        if data.get("nextCursor"):
            out.print(f"[dim]more: --cursor {data['nextCursor']}[/dim]")
        return
    if isinstance(data.get("logs"), list):  # a deployment's (or a run's) log lines, whole
        _lines(data["logs"])
        return
    width = max((len(key) for key in data), default=0)
    for key, value in data.items():  # one field per line: a long value runs on, never broken
        out.print(f"[bold]{escape(key.ljust(width))}[/bold]  {escape(_cell(value))}")


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
