"""How connecting to an MCP server fails, shared by every way of launching one (launch.py,
container_stdio.py) and by what drives them (discovery, runs, deploy): LaunchFailed, one-line
descriptions of exceptions, and the sink a server's stderr is written to. Loads no MCP SDK."""

from collections.abc import Callable

StderrSink = Callable[[str], None]


class LaunchFailed(RuntimeError):
    """The server could not be started or reached; the message says why (no secrets)."""


def describe(exc: BaseException) -> str:
    """One line for an exception, unwrapping exception groups (anyio task groups raise them)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def no_answer(what: str, timeout_s: float, setting: str) -> str:
    """Why a server was given up on: it did not answer `what` in time (and which setting said so)."""
    return f"the server did not answer {what} within {timeout_s:g} s ({setting})"
