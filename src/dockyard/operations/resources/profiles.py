"""Resource profile operations: source, runtime, network, health policy, access.

A profile write merges the given fields into the stored profile (unset fields keep their values)
and stores the validated result; nothing is deployed or restarted.
"""

from typing import Any

from pydantic import BaseModel

from dockyard.domain.profiles import AccessProfile, HealthCheck, NetworkProfile, RuntimeProfile
from dockyard.operations.catalog import operation
from dockyard.operations.common import IdOut
from dockyard.operations.context import Context
from dockyard.operations.resources.handlers import load_writable
from dockyard.operations.resources.models import (
    ConfigureAccess,
    ConfigureHealth,
    ConfigureNetwork,
    ConfigureRuntime,
    ConfigureSource,
    ResourceRef,
)


def deep_merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in patch.items():
        merged[key] = (
            deep_merge(merged[key], value)
            if isinstance(value, dict) and isinstance(merged.get(key), dict)
            else value
        )
    return merged


def merged_profile(stored: dict[str, Any] | None, patch: BaseModel, model: type[BaseModel]) -> dict[str, Any]:
    base = model.model_validate(stored or {}).model_dump(mode="json")
    result = deep_merge(base, patch.model_dump(mode="json", exclude_unset=True))
    return model.model_validate(result).model_dump(mode="json")


@operation("resources.configure-source", "POST", "/resources/{resourceId}/source")
def configure_source(ctx: Context, inp: ConfigureSource) -> IdOut:
    """Set the source later deployments detect and build from (replaces the previous source)."""
    row = load_writable(ctx, inp.resource_id)
    row.source = inp.source.model_dump(mode="json")
    return IdOut(id=row.id)


@operation("resources.configure-runtime", "POST", "/resources/{resourceId}/runtime-profile")
def configure_runtime(ctx: Context, inp: ConfigureRuntime) -> IdOut:
    """Set runtime settings: strategy, install/build/start commands, publish directory."""
    row = load_writable(ctx, inp.resource_id)
    row.runtime_profile = merged_profile(row.runtime_profile, inp.runtime_profile, RuntimeProfile)
    return IdOut(id=row.id)


@operation("resources.configure-network", "POST", "/resources/{resourceId}/network-profile")
def configure_network(ctx: Context, inp: ConfigureNetwork) -> IdOut:
    """Set the port the app listens on, its protocol and how it is exposed."""
    row = load_writable(ctx, inp.resource_id)
    row.network_profile = merged_profile(row.network_profile, inp.network_profile, NetworkProfile)
    return IdOut(id=row.id)


@operation("resources.configure-health", "POST", "/resources/{resourceId}/health-policy")
def configure_health(ctx: Context, inp: ConfigureHealth) -> IdOut:
    """Set the readiness and health checks used to verify deployments."""
    row = load_writable(ctx, inp.resource_id)
    row.health_policy = merged_profile(row.health_policy, inp.health_check, HealthCheck)
    return IdOut(id=row.id)


@operation("resources.reset-health", "POST", "/resources/{resourceId}/health-policy/reset")
def reset_health(ctx: Context, inp: ResourceRef) -> IdOut:
    """Reset the health policy to the defaults, without deploying or restarting."""
    row = load_writable(ctx, inp.resource_id)
    row.health_policy = None
    return IdOut(id=row.id)


@operation("resources.configure-access", "POST", "/resources/{resourceId}/access-profile")
def configure_access(ctx: Context, inp: ConfigureAccess) -> IdOut:
    """Set whether the resource gets a generated access route, and its path prefix."""
    row = load_writable(ctx, inp.resource_id)
    row.access_profile = merged_profile(row.access_profile, inp.access_profile, AccessProfile)
    return IdOut(id=row.id)
