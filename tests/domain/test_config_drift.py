from dockyard.domain.config_drift import config_drift, config_value, display
from dockyard.domain.variables import MASK

DEPLOYED = {
    "source": {"kind": "local-folder", "locator": "/srv/app"},
    "runtimeProfile": {"strategy": "auto", "startCommand": "python app.py"},
    "networkProfile": {"internalPort": 8000},
}


def with_changes(**runtime: object) -> dict:
    return {**DEPLOYED, "runtimeProfile": {**DEPLOYED["runtimeProfile"], **runtime}}


def test_nothing_changed_since_the_deployment_is_no_drift() -> None:
    assert config_drift(DEPLOYED, "dep_1", DEPLOYED, None) == []


def test_a_never_deployed_resource_has_nothing_to_drift_from() -> None:
    assert config_drift(DEPLOYED, None, None, None) == []


def test_a_changed_start_command_is_drift_with_both_values_and_the_way_to_apply_it() -> None:
    [drift] = config_drift(with_changes(startCommand="python serve.py"), "dep_1", DEPLOYED, None)
    assert drift.code == "resource-config-drift" and drift.severity == "warning"
    assert drift.comparison == "resource-vs-deployment-snapshot"
    assert (drift.config_key, drift.config_kind, drift.config_exposure) == (
        "startCommand",
        "start-command",
        "runtime",
    )
    assert drift.config_pointer == "/runtimeProfile/startCommand" and drift.section == "runtime"
    assert drift.resource_value.display_value == "python serve.py"
    assert drift.deployment_snapshot_value is not None
    assert drift.deployment_snapshot_value.display_value == "python app.py"
    assert drift.resource_value.value_hash != drift.deployment_snapshot_value.value_hash
    assert drift.latest_deployment_id == "dep_1" and "dep_1" in drift.message
    assert drift.suggested_command == "resources.redeploy"


def test_a_cleared_value_is_absent_on_the_resource_side() -> None:
    now = {**DEPLOYED, "networkProfile": {}}
    [drift] = config_drift(now, "dep_1", DEPLOYED, None)
    assert drift.config_key == "internalPort"
    assert drift.resource_value.state == "absent" and drift.resource_value.value_hash is None
    assert drift.deployment_snapshot_value is not None
    assert drift.deployment_snapshot_value.display_value == "8000"


def test_an_unset_strategy_means_auto_and_is_not_drift() -> None:
    now = {**DEPLOYED, "runtimeProfile": {"startCommand": "python app.py"}}
    assert config_drift(now, "dep_1", DEPLOYED, None) == []


def test_a_resource_value_over_dockyard_yml_is_reported_with_the_file() -> None:
    entry = {"path": "dockyard.yml", "startCommand": "gunicorn app:app", "internalPort": 8000}
    [drift] = config_drift(DEPLOYED, "dep_1", DEPLOYED, entry)
    assert drift.code == "entry-profile-overridden" and drift.severity == "info"
    assert drift.comparison == "resource-vs-entry-profile" and drift.path == "dockyard.yml"
    assert drift.entry_profile_value is not None
    assert drift.entry_profile_value.display_value == "gunicorn app:app"
    assert drift.config_source == "resource" and drift.config_scope == "resource"
    assert drift.suggested_command == "resources.configure-runtime"


def test_the_same_value_in_dockyard_yml_is_not_an_override() -> None:
    entry = {"path": "dockyard.yml", "startCommand": "python app.py"}
    assert config_drift(DEPLOYED, "dep_1", DEPLOYED, entry) == []


def test_secrets_in_a_command_or_url_never_show_but_still_compare() -> None:
    before = with_changes(startCommand="API_TOKEN=oldsecret node server.js")
    after = with_changes(startCommand="API_TOKEN=newsecret node server.js")
    [drift] = config_drift(after, "dep_1", before, None)
    assert drift.resource_value.display_value == f"API_TOKEN={MASK} node server.js"
    assert "oldsecret" not in str(drift) and "newsecret" not in str(drift)
    assert drift.deployment_snapshot_value is not None
    assert drift.resource_value.value_hash != drift.deployment_snapshot_value.value_hash
    assert display("locator", "https://user:pw@git.example/app.git") == f"https://{MASK}@git.example/app.git"
    assert display("deployToken", "plain") == MASK


def test_hashes_are_stable_and_short() -> None:
    assert config_value("k", "v") == config_value("k", "v")
    hashed = config_value("k", "v").value_hash
    assert hashed is not None and hashed.startswith("sha256:") and len(hashed) == len("sha256:") + 16
