"""Resource variables over the API: overrides, effective config, .env import, deployment snapshots."""

from pathlib import Path
from typing import Any

import pytest
from api_helpers import created, error_code, local_server_id

CANARY = "res-canary-0c9d8e7f65"
DOTENV = f"""\
# production settings
export API_URL=https://api.example.com
LOG_LEVEL = info   # comment
STRIPE_TOKEN="{CANARY}"
CERT_PEM="-----BEGIN-----
{CANARY}-pem
-----END-----"
"""


def ok(resp: Any) -> Any:
    assert resp.status_code in (200, 201), resp.text
    return resp.json()


def done(resp: Any) -> None:
    """A write with nothing to say: 204 and no body at all (not a JSON null)."""
    assert resp.status_code == 204 and resp.content == b"", (resp.status_code, resp.text)


def config(api: Any, resource: str) -> dict:
    return ok(api.get(f"/api/resources/{resource}/effective-config"))


def values(api: Any, resource: str) -> dict[str, tuple[str, str]]:
    return {e["key"]: (e["value"], e["scope"]) for e in config(api, resource)["effectiveEntries"]}


def test_a_resource_value_overrides_its_environment_and_the_override_is_reported(
    api: Any, new_environment: str, new_resource: str
) -> None:
    env_vars = f"/api/environments/{new_environment}/variables"
    done(api.post(env_vars, json={"key": "LOG_LEVEL", "value": "warn"}))
    done(api.post(env_vars, json={"key": "LOG_LEVEL", "value": "error", "scope": "project"}))
    done(api.post(env_vars, json={"key": "REGION", "value": "eu"}))
    done(api.post(f"/api/resources/{new_resource}/variables", json={"key": "LOG_LEVEL", "value": "debug"}))
    body = config(api, new_resource)
    assert (
        body["schemaVersion"] == "resources.effective-config/v1" and body["environmentId"] == new_environment
    )
    assert values(api, new_resource) == {"LOG_LEVEL": ("debug", "resource"), "REGION": ("eu", "environment")}
    assert body["overrides"] == [
        {
            "key": "LOG_LEVEL",
            "exposure": "runtime",
            "selectedScope": "resource",
            "overriddenScopes": ["project", "environment"],
        }
    ]
    assert [e["key"] for e in body["ownedEntries"]] == ["LOG_LEVEL"]
    resp = api.request(
        "DELETE", f"/api/resources/{new_resource}/variables/LOG_LEVEL", json={"exposure": "runtime"}
    )
    done(resp)
    assert values(api, new_resource)["LOG_LEVEL"] == ("warn", "environment")


def test_import_creates_replaces_skips_and_masks_secrets(api: Any, new_resource: str) -> None:
    done(api.post(f"/api/resources/{new_resource}/variables", json={"key": "LOG_LEVEL", "value": "warn"}))
    done(
        api.post(
            f"/api/resources/{new_resource}/variables",
            json={"key": "API_URL", "value": "https://api.example.com"},
        )
    )
    resp = api.post(f"/api/resources/{new_resource}/variables/import", json={"content": DOTENV})
    report = ok(resp)
    assert CANARY not in resp.text
    got = {
        e["key"]: (e["action"], e["value"], e["isSecret"], e["sourceLine"]) for e in report["importedEntries"]
    }
    assert got == {
        "LOG_LEVEL": ("replaced", "info", False, 3),
        "STRIPE_TOKEN": ("created", "****", True, 4),
        "CERT_PEM": ("created", "****", True, 5),
    }
    assert report["skippedEntries"] == [{"key": "API_URL", "sourceLine": 2, "reason": "unchanged"}]
    assert report["existingOverrides"] == [
        {
            "key": "LOG_LEVEL",
            "exposure": "runtime",
            "previousScope": "resource",
            "rule": "resource-entry-replaced",
        }
    ]
    assert values(api, new_resource)["STRIPE_TOKEN"] == ("****", "resource")


def test_duplicates_are_refused_unless_last_wins_is_asked_for(api: Any, new_resource: str) -> None:
    content = f"A=1\nDB_PASSWORD={CANARY}\nA=2\n"
    resp = api.post(f"/api/resources/{new_resource}/variables/import", json={"content": content})
    assert resp.status_code == 422 and error_code(resp) == "env_import_duplicate_keys"
    assert "lines 1 and 3" in resp.json()["error"]["message"] and CANARY not in resp.text
    assert values(api, new_resource) == {}
    report = ok(
        api.post(
            f"/api/resources/{new_resource}/variables/import",
            json={"content": content, "onDuplicate": "last-wins"},
        )
    )
    assert report["duplicateOverrides"] == [
        {"key": "A", "exposure": "runtime", "firstLine": 1, "lastLine": 3, "rule": "last-wins"}
    ]
    assert values(api, new_resource)["A"] == ("2", "resource")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"content": f"GOOD=1\n1ABC={CANARY}\n"}, "env_import_parse_failed"),
        ({"content": f'GOOD=1\nX="{CANARY}\n'}, "env_import_parse_failed"),
        (
            {"content": f"PUBLIC_OK=1\nAPI_TOKEN={CANARY}\n", "exposure": "build-time"},
            "secret_build_time_forbidden",
        ),
        ({"content": f"GOOD=1\nBIG={'x' * 40000}\n"}, "variable_value_too_large"),
        ({"content": "A=1", "secretKeys": ["A"], "plainKeys": ["A"]}, "variable_kind_conflict"),
    ],
)
def test_a_bad_import_writes_nothing(api: Any, new_resource: str, body: dict, code: str) -> None:
    resp = api.post(f"/api/resources/{new_resource}/variables/import", json=body)
    assert resp.status_code == 422 and error_code(resp) == code, resp.text
    assert CANARY not in resp.text
    assert values(api, new_resource) == {}


def test_a_resource_in_a_locked_environment_refuses_writes(
    api: Any, new_environment: str, new_resource: str
) -> None:
    ok(api.post(f"/api/environments/{new_environment}/lock", json={}))
    for resp in (
        api.post(f"/api/resources/{new_resource}/variables", json={"key": "A", "value": "1"}),
        api.post(f"/api/resources/{new_resource}/variables/import", json={"content": "A=1"}),
        api.post(f"/api/resources/{new_resource}/secrets", json={"key": "S", "value": CANARY}),
    ):
        assert resp.status_code == 409 and error_code(resp) == "environment_locked"


@pytest.fixture
def deploy(api: Any, new_project: str, new_environment: str, new_resource: str, tmp_path: Path) -> Any:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("hi")
    ok(
        api.post(
            f"/api/resources/{new_resource}/source",
            json={"source": {"kind": "local-folder", "locator": str(site)}},
        )
    )
    body = {"projectId": new_project, "environmentId": new_environment, "resourceId": new_resource}
    body["serverId"] = local_server_id(api)

    def run() -> dict:
        dep = created(api.post("/api/deployments", json=body))
        return api.get(f"/api/deployments/{dep}").json()["deployment"]

    return run


def snapshot_values(dep: dict) -> dict[str, tuple[str, str | None]]:
    return {v["key"]: (v["value"], v.get("secretRef")) for v in dep["environmentSnapshot"]["variables"]}


def test_each_deployment_keeps_the_snapshot_it_was_created_with(
    api: Any, new_resource: str, deploy: Any
) -> None:
    done(api.post(f"/api/resources/{new_resource}/variables", json={"key": "MODE", "value": "one"}))
    ok(api.post(f"/api/resources/{new_resource}/secrets", json={"key": "API_SECRET", "value": CANARY}))
    first = deploy()
    snap = first["environmentSnapshot"]
    assert snap["id"].startswith("ens_") and snap["precedence"][-1] == "deployment"
    before = snapshot_values(first)
    assert before["MODE"] == ("one", None) and before["API_SECRET"][0] == "****"
    assert before["API_SECRET"][1].startswith("sev_")
    done(api.post(f"/api/resources/{new_resource}/variables", json={"key": "MODE", "value": "two"}))
    ok(api.post(f"/api/resources/{new_resource}/secrets/API_SECRET", json={"value": CANARY + "-rotated"}))
    again = api.get(f"/api/deployments/{first['id']}").json()["deployment"]
    assert snapshot_values(again) == before, "a variable change never rewrites an existing snapshot"
    second = deploy()
    after = snapshot_values(second)
    assert after["MODE"] == ("two", None) and after["API_SECRET"][1] != before["API_SECRET"][1]
    listed = api.get("/api/deployments").text
    assert CANARY not in listed
