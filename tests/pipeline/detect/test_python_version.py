"""Which Python an app asks for, and the choice among interpreters: pure, no I/O."""

import pytest

from dockyard.pipeline.detect.python_version import (
    Interpreter,
    UnreadableRequest,
    choose,
    parse,
    requested,
    unavailable,
)

OWN = Interpreter((3, 11, 7), "/venv/bin/python")
MACHINE = [
    OWN,
    Interpreter((3, 11, 2), "/usr/bin/python3.11"),
    Interpreter((3, 9, 18), "/pyenv/3.9.18/bin/python3"),
    Interpreter((3, 12, 1), "/pyenv/3.12.1/bin/python3"),
    Interpreter((3, 13, 0), "/pyenv/3.13.0/bin/python3"),
    Interpreter((3, 10, 13), "/pyenv/3.10.13/bin/python3"),
]


def test_python_version_wins_over_runtime_txt_and_requires_python() -> None:
    pyproject = {"project": {"requires-python": ">=3.10"}}
    request = requested("# pinned\n\n3.12\n", "python-3.9.1", pyproject)
    assert request is not None and (request.origin, request.prefix) == (".python-version", (3, 12))
    runtime = requested(None, "python-3.9.1\n", pyproject)
    assert runtime is not None and (runtime.origin, runtime.prefix) == ("runtime.txt", (3, 9, 1))
    spec = requested("", None, pyproject)
    assert spec is not None and spec.origin == "requires-python in pyproject.toml"
    assert requested(None, None, {"project": {"name": "x"}}) is None


@pytest.mark.parametrize(
    ("text", "version", "allowed"),
    [
        ("3.12", (3, 12, 1), True),
        ("3.12.1", (3, 12, 1), True),
        ("3.12.3", (3, 12, 1), False),
        ("3.1", (3, 10, 13), False),  # a prefix of components, not of characters
        ("cpython-3.13", (3, 13, 0), True),
        (">=3.10,<3.13", (3, 12, 1), True),
        (">=3.10,<3.13", (3, 13, 0), False),
        ("~=3.11.0", (3, 11, 7), True),
    ],
)
def test_a_request_allows_matching_versions(text: str, version: tuple[int, ...], allowed: bool) -> None:
    assert parse(text, ".python-version").allows(version) is allowed


def test_an_unreadable_request_says_what_it_asked_for() -> None:
    with pytest.raises(UnreadableRequest, match="'pypy-latest-please'"):
        parse("pypy-latest-please", ".python-version")


def test_dockyards_own_python_is_chosen_when_it_fits() -> None:
    assert choose(None, MACHINE) is OWN
    assert choose(parse("3.11", ".python-version"), MACHINE) is OWN
    assert choose(parse(">=3.9", "requires-python in pyproject.toml"), MACHINE) is OWN


def test_otherwise_the_newest_fitting_interpreter_is_chosen() -> None:
    assert choose(parse("3.11.2", ".python-version"), MACHINE) == MACHINE[1]
    assert choose(parse(">=3.12", "requires-python"), MACHINE) == MACHINE[4]
    assert choose(parse(">=3.9,<3.11", "requires-python"), MACHINE) == MACHINE[5]
    assert choose(parse("3.4", ".python-version"), MACHINE) is None


def test_nothing_fitting_names_the_request_the_machine_and_the_next_action() -> None:
    message, action = unavailable(parse("3.4", ".python-version"), MACHINE)
    assert message == (
        ".python-version asks for Python 3.4, but this machine has Python 3.9.18, 3.10.13, 3.11.2, "
        "3.11.7, 3.12.1, 3.13.0"
    )
    assert action.startswith("Install Python 3.4 (`pyenv install 3.4`), or change .python-version to")
    _, spec_action = unavailable(parse(">=3.14", "requires-python in pyproject.toml"), MACHINE)
    assert "satisfies >=3.14" in spec_action and "requires-python in pyproject.toml so that it" in spec_action
