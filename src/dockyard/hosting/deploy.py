"""The deploy job of a custom server/provider version (run by the durable worker): start or reach the
server, discover what it offers over MCP, and make it a provider version sessions can use. Every
step is recorded on the deployment with its status and timestamped log lines as it happens."""

import logging
import threading
from typing import Any

import anyio
from sqlalchemy import select

from dockyard.domain.ids import new_id
from dockyard.hosting.discovery import discover
from dockyard.hosting.launch_failures import describe
from dockyard.hosting.sources import launchable, masker
from dockyard.operations.context import utc_now
from dockyard.outbound.guard import EgressDenied
from dockyard.services import Services
from dockyard.store.mcp_tables import (
    McpCustomDeployment,
    McpCustomEnvironment,
    McpCustomServer,
    McpCustomVersion,
    McpProvider,
    McpProviderVersion,
)

log = logging.getLogger("dockyard.mcp.deploy")
MAX_STEP_LINES = 500


class Steps:
    """The deployment's steps, each write its own short transaction so readers see progress at once."""

    def __init__(self, svc: Services, deployment_id: str) -> None:
        self.db, self.deployment_id = svc.db, deployment_id
        # The server's stderr is logged from its reader while the job ends the step: one writer at a
        # time, or a log line's read-modify-write would put back a step as it was before it ended.
        self._lock = threading.Lock()

    def _change(self, change: Any) -> None:
        with self._lock, self.db.session() as s:
            dep = s.get(McpCustomDeployment, self.deployment_id)
            steps = [dict(step, logs=list(step["logs"])) for step in dep.steps]
            change(steps)
            dep.steps, dep.updated_at = steps, utc_now()

    def begin(self, step_type: str, line: str | None = None) -> None:
        now = utc_now()

        def add(steps: list[dict[str, Any]]) -> None:
            steps.append(
                {
                    "object": "custom_server.deployment.step",
                    "type": step_type,
                    "status": "running",
                    "logs": [{"type": "info", "timestamp": now, "line": line}] if line else [],
                    "created_at": now,
                    "started_at": now,
                    "ended_at": None,
                }
            )

        self._change(add)

    def log(self, line: str, level: str = "info") -> None:
        def add(steps: list[dict[str, Any]]) -> None:
            if steps and len(steps[-1]["logs"]) < MAX_STEP_LINES:
                steps[-1]["logs"].append({"type": level, "timestamp": utc_now(), "line": line[:2000]})

        self._change(add)

    def end(self, status: str = "completed", line: str | None = None, level: str = "info") -> None:
        def close(steps: list[dict[str, Any]]) -> None:
            if line:
                steps[-1]["logs"].append({"type": level, "timestamp": utc_now(), "line": line[:2000]})
            steps[-1]["status"], steps[-1]["ended_at"] = status, utc_now()

        self._change(close)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def run_custom_deployment(svc: Services, deployment_id: str) -> None:
    steps = Steps(svc, deployment_id)
    now = utc_now()
    with svc.db.session() as s:
        dep = s.get(McpCustomDeployment, deployment_id)
        if dep is None or dep.status != "queued":
            return
        version = s.get(McpCustomVersion, dep.version_id)
        dep.status, dep.started_at, dep.updated_at = "deploying", now, now
        version.status, version.updated_at = "deploying", now
        source, version_id = dict(version.source), version.id
        label = f"version {version.identifier} (#{version.index})"
    steps.begin("started", f"Deploying {label} from {_describe_source(source)}")
    steps.end()
    remote = source["type"] == "remote"
    steps.begin(
        "remote_server_connection_test" if remote else "booting",
        f"Connecting to {source['url']}" if remote else "Starting the server",
    )
    stage = {"connected": False}

    def connected(summary: str) -> None:
        stage["connected"] = True
        steps.end("completed", summary)
        steps.begin("discovering", "Listing tools, prompts and resources")

    mask = masker({})  # the server's own secrets once they are opened: it may print its environment

    def stderr(line: str) -> None:
        steps.log(mask(line), "stderr")

    egress = svc.settings.egress_policy()
    try:
        ready = launchable(svc.settings.data_dir, source, version_id)
        mask = masker(ready)
        found = anyio.run(
            lambda: discover(
                ready,
                stderr=stderr,
                data_dir=svc.settings.data_dir,
                connected=connected,
                timeout_s=svc.settings.mcp_discovery_timeout_s,
                egress=egress,
            )
        )
    except EgressDenied as exc:  # the URL points where the control plane may not connect
        steps.end("failed", exc.message, "error")
        _finish(svc, deployment_id, failure={"code": exc.code, "message": exc.message})
        return
    except Exception as exc:
        message = describe(exc)
        if remote and not stage["connected"]:
            message = f"{source['url']} does not speak MCP ({message})"
        steps.end("failed", message, "error")
        _finish(svc, deployment_id, failure={"code": "deployment_failed", "message": message})
        return
    steps.end(
        "completed",
        f"Discovered {_plural(len(found['tools']), 'tool')}, {_plural(len(found['prompts']), 'prompt')}, "
        f"{_plural(len(found['resources']), 'resource')}"
        + (f": {', '.join(t['name'] for t in found['tools'][:20])}" if found["tools"] else ""),
    )
    steps.begin("deploying", "Registering the provider version")
    provider_version_id = _register(svc, deployment_id, found)
    steps.end("completed", f"Provider version {provider_version_id} is current")
    steps.begin("deployed", "Ready: sessions boot the server on their first call")
    steps.end()
    _finish(svc, deployment_id)


def _describe_source(source: dict[str, Any]) -> str:
    if source["type"] == "stdio":
        return f"the stdio command `{' '.join([source['command'], *source.get('args', [])])}`"
    if source["type"] == "container":
        return f"the container image {source['image_ref']}"
    return f"the remote MCP server {source['url']} ({source.get('transport', 'streamable_http')})"


def _register(svc: Services, deployment_id: str, found: dict[str, Any]) -> str:
    now = utc_now()
    with svc.db.session() as s:
        dep = s.get(McpCustomDeployment, deployment_id)
        version = s.get(McpCustomVersion, dep.version_id)
        custom = s.get(McpCustomServer, dep.custom_id)
        if custom.provider_id is None:
            provider = McpProvider(
                id=new_id("provider"),
                custom_id=custom.id,
                name=custom.name,
                description=custom.description,
                created_at=now,
                updated_at=now,
            )
            s.add(provider)
            s.flush()
            custom.provider_id = provider.id
        provider = s.get(McpProvider, custom.provider_id)
        pv = McpProviderVersion(
            id=new_id("provider_version"),
            provider_id=provider.id,
            custom_version_id=version.id,
            version=version.identifier,
            source=version.source,
            config_schema=version.config_schema,
            transformer=version.transformer,
            discovery=found,
            created_at=now,
            updated_at=now,
        )
        s.add(pv)
        s.flush()
        provider.current_version_id, provider.updated_at = pv.id, now
        version.provider_id, version.provider_version_id = provider.id, pv.id
        env = s.scalars(
            select(McpCustomEnvironment).where(
                McpCustomEnvironment.custom_id == custom.id, McpCustomEnvironment.name == "production"
            )
        ).first()
        if env is not None:
            env.current_version_id, env.updated_at = version.id, now
        return pv.id


def _finish(svc: Services, deployment_id: str, failure: dict[str, Any] | None = None) -> None:
    now = utc_now()
    with svc.db.session() as s:
        dep = s.get(McpCustomDeployment, deployment_id)
        version = s.get(McpCustomVersion, dep.version_id)
        dep.status = "failed" if failure else "completed"
        dep.error, dep.ended_at, dep.updated_at = failure, now, now
        version.status = "deployment_failed" if failure else "deployment_succeeded"
        version.updated_at = now
    log.info("MCP deployment %s %s", deployment_id, dep.status)
