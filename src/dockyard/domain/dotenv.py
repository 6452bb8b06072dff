"""Parsing pasted `.env` content. Pure: text in, entries (with their line numbers) out.

Accepted: blank lines, `# comments`, `KEY=value`, `export KEY=value`, single-quoted values (taken
literally), double-quoted values (escapes \\n \\t \\" \\\\ \\$), quoted values spanning several lines,
and ` # comments` after an unquoted value. Anything else fails the whole import: errors name the
line and what is wrong, never the value.
"""

import re
from dataclasses import dataclass, field

from dockyard.domain.errors import Invalid
from dockyard.domain.variables import KEY_PATTERN, MAX_KEY_LENGTH

_ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([^=\s]*)\s*=(.*)$", re.DOTALL)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$"}


@dataclass(frozen=True)
class ParsedLine:
    key: str
    value: str
    line: int


@dataclass(frozen=True)
class Duplicate:
    key: str
    first_line: int
    last_line: int


@dataclass
class Parsed:
    entries: list[ParsedLine] = field(default_factory=list)  # last occurrence of each key, in order
    duplicates: list[Duplicate] = field(default_factory=list)


def _unescape(body: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), body, flags=re.DOTALL)


def _closing(text: str, quote: str) -> int:
    """Index of the closing quote in `text` (which starts after the opening one), or -1."""
    i = 0
    while i < len(text):
        if quote == '"' and text[i] == "\\":
            i += 2
            continue
        if text[i] == quote:
            return i
        i += 1
    return -1


def _value(rest: str, lines: list[str], index: int) -> tuple[str, int, str | None]:
    """(value, index of its last line, problem) for the text after `=` on line `index`."""
    stripped = rest.lstrip()
    if not stripped or stripped[0] not in "'\"":
        value = re.split(r"\s+#", stripped, maxsplit=1)[0] if stripped and stripped[0] != "#" else ""
        return value.strip(), index, None
    quote, body, end = stripped[0], stripped[1:], index
    while (close := _closing(body, quote)) < 0:
        end += 1
        if end >= len(lines):
            return "", index, f"the {quote} quote opened here is never closed"
        body += "\n" + lines[end]
    trailing = body[close + 1 :].strip()
    if trailing and not trailing.startswith("#"):
        return "", end, "unexpected text after the closing quote"
    inner = body[:close]
    return (_unescape(inner) if quote == '"' else inner), end, None


def parse(content: str) -> Parsed:
    lines = content.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    errors: list[dict[str, object]] = []
    seen: dict[str, ParsedLine] = {}
    first: dict[str, int] = {}
    duplicates: dict[str, Duplicate] = {}
    index = 0
    while index < len(lines):
        number, line = index + 1, lines[index]
        if not line.strip() or line.lstrip().startswith("#"):
            index += 1
            continue
        match = _ASSIGNMENT.match(line)
        if not match:
            errors.append({"line": number, "message": "expected KEY=value"})
            index += 1
            continue
        key, rest = match.group(1), match.group(2)
        value, last, problem = _value(rest, lines, index)
        if not key:
            errors.append({"line": number, "message": "the name before = is missing"})
        elif len(key) > MAX_KEY_LENGTH or not KEY_PATTERN.fullmatch(key):
            errors.append({"line": number, "message": f"{key[:60]!r} is not a valid variable name"})
        elif problem:
            errors.append({"line": number, "message": problem})
        else:
            if key in seen:
                duplicates[key] = Duplicate(key, first[key], number)
                del seen[key]  # re-inserted below: entries keep the order of last occurrences
            first.setdefault(key, number)
            seen[key] = ParsedLine(key, value, number)
        index = last + 1
    if errors:
        summary = "; ".join(f"line {e['line']}: {e['message']}" for e in errors[:5])
        raise Invalid(
            f"The .env content could not be read: {summary}.",
            code="env_import_parse_failed",
            details={"phase": "resource-env-import-parse", "errors": errors},
            next_action="Fix the lines listed in details.errors; nothing was imported.",
        )
    return Parsed(entries=list(seen.values()), duplicates=list(duplicates.values()))
