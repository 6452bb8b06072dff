"""mcp-echo: a small stdio MCP server written with the official `mcp` SDK.

Tools: `echo` (returns its text), `reverse` (returns it reversed), `crash` (exits the process: shows how
the gateway reports a server that dies during a call). A prompt and a resource show discovery of both.
Config arrives as environment variables (see `transformer` in README): ECHO_PREFIX is put before every
echo.
"""

import os
import sys

from mcp.server import MCPServer
from mcp.server.mcpserver import Context

server = MCPServer("mcp-echo", version="1.0.0")


@server.tool()
def echo(text: str) -> str:
    """Return the text unchanged (after ECHO_PREFIX, when configured)."""
    print(f"echo called with {len(text)} characters", file=sys.stderr, flush=True)
    return os.environ.get("ECHO_PREFIX", "") + text


@server.tool()
def reverse(text: str) -> str:
    """Return the text reversed."""
    return text[::-1]


@server.tool()
def crash(reason: str = "asked to") -> str:
    """Exit the server process at once (for trying out failure reporting)."""
    print(f"mcp-echo: crashing because {reason}", file=sys.stderr, flush=True)
    os._exit(3)


@server.prompt()
def greet(name: str) -> str:
    """A greeting prompt."""
    return f"Say hello to {name}."


@server.resource("echo://about")
def about() -> str:
    """What this server is."""
    return "mcp-echo: echoes text back."


@server.tool()
def whoami(ctx: Context) -> str:
    """Return the X-Echo-Auth header this call came with (over HTTP: shows headers a proxy added)."""
    return (ctx.headers or {}).get("x-echo-auth", "")


if __name__ == "__main__":
    # `server.py` speaks stdio; `server.py --http PORT` serves streamable HTTP at http://127.0.0.1:PORT/mcp
    if len(sys.argv) == 3 and sys.argv[1] == "--http":
        print(f"mcp-echo starting on http://127.0.0.1:{sys.argv[2]}/mcp", file=sys.stderr, flush=True)
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        print("mcp-echo starting on stdio", file=sys.stderr, flush=True)
        server.run("stdio")
