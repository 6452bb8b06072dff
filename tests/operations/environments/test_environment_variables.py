"""Environment (and project) variables over the API: set, unset, effective view, diff, promote, clone."""

from typing import Any

import pytest
from api_helpers import created, error_code

CANARY = "env-canary-7f3b9c2e41"


def set_var(api: Any, env: str, key: str, value: str, **extra: Any) -> Any:
    return api.post(f"/api/environments/{env}/variables", json={"key": key, "value": value, **extra})


def ok(resp: Any) -> Any:
    assert resp.status_code == 200, resp.text
    return resp.json()


def done(resp: Any) -> None:
    """A write with nothing to say: 204 and no body at all (not a JSON null)."""
    assert resp.status_code == 204 and resp.content == b"", (resp.status_code, resp.text)


def effective(api: Any, env: str) -> dict[tuple[str, str], dict]:
    body = ok(api.get(f"/api/environments/{env}/effective-precedence"))
    return {(e["key"], e["exposure"]): e for e in body["effectiveEntries"]}


@pytest.fixture
def staging(api: Any, new_project: str) -> str:
    return created(api.post("/api/environments", json={"projectId": new_project, "name": "staging"}))


def test_set_returns_null_and_the_effective_view_shows_the_winning_layer_masked(
    api: Any, new_environment: str, staging: str
) -> None:
    done(set_var(api, new_environment, "MODE", "from-defaults", scope="defaults"))
    done(set_var(api, new_environment, "MODE", "from-project", scope="project"))
    done(set_var(api, new_environment, "REGION", "eu-west", scope="project"))
    done(set_var(api, new_environment, "MODE", "from-environment"))
    done(set_var(api, new_environment, "DB_PASSWORD", CANARY, kind="secret"))
    view = ok(api.get(f"/api/environments/{new_environment}/effective-precedence"))
    assert view["schemaVersion"] == "environments.effective-precedence/v1"
    assert view["precedence"] == ["defaults", "project", "environment", "resource", "deployment"]
    won = effective(api, new_environment)
    assert (won["MODE", "runtime"]["value"], won["MODE", "runtime"]["scope"]) == (
        "from-environment",
        "environment",
    )
    assert won["DB_PASSWORD", "runtime"] | {"updatedAt": None} == {
        "key": "DB_PASSWORD",
        "value": "****",
        "scope": "environment",
        "exposure": "runtime",
        "isSecret": True,
        "kind": "secret",
        "updatedAt": None,
    }
    assert {e["scope"] for e in view["ownedEntries"]} == {"defaults", "environment"}
    # the project layer reaches every environment of the project
    assert effective(api, staging)["REGION", "runtime"]["value"] == "eu-west"
    shown = ok(api.get(f"/api/environments/{new_environment}"))
    assert {v["key"] for v in shown["maskedVariables"]} == {"MODE", "DB_PASSWORD"}
    listed = ok(api.get("/api/environments"))
    assert CANARY not in str(listed) and CANARY not in str(shown) and CANARY not in str(view)


def test_unset_removes_one_exposure_and_an_unknown_one_is_404(api: Any, new_environment: str) -> None:
    done(set_var(api, new_environment, "PUBLIC_URL", "https://a", exposure="build-time"))
    done(set_var(api, new_environment, "PUBLIC_URL", "https://b"))
    resp = api.request(
        "DELETE", f"/api/environments/{new_environment}/variables/PUBLIC_URL", json={"exposure": "build-time"}
    )
    done(resp)
    assert list(effective(api, new_environment)) == [("PUBLIC_URL", "runtime")]
    again = api.request(
        "DELETE", f"/api/environments/{new_environment}/variables/PUBLIC_URL", json={"exposure": "build-time"}
    )
    assert again.status_code == 404 and error_code(again) == "variable_not_found"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"key": "1ABC", "value": "x"}, "variable_key_invalid"),
        ({"key": "A-B", "value": "x"}, "variable_key_invalid"),
        ({"key": "", "value": "x"}, "variable_key_invalid"),
        ({"key": "BIG", "value": "x" * 40000}, "variable_value_too_large"),
        (
            {"key": "PUBLIC_KEYX", "value": CANARY, "isSecret": True, "exposure": "build-time"},
            "secret_build_time_forbidden",
        ),
        ({"key": "API_TOKEN", "value": CANARY, "exposure": "build-time"}, "secret_build_time_forbidden"),
        ({"key": "K", "value": "x", "scope": "system"}, "validation_failed"),
        ({"key": "K", "value": "x", "exposure": "sometimes"}, "validation_failed"),
    ],
)
def test_bad_input_is_a_clear_4xx_that_writes_nothing(
    api: Any, new_environment: str, body: dict, code: str
) -> None:
    resp = set_var(api, new_environment, **body)
    assert resp.status_code == 422 and error_code(resp) == code, resp.text
    assert CANARY not in resp.text
    assert effective(api, new_environment) == {}


def test_a_locked_environment_refuses_variable_writes(api: Any, new_environment: str) -> None:
    done(set_var(api, new_environment, "KEEP", "1"))
    ok(api.post(f"/api/environments/{new_environment}/lock", json={"reason": "freeze"}))
    for resp in (
        set_var(api, new_environment, "NEW", "1"),
        api.request("DELETE", f"/api/environments/{new_environment}/variables/KEEP", json={}),
    ):
        assert resp.status_code == 409 and error_code(resp) == "environment_locked"
    assert list(effective(api, new_environment)) == [("KEEP", "runtime")]


def test_diff_lists_added_removed_and_changed_with_secrets_compared_but_masked(
    api: Any, new_environment: str, staging: str
) -> None:
    done(set_var(api, staging, "SAME", "1"))
    done(set_var(api, new_environment, "SAME", "1"))
    done(set_var(api, staging, "ONLY_STAGING", "s"))
    done(set_var(api, new_environment, "ONLY_PROD", "p"))
    done(set_var(api, staging, "DB_PASSWORD", CANARY, kind="secret"))
    done(set_var(api, new_environment, "DB_PASSWORD", CANARY + "-prod", kind="secret"))
    done(set_var(api, staging, "SAME_SECRET", CANARY, kind="secret"))
    done(set_var(api, new_environment, "SAME_SECRET", CANARY, kind="secret"))
    diff = ok(api.get(f"/api/environments/{staging}/diff/{new_environment}"))
    assert {(d["key"], d["change"]) for d in diff} == {
        ("DB_PASSWORD", "changed"),
        ("ONLY_PROD", "added"),
        ("ONLY_STAGING", "removed"),
    }
    changed = next(d for d in diff if d["key"] == "DB_PASSWORD")
    assert changed["left"]["value"] == changed["right"]["value"] == "****"
    assert CANARY not in str(diff)


def test_promote_copies_configuration_into_a_new_or_existing_environment_without_plaintext(
    api: Any, new_project: str, staging: str
) -> None:
    done(set_var(api, staging, "FEATURE", "on"))
    done(set_var(api, staging, "DB_PASSWORD", CANARY, kind="secret"))
    resp = api.post(f"/api/environments/{staging}/promote", json={"targetName": "qa", "targetKind": "test"})
    assert resp.status_code == 200 and CANARY not in resp.text
    qa = resp.json()["id"]
    assert {k: e["value"] for (k, _), e in effective(api, qa).items()} == {
        "FEATURE": "on",
        "DB_PASSWORD": "****",
    }
    # into an existing environment: same identities replaced, its own other entries kept
    done(set_var(api, qa, "QA_ONLY", "1"))
    done(set_var(api, staging, "FEATURE", "off"))
    assert ok(api.post(f"/api/environments/{staging}/promote", json={"targetName": "qa"}))["id"] == qa
    assert {k: e["value"] for (k, _), e in effective(api, qa).items()} == {
        "FEATURE": "off",
        "DB_PASSWORD": "****",
        "QA_ONLY": "1",
    }
    diff = api.get(f"/api/environments/{staging}/diff/{qa}").json()
    assert [(d["key"], d["change"]) for d in diff] == [("QA_ONLY", "added")], "the secret was carried over"
    ok(api.post(f"/api/environments/{qa}/lock", json={}))
    locked = api.post(f"/api/environments/{staging}/promote", json={"targetName": "qa"})
    assert locked.status_code == 409 and error_code(locked) == "environment_locked"


def test_promoting_an_environment_into_itself_is_a_conflict_that_changes_nothing(
    api: Any, staging: str
) -> None:
    done(set_var(api, staging, "FEATURE", "on"))
    name = ok(api.get(f"/api/environments/{staging}"))["name"]
    refused = api.post(f"/api/environments/{staging}/promote", json={"targetName": name})
    assert refused.status_code == 409 and error_code(refused) == "promote_target_is_source"
    assert {k: e["value"] for (k, _), e in effective(api, staging).items()} == {"FEATURE": "on"}


def test_clone_copies_the_environment_variables(api: Any, staging: str) -> None:
    done(set_var(api, staging, "FEATURE", "on", scope="defaults"))
    done(set_var(api, staging, "DB_PASSWORD", CANARY, kind="secret"))
    clone = created(api.post(f"/api/environments/{staging}/clone", json={"targetName": "staging-2"}))
    own = ok(api.get(f"/api/environments/{clone}/effective-precedence"))["ownedEntries"]
    assert {(e["key"], e["scope"], e["value"]) for e in own} == {
        ("FEATURE", "defaults", "on"),
        ("DB_PASSWORD", "environment", "****"),
    }
    assert api.get(f"/api/environments/{staging}/diff/{clone}").json() == []
