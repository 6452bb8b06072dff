from dockyard.domain.diagnostics import profile_diagnostics


def codes(*args: object) -> list[str]:
    return [d.code for d in profile_diagnostics(*args)]  # type: ignore[arg-type]


def test_a_resource_without_source_is_told_to_configure_one() -> None:
    found = profile_diagnostics(None, None, None)
    assert [d.code for d in found] == ["source-missing"]
    assert found[0].suggested_command == "resources.configure-source"
    assert found[0].blocks_deployment_admission


def test_image_strategies_need_an_internal_port_unless_not_exposed() -> None:
    source = {"kind": "dockerfile", "locator": "."}
    assert codes(source, {"strategy": "dockerfile"}, {}) == ["missing-internal-port"]
    assert codes(source, {"strategy": "dockerfile"}, {"internalPort": 8080}) == []
    assert codes(source, {"strategy": "prebuilt-image"}, {"exposureMode": "none"}) == []


def test_static_site_start_command_is_flagged_as_ignored() -> None:
    found = profile_diagnostics(
        {"kind": "local-folder", "locator": "."}, {"strategy": "static", "startCommand": "node x"}, {}
    )
    assert [(d.code, d.severity, d.blocks_deployment_admission) for d in found] == [
        ("start-command-ignored", "info", False)
    ]
