import re
from typing import Any

import pytest
from api_helpers import created, error_code

from dockyard.domain.ids import is_id_of, new_id

PROJECT_FIELDS = {
    "id",
    "organizationId",
    "name",
    "slug",
    "description",
    "lifecycleStatus",
    "archivedAt",
    "archiveReason",
    "createdAt",
}
UTC_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def count(api: Any) -> int:
    return api.get("/api/projects/count").json()["count"]


def show(api: Any, project_id: str) -> dict[str, Any]:
    resp = api.get(f"/api/projects/{project_id}")
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_create_then_show_returns_the_whole_project(api: Any) -> None:
    resp = api.post("/api/projects", json={"name": "My Web App", "description": "the shop"})
    assert resp.status_code == 201 and set(resp.json()) == {"id"}
    pid = resp.json()["id"]
    assert is_id_of("project", pid)
    shown = show(api, pid)
    assert set(shown) == PROJECT_FIELDS
    org = api.get("/api/bootstrap/auth/status").json()["organizationId"]
    assert shown["organizationId"] == org
    assert (shown["name"], shown["slug"], shown["description"]) == ("My Web App", "my-web-app", "the shop")
    assert shown["lifecycleStatus"] == "active"
    assert shown["archivedAt"] is None and shown["archiveReason"] is None
    assert UTC_TIMESTAMP.match(shown["createdAt"]), shown["createdAt"]


def test_names_are_trimmed(api: Any) -> None:
    pid = created(api.post("/api/projects", json={"name": "  web  "}))
    assert (show(api, pid)["name"], show(api, pid)["slug"]) == ("web", "web")


def test_list_is_newest_first_and_count_follows(api: Any) -> None:
    assert count(api) == 0
    assert api.get("/api/projects").json() == {"items": [], "nextCursor": None}
    ids = [created(api.post("/api/projects", json={"name": f"p{i}"})) for i in range(3)]
    listed = api.get("/api/projects").json()
    assert [p["id"] for p in listed["items"]] == ids[::-1]
    assert [p["name"] for p in listed["items"]] == ["p2", "p1", "p0"]
    assert listed["nextCursor"] is None
    assert count(api) == 3


def test_pages_cover_every_project_exactly_once(api: Any) -> None:
    ids = [created(api.post("/api/projects", json={"name": f"p{i}"})) for i in range(7)]
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = api.get("/api/projects", params=params).json()
        assert len(page["items"]) <= 3
        seen += [p["id"] for p in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == ids[::-1]


def test_an_exactly_full_last_page_has_no_next_cursor(api: Any) -> None:
    for i in range(4):
        created(api.post("/api/projects", json={"name": f"p{i}"}))
    first = api.get("/api/projects", params={"limit": 2}).json()
    second = api.get("/api/projects", params={"limit": 2, "cursor": first["nextCursor"]}).json()
    assert len(second["items"]) == 2 and second["nextCursor"] is None


def test_slug_must_be_unique(api: Any) -> None:
    first = created(api.post("/api/projects", json={"name": "Web App"}))
    taken = api.post("/api/projects", json={"name": "web-app"})
    assert taken.status_code == 409 and error_code(taken) == "project_slug_conflict"
    body = taken.json()["error"]
    assert body["details"] == {"slug": "web-app", "projectId": first}
    assert body["nextAction"]
    assert count(api) == 1


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"name": ""}, "validation_failed"),
        ({"name": "   "}, "validation_failed"),
        ({"name": "x" * 81}, "validation_failed"),
        ({"name": "!!!"}, "invalid_name"),
        ({"name": "ok", "description": "d" * 501}, "validation_failed"),
        ({}, "validation_failed"),
        ({"name": None}, "validation_failed"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_created(api: Any, body: dict, code: str) -> None:
    resp = api.post("/api/projects", json=body)
    assert resp.status_code == 422 and error_code(resp) == code, resp.text
    assert count(api) == 0


def test_longest_allowed_name_is_accepted(api: Any) -> None:
    pid = created(api.post("/api/projects", json={"name": "n" * 80}))
    assert show(api, pid)["slug"] == "n" * 63


def test_rename_moves_the_slug_and_refuses_a_taken_one(api: Any) -> None:
    web = created(api.post("/api/projects", json={"name": "web"}))
    created(api.post("/api/projects", json={"name": "api"}))
    assert api.post(f"/api/projects/{web}/rename", json={"name": "Front End"}).json() == {"id": web}
    assert (show(api, web)["name"], show(api, web)["slug"]) == ("Front End", "front-end")
    taken = api.post(f"/api/projects/{web}/rename", json={"name": "API"})
    assert taken.status_code == 409 and error_code(taken) == "project_slug_conflict"
    assert show(api, web)["name"] == "Front End"
    # Renaming to a name with the project's own slug is fine.
    assert api.post(f"/api/projects/{web}/rename", json={"name": "front end"}).status_code == 200
    # The old slug is free again.
    created(api.post("/api/projects", json={"name": "web"}))


def test_description_can_be_set_and_cleared(api: Any) -> None:
    pid = created(api.post("/api/projects", json={"name": "web"}))
    assert api.post(f"/api/projects/{pid}/description", json={"description": "shop"}).status_code == 200
    assert show(api, pid)["description"] == "shop"
    assert api.post(f"/api/projects/{pid}/description", json={}).status_code == 200
    assert show(api, pid)["description"] is None


def test_archive_keeps_the_project_readable_and_refuses_changes(api: Any) -> None:
    pid = created(api.post("/api/projects", json={"name": "web"}))
    assert api.post(f"/api/projects/{pid}/archive", json={"reason": "moved"}).status_code == 200
    shown = show(api, pid)
    assert shown["lifecycleStatus"] == "archived" and shown["archiveReason"] == "moved"
    assert UTC_TIMESTAMP.match(shown["archivedAt"])
    assert [p["lifecycleStatus"] for p in api.get("/api/projects").json()["items"]] == ["archived"]
    for path, body in [("rename", {"name": "other"}), ("description", {"description": "x"})]:
        refused = api.post(f"/api/projects/{pid}/{path}", json=body)
        assert refused.status_code == 409 and error_code(refused) == "project_archived", path
        assert f"dockyard projects restore {pid}" in refused.json()["error"]["nextAction"]
    after = show(api, pid)
    assert (after["name"], after["description"]) == ("web", None)


def test_archiving_twice_keeps_the_first_archive(api: Any) -> None:
    pid = created(api.post("/api/projects", json={"name": "web"}))
    api.post(f"/api/projects/{pid}/archive", json={"reason": "first"})
    first = show(api, pid)
    assert api.post(f"/api/projects/{pid}/archive", json={"reason": "second"}).status_code == 200
    assert show(api, pid) == first


def test_restore_makes_it_active_again(api: Any) -> None:
    pid = created(api.post("/api/projects", json={"name": "web"}))
    api.post(f"/api/projects/{pid}/archive", json={})
    assert api.post(f"/api/projects/{pid}/restore").json() == {"id": pid}
    shown = show(api, pid)
    assert (shown["lifecycleStatus"], shown["archivedAt"], shown["archiveReason"]) == ("active", None, None)
    assert api.post(f"/api/projects/{pid}/rename", json={"name": "web2"}).status_code == 200


def test_delete_needs_archive_and_exact_confirmation(api: Any) -> None:
    pid = created(api.post("/api/projects", json={"name": "web"}))
    check = api.get(f"/api/projects/{pid}/delete-check").json()
    assert check["schemaVersion"] == "projects.delete-check/v1"
    assert (check["projectId"], check["eligible"]) == (pid, False)
    assert [b["kind"] for b in check["blockers"]] == ["active-project"]

    confirm = {"confirmation": {"projectId": pid}}
    blocked = api.request("DELETE", f"/api/projects/{pid}", json=confirm)
    assert blocked.status_code == 409 and error_code(blocked) == "delete_blocked"
    assert "delete-check" in blocked.json()["error"]["nextAction"]

    api.post(f"/api/projects/{pid}/archive", json={})
    assert api.get(f"/api/projects/{pid}/delete-check").json()["eligible"] is True
    unconfirmed = api.request("DELETE", f"/api/projects/{pid}")
    assert unconfirmed.status_code == 422
    other = new_id("project")
    wrong = api.request("DELETE", f"/api/projects/{pid}", json={"confirmation": {"projectId": other}})
    assert wrong.status_code == 409 and error_code(wrong) == "confirmation_mismatch"
    assert count(api) == 1

    assert api.request("DELETE", f"/api/projects/{pid}", json=confirm).json() == {"id": pid}
    gone = api.get(f"/api/projects/{pid}")
    assert gone.status_code == 404 and error_code(gone) == "project_not_found"
    assert count(api) == 0
    created(api.post("/api/projects", json={"name": "web"}))  # its slug is free again


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("GET", "/delete-check", None),
        ("POST", "/rename", {"name": "x"}),
        ("POST", "/description", {"description": "x"}),
        ("POST", "/archive", {}),
        ("POST", "/restore", None),
        ("DELETE", "", {"confirmation": {"projectId": "prj_x"}}),
    ],
)
def test_unknown_project_is_404_with_a_hint(api: Any, method: str, suffix: str, body: Any) -> None:
    pid = new_id("project")
    resp = api.request(method, f"/api/projects/{pid}{suffix}", json=body)
    assert resp.status_code == 404, resp.text
    err = resp.json()["error"]
    assert err["code"] == "project_not_found" and err["details"] == {"id": pid}
    assert "dockyard projects list" in err["nextAction"]
