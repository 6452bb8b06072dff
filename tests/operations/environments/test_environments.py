from typing import Any

from api_helpers import created, error_code

SEED_FIELDS = {
    "id",
    "projectId",
    "name",
    "kind",
    "parentEnvironmentId",
    "lifecycleStatus",
    "lockedAt",
    "lockReason",
    "archivedAt",
    "archiveReason",
    "createdAt",
    "maskedVariables",
}


def test_create_show_and_list_carry_the_seed_fields(api: Any, new_project: str, new_environment: str) -> None:
    shown = api.get(f"/api/environments/{new_environment}").json()
    assert set(shown) == SEED_FIELDS
    assert shown["projectId"] == new_project and shown["kind"] == "production"
    assert shown["lifecycleStatus"] == "active" and shown["maskedVariables"] == []
    listed = api.get("/api/environments", params={"projectId": new_project}).json()["items"]
    assert [e["id"] for e in listed] == [new_environment]
    assert api.get("/api/environments/count", params={"projectId": new_project}).json() == {"count": 1}


def test_names_are_unique_within_a_project(api: Any, new_project: str, new_environment: str) -> None:
    again = api.post("/api/environments", json={"projectId": new_project, "name": "production"})
    assert again.status_code == 409 and error_code(again) == "environment_name_conflict"
    assert api.get("/api/environments/count", params={"projectId": new_project}).json() == {"count": 1}


def test_archived_project_refuses_new_environments(api: Any, new_project: str) -> None:
    api.post(f"/api/projects/{new_project}/archive", json={"reason": "done"})
    refused = api.post("/api/environments", json={"projectId": new_project, "name": "staging"})
    assert refused.status_code == 409 and error_code(refused) == "project_archived"
    assert "restore" in refused.json()["error"]["nextAction"]
    api.post(f"/api/projects/{new_project}/restore")
    created(api.post("/api/environments", json={"projectId": new_project, "name": "staging"}))


def test_lock_blocks_writes_and_unlock_resumes(api: Any, new_environment: str) -> None:
    assert (
        api.post(f"/api/environments/{new_environment}/lock", json={"reason": "release freeze"}).status_code
        == 200
    )
    shown = api.get(f"/api/environments/{new_environment}").json()
    assert (
        shown["lifecycleStatus"] == "locked" and shown["lockReason"] == "release freeze" and shown["lockedAt"]
    )
    refused = api.post(f"/api/environments/{new_environment}/rename", json={"name": "prod"})
    assert refused.status_code == 409 and error_code(refused) == "environment_locked"
    assert "unlock" in refused.json()["error"]["nextAction"]
    assert api.get(f"/api/environments/{new_environment}").json()["name"] == "production"
    api.post(f"/api/environments/{new_environment}/unlock")
    assert api.post(f"/api/environments/{new_environment}/rename", json={"name": "prod"}).status_code == 200
    assert api.get(f"/api/environments/{new_environment}").json()["name"] == "prod"


def test_archive_keeps_it_readable_and_refuses_changes(api: Any, new_environment: str) -> None:
    api.post(f"/api/environments/{new_environment}/archive", json={})
    shown = api.get(f"/api/environments/{new_environment}").json()
    assert shown["lifecycleStatus"] == "archived" and shown["archivedAt"]
    for path, body in [("rename", {"name": "x"}), ("lock", {}), ("clone", {"targetName": "copy"})]:
        refused = api.post(f"/api/environments/{new_environment}/{path}", json=body)
        assert refused.status_code == 409 and error_code(refused) == "environment_archived", path


def test_clone_creates_a_child_in_the_same_project(api: Any, new_project: str, new_environment: str) -> None:
    clone = created(api.post(f"/api/environments/{new_environment}/clone", json={"targetName": "staging"}))
    shown = api.get(f"/api/environments/{clone}").json()
    assert shown["projectId"] == new_project
    assert shown["parentEnvironmentId"] == new_environment
    assert shown["kind"] == "production" and shown["name"] == "staging"


def test_unknown_environment_and_an_id_of_another_kind_are_404(api: Any, new_project: str) -> None:
    from dockyard.domain.ids import new_id

    missing = api.get(f"/api/environments/{new_id('environment')}")
    assert missing.status_code == 404 and error_code(missing) == "environment_not_found"
    wrong = api.get(f"/api/environments/{new_project}")
    assert wrong.status_code == 404 and error_code(wrong) == "environment_not_found"
    assert "environment id looks like env_" in wrong.json()["error"]["message"]
