"""One deployment attempt's state and the steps every strategy shares: move between statuses, write
phases to the timeline, run install/build/release steps, start the candidate next to the live version,
verify it, switch, route and finish. The run itself and the strategies are in pipeline/execute.py,
execute_workspace.py, execute_container.py and rollback.py; they build on this module.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dockyard.config import Settings
from dockyard.domain import variables
from dockyard.domain.deployment import ensure_move
from dockyard.domain.profiles import HealthCheck, NetworkProfile, RuntimeProfile
from dockyard.operations.context import utc_now
from dockyard.operations.variables import store as variable_store
from dockyard.pipeline import workspace
from dockyard.pipeline.app_env import DATA_DIR_VARIABLE, app_data_dir, django_env
from dockyard.pipeline.detect import Evidence, detect
from dockyard.pipeline.failures import DeployFailure
from dockyard.pipeline.planner import Plan, plan, runtime_plan_document
from dockyard.pipeline.timeline import Timeline
from dockyard.pipeline.verify import LivePort, confirm_switch, failure, verify
from dockyard.runtimes import engine
from dockyard.runtimes.host_process import PortTaken
from dockyard.runtimes.protocol import InstanceSpec
from dockyard.secrets import vault
from dockyard.secrets.masking import NO_MASK, Masker
from dockyard.services import Services
from dockyard.work import queue

if TYPE_CHECKING:
    from dockyard.edge.sync import Routed
from dockyard.store.tables import Deployment

log = logging.getLogger("dockyard.pipeline")
TAIL_LINES = 20


class Canceled(Exception):
    pass


class RolledBack(Exception):
    """The switch failed and the previous version was restored."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def tail(path: Path, lines: int = TAIL_LINES) -> list[str]:
    try:
        return path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return []


@dataclass(frozen=True)
class Configuration:
    """The deployment's variables from its snapshot: build-time ones for install and build, runtime
    ones for the process; `mask` hides its secret values in everything written about the run."""

    build: dict[str, str] = field(default_factory=dict)
    runtime: dict[str, str] = field(default_factory=dict)
    mask: Masker = NO_MASK

    @classmethod
    def of(cls, session: Session, settings: Settings, snapshot: dict[str, Any] | None) -> "Configuration":
        opened = vault.open_values(session, settings, variable_store.snapshot_refs(snapshot))
        return cls(
            build=variables.values(snapshot, "build-time", opened),
            runtime=variables.values(snapshot, "runtime", opened),
            mask=Masker(opened.values()),
        )


class Execution:
    def __init__(self, svc: Services, deployment_id: str) -> None:
        self.svc, self.id = svc, deployment_id
        self.timeline = Timeline(svc.db, deployment_id)
        self.candidate_started = False
        self.config = Configuration()
        self.server_id = ""
        self._running: tuple[str, float] | None = None  # the phase under way, since when (monotonic)

    # -- state --
    def move(self, target: str, **fields: Any) -> None:
        with self.svc.db.session() as s:
            dep = s.get(Deployment, self.id)
            assert dep is not None
            if dep.status == "cancel-requested" and target not in ("canceled", "failed"):
                raise Canceled()
            ensure_move(self.id, dep.status, target)
            dep.status = target
            for key, value in fields.items():
                setattr(dep, key, value)

    def canceled(self) -> bool:
        with self.svc.db.session() as s:
            status = s.scalar(select(Deployment.status).where(Deployment.id == self.id))
        return status in (None, "cancel-requested")

    def checkpoint(self) -> None:
        with self.svc.db.session() as s:
            dep = s.get(Deployment, self.id)
            if dep is None or dep.status == "cancel-requested":
                raise Canceled()

    def phase(self, name: str, summary: str) -> None:
        self.checkpoint()
        self._phase_done()
        self._running = (name, time.monotonic())
        self.timeline.event("phase-started", name, "running", summary)
        self.timeline.log(name, summary)
        queue.progress(self.svc.db, "deployment", self.id, name, summary)

    def record_artifact(self, artifact: dict[str, Any]) -> None:
        """What the candidate runs from, kept on the attempt for a later rollback (and for reconcile)."""
        with self.svc.db.session() as s:
            dep = s.get(Deployment, self.id)
            if dep is not None:
                dep.runtime_state = {**(dep.runtime_state or {}), "artifact": artifact}

    # -- the steps the strategies share --
    def route(self, resource_id: str, server_id: str, url: str) -> "Routed":
        """Put the live app behind the server's edge proxy, when it has one; never fails the deploy."""
        from dockyard.edge.sync import Routed, route_resource

        try:
            routed = route_resource(self.svc, resource_id, server_id)
        except Exception as exc:  # the app is live on its direct URL whatever the edge does
            log.exception("routing %s failed", resource_id)
            routed = Routed(problem=f"{type(exc).__name__}: {exc}")
        if routed.url:
            self.timeline.log("switch", f"routed at {routed.url}")
        if routed.problem:
            self.timeline.log(
                "switch", f"edge proxy: {routed.problem}; the app answers at {url}", level="warn"
            )
        return routed

    def _phase_done(self) -> None:
        """Say how long the phase under way took (a line in the timeline, and `phase-completed`)."""
        if self._running is None:
            return
        name, since = self._running
        self._running = None
        took = f"{name} took {time.monotonic() - since:.2f} s"
        self.timeline.event("phase-completed", name, "succeeded", took)
        self.timeline.log(name, took)

    def finish(self, status: str, summary: str, **fields: Any) -> None:
        if status == "succeeded":
            self._phase_done()
        if fields.get("failure"):
            failure = fields["failure"]
            fields["failure"] = {
                k: self.timeline.mask(v) if isinstance(v, str) else v for k, v in failure.items()
            }
        self.move(status, finished_at=utc_now(), **fields)
        self.timeline.event(
            f"deployment-{status}", None, status, summary, retriable=status in ("failed", "rolled-back")
        )

    def detect_and_plan(
        self, snapshot: dict[str, Any], server: dict[str, Any]
    ) -> tuple[Plan, dict[str, Any]]:
        source = snapshot.get("source") or {}
        self.phase("detect", f"reading {source.get('locator')}")
        image = source.get("locator") if source.get("kind") == "docker-image" else None
        path = Path(source.get("locator") or "")
        try:
            evidence = Evidence(reasoning=(f"the source is the image {image}",)) if image else detect(path)
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise DeployFailure(
                "detect",
                "source-path-missing",
                f"source folder {path} is not there ({exc})",
                "Deploy from an existing folder, or reconfigure the resource's source.",
            ) from exc
        for line in evidence.reasoning:
            self.timeline.log("detect", line)
        for line in evidence.warnings:
            self.timeline.log("detect", line, level="warn")
        self.phase("plan", "planning the runtime")
        p = plan(
            evidence,
            RuntimeProfile.model_validate(snapshot.get("runtimeProfile") or {}),
            NetworkProfile.model_validate(snapshot.get("networkProfile") or {}),
            HealthCheck.model_validate(snapshot.get("healthPolicy") or {}),
            image=image,
            engine=bool(evidence.dockerfile_path) and engine.available(),
        )
        doc = runtime_plan_document(f"plan_{self.id[4:]}", p, evidence, source, server, utc_now())
        if p.blocked:
            first = p.blocked[0]
            raise DeployFailure(
                "plan",
                first.code,
                "; ".join(r.message for r in p.blocked),
                f"{first.fix_label}: dockyard resources {first.fix_operation.split('.', 1)[1]}",
            )
        what = f"image {p.image}" if p.image else f"start: {p.start_command or 'the image default'}"
        self.timeline.log("plan", f"strategy {p.build_strategy} on the {p.runtime_kind} runtime; {what}")
        return p, doc

    def start_verify_switch(self, resource_id: str, work: Path, env: dict[str, str], p: Plan) -> str:
        artifact = {
            "kind": "workspace",
            "deploymentId": self.id,
            "path": str(work),
            "command": p.start_command or "",
            "venv": env.get("VIRTUAL_ENV"),
            "fixedPort": p.fixed_port,
            "framework": p.framework,
        }
        return self.start_workspace(resource_id, artifact, env, p.health)

    def start_workspace(
        self, resource_id: str, artifact: dict[str, Any], env: dict[str, str], health: HealthCheck
    ) -> str:
        """Start a candidate from a workspace (fresh, or retained for a rollback) on a free port of its
        own in PORT, never the internal port (two resources may both say 3000; versions overlap)."""
        port, fixed = self.svc.runtime.allocate_port(), artifact.get("fixedPort")
        instead = f" (PORT; the internal port {fixed} is for containers)" if fixed else ""
        self.phase("start", f"starting the candidate on port {port}{instead}")
        log_path = Path(artifact["path"]).parent / f"{self.id}.log"
        spec = InstanceSpec(
            self.id,
            artifact["command"],
            artifact["path"],
            {
                **self.process_env(resource_id, env, artifact.get("framework")),
                "PORT": str(port),
                "HOST": "127.0.0.1",
            },
            port,
            str(log_path),
        )
        self.record_artifact(artifact)
        self.start_candidate(self.svc.runtime, resource_id, spec)
        return self.verify_switch(resource_id, port, log_path, health)

    def start_candidate(self, runtime: Any, resource_id: str, spec: Any) -> None:
        """Start the candidate on `runtime` (the host's, or containers on it); a stable port the
        runner cannot listen on fails the deployment, naming the port and what holds it."""
        try:
            reply = runtime.start_candidate(resource_id, spec)
        except PortTaken as exc:
            raise DeployFailure("start", "front-port-unavailable", str(exc), exc.next_action) from exc
        self.candidate_started = True
        for note in reply.get("notes") or ():
            self.timeline.log("start", note, level="warn")

    def verify_switch(
        self, resource_id: str, port: int, log_path: Path, health: HealthCheck, port_hint: str | None = None
    ) -> str:
        """Verify the started candidate on `port`; promote it, or fail with the app's last lines."""
        self.phase("verify", "waiting for the candidate to answer its health check")

        def alive() -> bool:
            self.checkpoint()
            status = self.svc.runtime.status(resource_id) or {}
            cand = status.get("candidate") or {}
            return (
                cand.get("deploymentId") == self.id
                and cand.get("state") == "running"
                and not cand.get("restarts")
            )

        verdict = verify(health, port, alive)
        if not verdict.healthy:
            self.app_output(log_path)
            hint = port_hint or f"Check that the app listens on $PORT (it was told PORT={port}) on 127.0.0.1."
            raise DeployFailure("verify", "health-check-failed", *failure(verdict, health, resource_id, hint))
        self.timeline.log("verify", f"healthy: {verdict.reason}")
        self.switch(resource_id, log_path, health)
        url = self.svc.runtime.url(resource_id) or ""
        self.timeline.log("switch", f"live at {url}")
        return url

    def app_output(self, log_path: Path) -> None:
        self.timeline.lines(
            "verify", [f"app: {line}" for line in tail(log_path)], level="warn", source="application"
        )

    def switch(self, resource_id: str, log_path: Path, health: HealthCheck) -> None:
        """Promote the candidate, keeping the old instance until the live port answers as the candidate
        did; if it does not, the old instance serves again (RolledBack)."""
        self.phase("switch", "switching traffic to the candidate")
        self.checkpoint()
        runtime = self.svc.runtime
        status = runtime.promote(resource_id, self.id, hold=True)
        self.candidate_started = False
        live = LivePort(status["frontPort"], self.id, status.get("probeToken"))
        problem = confirm_switch(health, live)
        if problem is None:
            runtime.confirm(resource_id)
            return
        self.app_output(log_path)
        runtime.revert(resource_id, self.id)
        if status.get("previous"):
            raise RolledBack(f"the switch failed: {problem}; the previous version serves again")
        raise DeployFailure(
            "switch", "switch-failed", f"the switch failed: {problem}", "Read the app's output above."
        )

    def app_env(self, resource_id: str, framework: str | None, data_dir: str | None = None) -> dict[str, str]:
        """What the app's process and release step are told, lowest first: what Dockyard sets (the
        persistent data folder, `data_dir` inside a container; Django's hostnames), then the
        snapshot's runtime variables. PORT and HOST, which the deployment decides, go on top."""
        folder = data_dir or str(app_data_dir(self.svc.settings.data_dir, resource_id))
        django = django_env(self.svc, resource_id, self.server_id) if framework == "django" else {}
        return {DATA_DIR_VARIABLE: folder, **django, **self.config.runtime}

    def process_env(self, resource_id: str, env: dict[str, str], framework: str | None) -> dict[str, str]:
        """A host process's environment: `env` (PATH with the app's tools first) < platform defaults <
        app_env."""
        defaults = {"PYTHONUNBUFFERED": "1", "NODE_ENV": "production"}
        return {**env, **defaults, **self.app_env(resource_id, framework)}

    def run_step(self, phase: str, command: str, work: Path, env: dict[str, str]) -> None:
        """Run one of the app's commands (install, build, release) in its workspace, its output logged."""
        self.guard(
            phase,
            lambda: workspace.run_streamed(command, work, env, self.emitter(phase), phase, self.canceled),
        )

    def emitter(self, phase: str) -> Callable[[str], None]:
        return lambda line: self.timeline.log(phase, line, source="build")

    def guard(self, phase: str, step: Callable[[], Any]) -> Any:
        try:
            return step()
        except workspace.StepCanceled as exc:
            raise Canceled() from exc
        except workspace.StepFailed as exc:
            raise DeployFailure(
                phase,
                f"{phase}-failed",
                str(exc),
                f"Fix the {phase} step (its output is above) and deploy again.",
            ) from exc
