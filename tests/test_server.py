"""`dockyard serve --port N` without DOCKYARD_PUBLIC_URL or DOCKYARD_URL: the links it gives out
(MCP session connection URLs, the printed API docs link) point at port N, where it listens."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dockyard.config import DEFAULT_PORT, Settings
from hosting.mcp_helpers import ECHO_STDIO, McpApi

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def unconfigured(tmp_path_factory: pytest.TempPathFactory, live_server_class: type) -> Iterator[Any]:
    """A real serve on a free (non-default) port, with no URL settings in its environment."""
    server = live_server_class(
        tmp_path_factory.mktemp("serve-port"), tmp_path_factory.getbasetemp() / "xdg-cache"
    )
    assert server.port != DEFAULT_PORT
    for name in ("DOCKYARD_URL", "DOCKYARD_PUBLIC_URL"):
        server.env.pop(name, None)
    try:
        server.start()
        yield server
    finally:
        server.stop()


def test_session_connection_urls_use_the_port_serve_listens_on(unconfigured: Any) -> None:
    mcp_api = McpApi(unconfigured.url, unconfigured.token)
    version = mcp_api.deploy_version(ECHO_STDIO)
    assert version["status"] == "deployment_succeeded", version["deployment"]
    dep = mcp_api.call("POST", "/provider-deployments", 201, json={"provider_id": version["provider_id"]})
    session: dict[str, Any] = mcp_api.session_for(dep["id"])
    base = f"{unconfigured.url}/mcp/{session['id']}"
    assert session["connection_url"] == base
    assert session["connection_urls"] == {"streamable_http": base, "sse": f"{base}/sse"}


def test_the_printed_links_use_that_port(unconfigured: Any) -> None:
    printed = Path(unconfigured.log).read_text()
    assert f"listening on {unconfigured.url}" in printed
    assert f"API docs: {unconfigured.url}/api/docs" in printed


@pytest.mark.parametrize(
    ("host", "expected"),
    [("0.0.0.0", "http://127.0.0.1:9100"), ("::", "http://127.0.0.1:9100"), ("::1", "http://[::1]:9100")],
)
def test_a_wildcard_or_ipv6_listen_address_gives_a_url_this_machine_reaches(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, host: str, expected: str
) -> None:
    for name in ("DOCKYARD_URL", "DOCKYARD_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    assert Settings.from_env(tmp_path, listen=(host, 9100)).public_url == expected
    monkeypatch.setenv("DOCKYARD_PUBLIC_URL", "https://dock.example.com/")
    assert Settings.from_env(tmp_path, listen=(host, 9100)).public_url == "https://dock.example.com"
