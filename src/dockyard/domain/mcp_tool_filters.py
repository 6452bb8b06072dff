"""Tool filters of provider deployments: which of a server's tools a session may list and call.

One filter per deployment (null means `allow_all`):
- `{"type": "allow_all"}`
- `{"type": "allow_by_key", "keys": [...]}`: only tools whose name (key) is listed
- `{"type": "allow_by_regex", "patterns": [...]}`: only tools whose name fully matches a pattern
- `{"type": "deny_by_key", "keys": [...]}`, `{"type": "deny_by_regex", "patterns": [...]}`: all but those
The same decision applies to tools/list and tools/call (`allows`).
"""

import re
from dataclasses import dataclass
from typing import Any

from dockyard.domain.errors import Invalid

TYPES = ("allow_all", "allow_by_key", "allow_by_regex", "deny_by_key", "deny_by_regex")
MAX_ITEMS = 200


def _invalid(field: str, message: str) -> Invalid:
    return Invalid(
        f"tool_filters.{field}: {message}",
        code="invalid_tool_filter",
        details={"field": f"tool_filters.{field}"},
        next_action='Send {"type": "allow_all"} or e.g. {"type": "allow_by_key", "keys": ["echo"]}.',
    )


def normalize(raw: dict[str, Any] | None) -> dict[str, Any]:
    """The stored form of a filter; bad input raises Invalid naming the field."""
    if raw is None:
        return {"type": "allow_all"}
    kind = raw.get("type")
    if kind not in TYPES:
        raise _invalid("type", f"must be one of {', '.join(TYPES)}, got {str(kind)[:40]!r}")
    if kind == "allow_all":
        if set(raw) - {"type"}:
            raise _invalid("type", "allow_all takes no other fields")
        return {"type": kind}
    field = "keys" if kind.endswith("_key") else "patterns"
    if set(raw) - {"type", field}:
        raise _invalid(field, f"{kind} takes only `{field}`")
    items = raw.get(field)
    if not isinstance(items, list) or not items or len(items) > MAX_ITEMS:
        raise _invalid(field, f"must be a list of 1 to {MAX_ITEMS} strings")
    for i, item in enumerate(items):
        if not isinstance(item, str) or not item or len(item) > 200:
            raise _invalid(f"{field}.{i}", "must be a non-empty string of at most 200 characters")
        if field == "patterns":
            try:
                re.compile(item)
            except re.error as exc:
                raise _invalid(f"{field}.{i}", f"is not a regular expression ({exc})") from None
    return {"type": kind, field: list(items)}


@dataclass(frozen=True)
class ToolFilter:
    spec: dict[str, Any]

    def allows(self, tool_name: str) -> bool:
        kind = self.spec.get("type", "allow_all")
        if kind == "allow_all":
            return True
        if kind.endswith("_key"):
            hit = tool_name in self.spec["keys"]
        else:
            hit = any(re.fullmatch(p, tool_name) for p in self.spec["patterns"])
        return hit if kind.startswith("allow") else not hit
