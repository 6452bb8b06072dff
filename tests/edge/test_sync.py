"""Keeping the edge in step with the store, against the real nginx and apps deployed in-process: apps
deployed before the edge get their routes, and one bad stored route never blocks the others."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from test_nginx import free_port, get

from dockyard.domain.ids import new_id
from dockyard.edge.process import find_binary
from dockyard.edge.protocol import EdgeUnavailable
from dockyard.edge.sync import make
from dockyard.operations.context import utc_now
from dockyard.pipeline.execute import run_deployment
from dockyard.services import Services
from dockyard.store.tables import AccessRoute, Server
from polling import poll


def created(resp: Any) -> str:
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


@pytest.fixture
def svc(stack: Any) -> Iterator[Services]:
    try:
        find_binary("nginx", "nginx")
    except EdgeUnavailable as exc:
        pytest.skip(f"{exc} (as root: `make system-deps`)")
    services = Services.create(stack.settings, stack.db)
    yield services
    services.runtime.shutdown_all()
    edge = make(stack.settings.data_dir, {"kind": "nginx"})
    if edge is not None:
        edge.stop()


@pytest.fixture
def server(api: Any) -> str:
    return next(s["id"] for s in api.get("/api/servers").json()["items"] if s["providerKey"] == "local")


class Apps:
    """Static sites deployed to the local server through the API and the pipeline, in this process."""

    def __init__(self, api: Any, svc: Services, server: str, root: Path) -> None:
        self.api, self.svc, self.server, self.root = api, svc, server, root
        self.project = created(api.post("/api/projects", json={"name": "shop"}))
        self.environment = created(
            api.post("/api/environments", json={"projectId": self.project, "name": "production"})
        )

    def deploy(self, name: str, body: str) -> str:
        """Deploy a site answering `body` as resource `name`; returns the resource id."""
        folder = self.root / name
        folder.mkdir()
        (folder / "index.html").write_text(body)
        scope = {"projectId": self.project, "environmentId": self.environment}
        resource = created(self.api.post("/api/resources", json={**scope, "name": name}))
        source = {"source": {"kind": "local-folder", "locator": str(folder)}}
        assert self.api.post(f"/api/resources/{resource}/source", json=source).status_code == 200
        ids = {**scope, "resourceId": resource, "serverId": self.server}
        deployment = created(self.api.post("/api/deployments", json=ids))
        run_deployment(self.svc, deployment)
        shown = self.api.get(f"/api/deployments/{deployment}").json()["deployment"]
        assert shown["status"] == "succeeded", shown
        return resource

    def edge(self, **extra: str) -> int:
        """Configure and bootstrap nginx on a free port; returns that port."""
        port = free_port()
        body = {"proxyKind": "nginx", "httpPort": port, "httpsPort": free_port(), **extra}
        assert (
            self.api.post(f"/api/servers/{self.server}/edge-proxy/configuration", json=body).status_code
            == 200
        )
        assert self.api.post(f"/api/servers/{self.server}/edge-proxy/bootstrap", json={}).status_code == 200
        return port

    def edge_state(self) -> dict[str, Any]:
        return self.api.get(f"/api/servers/{self.server}").json()["server"]["edgeProxy"]


@pytest.fixture
def apps(api: Any, svc: Services, server: str, tmp_path: Path) -> Apps:
    return Apps(api, svc, server, tmp_path)


def test_bootstrapping_an_edge_routes_the_apps_deployed_before_it(apps: Apps) -> None:
    """Before: configure + bootstrap after the deploys left both apps unrouted until redeployed."""
    apps.deploy("shop", "the shop")
    apps.deploy("blog", "the blog")
    port = apps.edge()
    assert apps.edge_state()["status"] == "ready"
    assert get(port, "shop.localhost").text == "the shop"
    assert get(port, "blog.localhost").text == "the blog"


def test_configuring_a_running_edge_again_applies_the_routes(apps: Apps, stack: Any) -> None:
    port = apps.edge()
    apps.deploy("shop", "the shop")
    with stack.db.session() as s:  # the route is lost, as if the edge had been configured before it
        for row in s.scalars(select(AccessRoute)):
            s.delete(row)
    same = {"proxyKind": "nginx", "httpPort": port}
    assert apps.api.post(f"/api/servers/{apps.server}/edge-proxy/configuration", json=same).status_code == 200
    assert poll(lambda: get(port, "shop.localhost").text == "the shop", "the route re-applied")
    assert apps.edge_state()["status"] == "ready"


def test_a_stored_route_the_edge_cannot_render_is_skipped_and_the_others_served(
    apps: Apps, stack: Any
) -> None:
    """Before: the whole apply failed on the bad row, so no app deployed after it got a route."""
    port = apps.edge()
    broken = apps.deploy("broken", "broken")
    with stack.db.session() as s:  # stored before the door refused such prefixes
        server = s.get(Server, apps.server)
        assert server is not None
        s.add(
            AccessRoute(
                id=new_id("access_route"),
                resource_id=broken,
                server_id=server.id,
                hostname="broken-api.localhost",
                path_prefix="/a;b",
                source="domain-binding",
                created_at=utc_now(),
            )
        )
    apps.deploy("shop", "the shop")
    assert get(port, "shop.localhost").text == "the shop"
    assert get(port, "broken.localhost").text == "broken"  # its good route stays served
    state = apps.edge_state()
    assert state["status"] == "ready"
    assert [(r["resourceId"], r["hostname"]) for r in state["skippedRoutes"]] == [
        (broken, "broken-api.localhost")
    ]
    proxy = apps.api.get(f"/api/resources/{broken}/proxy-configuration").json()
    assert proxy["status"] == "failed"
    skipped = [w for w in proxy["warnings"] if w["code"] == "route-skipped"]
    assert len(skipped) == 1 and "/a;b" in skipped[0]["message"]
    assert "broken.localhost" in proxy["sections"][0]["content"]
    shop = next(i for i in apps.api.get("/api/resources").json()["items"] if i["name"] == "shop")
    assert apps.api.get(f"/api/resources/{shop['id']}/proxy-configuration").json()["status"] == "applied"


def listening_addresses(port: int) -> set[str]:
    """The local addresses with a socket listening on `port` (IPv4, from /proc/net/tcp)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, hex_port = local.split(":")
        if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
            found.add(".".join(str(int(address[i : i + 2], 16)) for i in (6, 4, 2, 0)))
    return found


def test_an_edge_with_a_bind_address_listens_there_only(apps: Apps) -> None:
    apps.deploy("local-only", "only from here")
    port = apps.edge(bindAddress="127.0.0.1")
    shown = apps.api.get(f"/api/servers/{apps.server}").json()["server"]["edgeProxy"]
    assert shown["bindAddress"] == "127.0.0.1"
    assert listening_addresses(port) == {"127.0.0.1"}
    assert get(port, "local-only.localhost").text == "only from here"
    default = apps.edge()  # configured again without one: the address stays
    assert listening_addresses(default) == {"127.0.0.1"}
    refused = apps.api.post(
        f"/api/servers/{apps.server}/edge-proxy/configuration",
        json={"proxyKind": "nginx", "bindAddress": "everywhere"},
    )
    assert refused.status_code == 422 and "bindAddress" in refused.text
