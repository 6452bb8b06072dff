"""The edge's own failures, one JSON line each in STATE_DIR/logs/failures.log: a request on a routed
hostname that the edge answered itself because the app did not (502, 504) or, with nginx, because no
route takes its path (404). nginx writes nothing for a request the app answered, Caddy only its 5xx
answers, so the log costs nothing on the path users take. The control plane reads what is new (an
offset kept beside the log) and keeps it as access-failure evidence under the request id the answer
carried (header REQUEST_ID_HEADER).
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

FILE = "failures.log"
REQUEST_ID_HEADER = "X-Request-Id"
REQUEST_ID_PREFIX = "req_"  # before nginx's $request_id or Caddy's request UUID: ours to look up
MAX_BYTES = 4 * 1024 * 1024  # read, the log starts again past this (the evidence is in the store)
_REQUEST_ID = re.compile(r"^req_(?:[0-9a-f]{32}|[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12})$")


@dataclass(frozen=True)
class EdgeFailure:
    request_id: str
    at: str  # ISO 8601, as the edge's clock said
    host: str
    path: str
    method: str
    status: int
    upstream: str  # the address the edge tried ("" when it routed nowhere)


def path_of(state_dir: Path) -> Path:
    return Path(state_dir) / "logs" / FILE


def is_edge_request_id(value: str) -> bool:
    return bool(_REQUEST_ID.match(value))


def read_new(state_dir: Path) -> list[EdgeFailure]:
    """The failures written since the last read (a torn last line waits for the next read)."""
    log, mark = path_of(state_dir), Path(state_dir) / "logs" / (FILE + ".offset")
    try:
        offset = int(mark.read_text())
    except (OSError, ValueError):
        offset = 0
    try:
        with log.open("rb") as f:
            size = f.seek(0, 2)
            if size < offset:  # started again
                offset = 0
            f.seek(offset)
            chunk = f.read(size - offset)
    except OSError:
        return []
    complete = chunk[: chunk.rfind(b"\n") + 1]
    offset += len(complete)
    if offset >= MAX_BYTES:
        # nginx appends (O_APPEND), so after the truncation it writes at the new end
        with contextlib.suppress(OSError):
            log.open("r+b").truncate(0)
        offset = 0
    mark.write_text(str(offset))
    return [f for line in complete.splitlines() if (f := _parse(line)) is not None]


def _parse(line: bytes) -> EdgeFailure | None:
    try:
        row = json.loads(line)
        if "logger" in row:  # Caddy's access log entry
            return _caddy(row)
        failure = EdgeFailure(
            request_id=str(row["requestId"]),
            at=str(row["time"]),
            host=str(row["host"]).lower(),
            path=str(row["path"]) or "/",
            method=str(row["method"]),
            status=int(row["status"]),
            upstream=str(row.get("upstream") or ""),
        )
    except (ValueError, KeyError, TypeError, AttributeError, IndexError):
        return None
    return failure if is_edge_request_id(failure.request_id) else None


def _caddy(row: dict) -> EdgeFailure | None:
    """An entry of Caddy's error-level access log: the edge's own answer only when it carries the
    request id (the app's own 5xx is logged too, without one)."""
    request, headers = row["request"], row.get("resp_headers") or {}
    ids = headers.get(REQUEST_ID_HEADER) or [""]
    failure = EdgeFailure(
        request_id=str(ids[0]),
        at=datetime.fromtimestamp(float(row["ts"]), UTC).isoformat(),
        host=str(request["host"]).lower().split(":")[0],
        path=str(request["uri"]).split("?")[0] or "/",
        method=str(request["method"]),
        status=int(row["status"]),
        upstream="",
    )
    return failure if is_edge_request_id(failure.request_id) else None
