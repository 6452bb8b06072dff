"""Lifecycle rules of projects, environments, servers and resources. Pure: statuses in, errors out."""

from dataclasses import dataclass

from dockyard.domain.errors import Conflict


@dataclass(frozen=True)
class Blocker:
    kind: str
    related_entity_type: str | None = None
    related_entity_id: str | None = None
    count: int = 0

    def wire(self) -> dict[str, object]:
        """As the API spells it (camelCase, the same keys as a delete-check's blockers)."""
        return {
            "kind": self.kind,
            "relatedEntityType": self.related_entity_type,
            "relatedEntityId": self.related_entity_id,
            "count": self.count,
        }


def ensure_project_active(status: str, project_id: str) -> None:
    if status != "active":
        raise Conflict(
            f"Project {project_id} is {status} and accepts no new work.",
            code="project_archived",
            details={"projectId": project_id, "lifecycleStatus": status},
            next_action=f"Restore it first: dockyard projects restore {project_id}",
        )


def ensure_environment_writable(status: str, environment_id: str) -> None:
    if status == "locked":
        raise Conflict(
            f"Environment {environment_id} is locked; it stays readable but refuses changes.",
            code="environment_locked",
            details={"environmentId": environment_id},
            next_action=f"Unlock it first: dockyard environments unlock {environment_id}",
        )
    if status == "archived":
        raise Conflict(
            f"Environment {environment_id} is archived and refuses changes.",
            code="environment_archived",
            details={"environmentId": environment_id},
            next_action="Clone it into a new environment to keep working with its configuration.",
        )


def ensure_resource_active(status: str, resource_id: str) -> None:
    if status != "active":
        raise Conflict(
            f"Resource {resource_id} is {status} and refuses changes.",
            code="resource_archived",
            details={"resourceId": resource_id, "lifecycleStatus": status},
            next_action="Create a new resource, or read this one's history.",
        )


def ensure_server_active(status: str, server_id: str) -> None:
    if status != "active":
        raise Conflict(
            f"Server {server_id} is {status} and cannot receive new work.",
            code="server_inactive",
            details={"serverId": server_id},
            next_action="Register a new server, or use another active one: dockyard servers list",
        )


def project_delete_blockers(status: str, project_id: str, live_resources: int) -> list[Blocker]:
    blockers = []
    if status == "active":
        blockers.append(Blocker("active-project", "project", project_id, 1))
    if live_resources:
        blockers.append(Blocker("resources", "project", project_id, live_resources))
    return blockers


def server_delete_blockers(status: str, server_id: str, is_control_plane: bool) -> list[Blocker]:
    blockers = []
    if status == "active":
        blockers.append(Blocker("active-server", "server", server_id, 1))
    if is_control_plane:
        blockers.append(Blocker("control-plane-server", "server", server_id, 1))
    return blockers


def refuse_if_blocked(blockers: list[Blocker], what: str, next_action: str) -> None:
    if blockers:
        raise Conflict(
            f"{what} cannot be deleted yet: " + ", ".join(f"{b.kind} ({b.count})" for b in blockers) + ".",
            code="delete_blocked",
            details={"blockers": [b.wire() for b in blockers]},
            next_action=next_action,
        )


def ensure_confirmed(given: str, expected: str, field: str) -> None:
    if given != expected:
        raise Conflict(
            f"Confirmation does not match: {field} must be {expected!r}.",
            code="confirmation_mismatch",
            details={"field": field},
            next_action=f"Send confirmation.{field} = {expected!r} to confirm.",
        )
