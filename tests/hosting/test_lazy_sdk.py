"""The MCP SDK is loaded only when needed: an idle control plane does not carry it (idle RSS is tracked)."""

import subprocess
import sys


def test_an_assembled_control_plane_has_not_imported_the_mcp_sdk(tmp_path: object) -> None:
    code = (
        "import sys, tempfile\n"
        "from dockyard.config import Settings\n"
        "from dockyard.control_plane import assemble\n"
        "assemble(Settings.from_env(tempfile.mkdtemp()))\n"
        "heavy = ('mcp', 'mcp_types', 'jsonschema', 'httpx2', 'sse_starlette')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
