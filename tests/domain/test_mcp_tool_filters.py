import pytest

from dockyard.domain.errors import Invalid
from dockyard.domain.mcp_tool_filters import ToolFilter, normalize

TOOLS = ["echo", "reverse", "crash", "db_read", "db_write"]


def allowed(spec: dict | None) -> list[str]:
    f = ToolFilter(normalize(spec))
    return [t for t in TOOLS if f.allows(t)]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (None, TOOLS),
        ({"type": "allow_all"}, TOOLS),
        ({"type": "allow_by_key", "keys": ["echo"]}, ["echo"]),
        ({"type": "allow_by_regex", "patterns": ["db_.*"]}, ["db_read", "db_write"]),
        ({"type": "allow_by_regex", "patterns": ["db"]}, []),  # a pattern matches the whole name
        ({"type": "deny_by_key", "keys": ["crash"]}, ["echo", "reverse", "db_read", "db_write"]),
        ({"type": "deny_by_regex", "patterns": [".*write", "cr.*"]}, ["echo", "reverse", "db_read"]),
    ],
)
def test_a_filter_decides_which_tools_are_allowed(spec: dict | None, expected: list[str]) -> None:
    assert allowed(spec) == expected


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"type": "nope"}, "tool_filters.type"),
        ({"type": "allow_by_key"}, "tool_filters.keys"),
        ({"type": "allow_by_key", "keys": []}, "tool_filters.keys"),
        ({"type": "allow_by_key", "keys": ["ok", 3]}, "tool_filters.keys.1"),
        ({"type": "allow_by_regex", "patterns": ["("]}, "tool_filters.patterns.0"),
        ({"type": "allow_by_key", "patterns": ["x"]}, "tool_filters.keys"),
        ({"type": "allow_all", "keys": ["x"]}, "tool_filters.type"),
    ],
)
def test_a_bad_filter_is_refused_naming_the_field(spec: dict, field: str) -> None:
    with pytest.raises(Invalid) as err:
        normalize(spec)
    assert err.value.details["field"] == field
    assert err.value.message.startswith(field)
