"""A minimal stdio MCP server in plain Python (no SDK) for container tests: the test image has no
network to install the SDK. It answers initialize, tools/list and tools/call (tool `shout`)."""

import json
import os
import sys

TOOLS = [
    {
        "name": "shout",
        "description": "Upper-case the text",
        "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
    }
]


def answer(request: dict) -> dict | None:
    method, rid = request.get("method"), request.get("id")
    if rid is None:
        return None
    if method == "initialize":
        result = {
            "protocolVersion": request["params"]["protocolVersion"],
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "container-echo", "version": os.environ.get("ECHO_VERSION", "1")},
        }
    elif method == "tools/list":
        result = {"tools": TOOLS}
    elif method == "tools/call":
        text = request["params"]["arguments"]["text"]
        print(f"shout: {text}", file=sys.stderr, flush=True)
        result = {"content": [{"type": "text", "text": text.upper()}], "isError": False}
    elif method == "ping":
        result = {}
    else:
        return {"jsonrpc": "2.0", "id": rid, "error": {"code": -32601, "message": f"no method {method}"}}
    return {"jsonrpc": "2.0", "id": rid, "result": result}


print("container-echo ready", file=sys.stderr, flush=True)
for line in sys.stdin:
    if line.strip():
        reply = answer(json.loads(line))
        if reply is not None:
            print(json.dumps(reply), flush=True)
