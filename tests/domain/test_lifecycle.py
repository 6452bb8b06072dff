import pytest

from dockyard.domain import lifecycle
from dockyard.domain.errors import Conflict
from dockyard.domain.lifecycle import Blocker

PRJ = "prj_01hzzzzzzzzzzzzzzzzzzzzzzz"
ENV = "env_01hzzzzzzzzzzzzzzzzzzzzzzz"
RES = "res_01hzzzzzzzzzzzzzzzzzzzzzzz"
TGT = "tgt_01hzzzzzzzzzzzzzzzzzzzzzzz"


def refusal(call, *args: object) -> Conflict:  # type: ignore[no-untyped-def]
    with pytest.raises(Conflict) as caught:
        call(*args)
    assert caught.value.status == 409
    return caught.value


def test_active_project_accepts_work() -> None:
    lifecycle.ensure_project_active("active", PRJ)


def test_archived_project_refuses_work_and_says_how_to_restore() -> None:
    err = refusal(lifecycle.ensure_project_active, "archived", PRJ)
    assert err.code == "project_archived"
    assert err.details == {"projectId": PRJ, "lifecycleStatus": "archived"}
    assert err.next_action == f"Restore it first: dockyard projects restore {PRJ}"


def test_active_environment_is_writable() -> None:
    lifecycle.ensure_environment_writable("active", ENV)


@pytest.mark.parametrize(
    ("status", "code", "hint"),
    [
        ("locked", "environment_locked", f"dockyard environments unlock {ENV}"),
        ("archived", "environment_archived", "Clone"),
    ],
)
def test_locked_or_archived_environment_refuses_changes(status: str, code: str, hint: str) -> None:
    err = refusal(lifecycle.ensure_environment_writable, status, ENV)
    assert err.code == code and err.details == {"environmentId": ENV}
    assert err.next_action and hint in err.next_action


def test_resource_must_be_active() -> None:
    lifecycle.ensure_resource_active("active", RES)
    err = refusal(lifecycle.ensure_resource_active, "archived", RES)
    assert err.code == "resource_archived" and err.details["resourceId"] == RES


def test_server_must_be_active_to_receive_work() -> None:
    lifecycle.ensure_server_active("active", TGT)
    err = refusal(lifecycle.ensure_server_active, "inactive", TGT)
    assert err.code == "server_inactive" and "dockyard servers list" in (err.next_action or "")


@pytest.mark.parametrize(
    ("status", "live", "kinds"),
    [
        ("active", 0, ["active-project"]),
        ("active", 3, ["active-project", "resources"]),
        ("archived", 2, ["resources"]),
        ("archived", 0, []),
    ],
)
def test_project_delete_blockers(status: str, live: int, kinds: list[str]) -> None:
    blockers = lifecycle.project_delete_blockers(status, PRJ, live)
    assert [b.kind for b in blockers] == kinds
    assert all(b.related_entity_type == "project" and b.related_entity_id == PRJ for b in blockers)
    if live:
        assert blockers[-1].count == live


@pytest.mark.parametrize(
    ("status", "control_plane", "kinds"),
    [
        ("active", False, ["active-server"]),
        ("active", True, ["active-server", "control-plane-server"]),
        ("inactive", True, ["control-plane-server"]),
        ("inactive", False, []),
    ],
)
def test_server_delete_blockers(status: str, control_plane: bool, kinds: list[str]) -> None:
    assert [b.kind for b in lifecycle.server_delete_blockers(status, TGT, control_plane)] == kinds


def test_nothing_blocking_means_no_refusal() -> None:
    lifecycle.refuse_if_blocked([], f"Project {PRJ}", "unused")


def test_blocked_delete_names_every_blocker_with_its_count() -> None:
    blockers = [Blocker("active-project", "project", PRJ, 1), Blocker("resources", "project", PRJ, 4)]
    err = refusal(lifecycle.refuse_if_blocked, blockers, f"Project {PRJ}", "archive it first")
    assert err.code == "delete_blocked"
    assert err.message == f"Project {PRJ} cannot be deleted yet: active-project (1), resources (4)."
    assert err.details["blockers"][1] == {
        "kind": "resources",
        "relatedEntityType": "project",
        "relatedEntityId": PRJ,
        "count": 4,
    }  # spelled as a delete-check's blockers are
    assert err.next_action == "archive it first"


def test_matching_confirmation_passes() -> None:
    lifecycle.ensure_confirmed(PRJ, PRJ, "projectId")


@pytest.mark.parametrize("given", ["", "yes", PRJ.upper(), PRJ + " ", RES])
def test_confirmation_must_repeat_the_exact_id(given: str) -> None:
    err = refusal(lifecycle.ensure_confirmed, given, PRJ, "projectId")
    assert err.code == "confirmation_mismatch" and err.details == {"field": "projectId"}
    assert PRJ in (err.next_action or "")
