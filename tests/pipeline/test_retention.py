"""Which artifacts retention keeps, and where it looks for them."""

from dockyard.pipeline.retention import kept, ran_as_container
from dockyard.store.tables import Deployment


def deployment(
    id_: str, status: str = "succeeded", plan: str | None = None, ran: str | None = None
) -> Deployment:
    return Deployment(
        id=id_,
        status=status,
        runtime_plan={"runtimeArtifact": {"kind": plan}} if plan else None,
        runtime_state={"artifact": {"kind": ran, "deploymentId": id_}} if ran else None,
    )


def test_only_a_resource_deployed_as_a_container_has_images_to_look_for() -> None:
    assert not ran_as_container(deployment("dep_1", plan="workspace", ran="workspace"))
    assert not ran_as_container(deployment("dep_2"))  # failed before it was planned
    assert ran_as_container(deployment("dep_3", status="failed", plan="image"))  # built, then failed
    assert ran_as_container(deployment("dep_4", ran="image"))  # a rollback to a retained image


def test_the_newest_successes_active_attempts_and_running_ones_are_kept() -> None:
    deps = [deployment(f"dep_{n}") for n in range(1, 6)] + [deployment("dep_6", status="running")]
    assert kept(deps, 2, {"dep_1"}) == {"dep_5", "dep_4", "dep_6", "dep_1"}
