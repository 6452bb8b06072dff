"""Parsing pasted .env content."""

import pytest

from dockyard.domain import dotenv
from dockyard.domain.errors import Invalid

CONTENT = """\
# a comment
export API_URL=https://api.example.com   # trailing comment
PLAIN = spaced value
DOUBLE="line1\\nline2 \\"quoted\\""
PEM="-----BEGIN KEY-----
abc123
-----END KEY-----"
EMPTY=

HASH=abc#notacomment
"""


def test_comments_quotes_export_and_multi_line_values() -> None:
    parsed = dotenv.parse(CONTENT)
    values = {p.key: p.value for p in parsed.entries}
    assert values == {
        "API_URL": "https://api.example.com",
        "PLAIN": "spaced value",
        "DOUBLE": 'line1\nline2 "quoted"',
        "PEM": "-----BEGIN KEY-----\nabc123\n-----END KEY-----",
        "EMPTY": "",
        "HASH": "abc#notacomment",
    }


def test_multi_line_value_keeps_its_starting_line() -> None:
    parsed = dotenv.parse('A=1\nPEM="x\ny"\nB=2\n')
    assert [(p.key, p.line) for p in parsed.entries] == [("A", 1), ("PEM", 2), ("B", 4)]
    assert parsed.entries[1].value == "x\ny"


def test_single_quotes_are_literal() -> None:
    (entry,) = dotenv.parse("S='a $HOME \\n b'").entries
    assert entry.value == "a $HOME \\n b"


def test_duplicates_keep_the_last_and_are_reported() -> None:
    parsed = dotenv.parse("A=1\nB=2\nA=3\n")
    assert [(p.key, p.value) for p in parsed.entries] == [("B", "2"), ("A", "3")]
    assert [(d.key, d.first_line, d.last_line) for d in parsed.duplicates] == [("A", 1, 3)]


@pytest.mark.parametrize(
    ("content", "line"),
    [
        ("GOOD=1\nno equals sign here\n", 2),
        ("1ABC=x", 1),
        ("A-B=x", 1),
        ("=value", 1),
        ('A="s3cr3t-open\nB=2\n', 1),
        ("A='x' s3cr3t-tail", 1),
    ],
)
def test_malformed_lines_fail_the_whole_import_naming_the_line_not_the_value(content: str, line: int) -> None:
    with pytest.raises(Invalid) as caught:
        dotenv.parse(content)
    assert caught.value.code == "env_import_parse_failed"
    assert caught.value.details["errors"][0]["line"] == line
    assert "s3cr3t" not in caught.value.message and "s3cr3t" not in str(caught.value.details)
