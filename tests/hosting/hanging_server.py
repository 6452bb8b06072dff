"""A stdio MCP server in plain Python that hangs where a test asks it to.

`hanging_server.py MARKER`: while the file MARKER does not exist it answers initialize, tools/list
and the tools `echo` and `wait` (which never answers: a tool call that hangs). Once MARKER exists it
never answers initialize (a server that hangs at start). Every request it leaves unanswered is
said on stderr, so a test can see the run's last lines."""

import json
import sys
from pathlib import Path

MARKER = Path(sys.argv[1])
TOOLS = [
    {"name": name, "description": name, "inputSchema": {"type": "object", "properties": {}}}
    for name in ("echo", "wait")
]


def answer(request: dict) -> dict | None:
    method, rid = request.get("method"), request.get("id")
    if rid is None:
        return None
    if method == "initialize" and MARKER.exists():
        print("hanging-server: not answering initialize", file=sys.stderr, flush=True)
        return None
    if method == "initialize":
        result = {
            "protocolVersion": request["params"]["protocolVersion"],
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "hanging-server", "version": "1"},
        }
    elif method == "tools/list":
        result = {"tools": TOOLS}
    elif method == "tools/call" and request["params"]["name"] == "wait":
        print("hanging-server: not answering the call to wait", file=sys.stderr, flush=True)
        return None
    elif method == "tools/call":
        result = {"content": [{"type": "text", "text": "echoed"}], "isError": False}
    else:
        result = {}
    return {"jsonrpc": "2.0", "id": rid, "result": result}


for line in sys.stdin:  # stdin closed: the gateway gave up on this run
    if line.strip():
        reply = answer(json.loads(line))
        if reply is not None:
            print(json.dumps(reply), flush=True)
