"""Config drift: where a resource's profile no longer matches what its latest deployment ran with, or
overrides what the repository's own entry profile (dockyard.yml) says. Pure."""

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from dockyard.domain.diagnostics import Diagnostic
from dockyard.domain.variables import MASK, looks_secret

HASH_LENGTH = 16  # hex digits of the sha256 kept: enough to tell values apart, short to read
# `NAME=value` inside a command, where NAME looks like a secret's (API_TOKEN=abc node server.js)
_ASSIGNMENT = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"]*\"|'[^']*'|\S+)")
_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")


@dataclass(frozen=True)
class ConfigValue:
    state: str  # "present" | "absent"
    display_value: str | None
    value_hash: str | None


@dataclass(frozen=True)
class ConfigKey:
    section: str
    profile: str  # the resource's field holding it: source, runtimeProfile, networkProfile
    name: str
    kind: str
    exposure: str  # "build-time" | "runtime"
    label: str
    command: str  # the operation that changes it on the resource
    default: Any = None  # what an unset value means (the strategy `auto`)
    in_entry_profile: bool = False  # dockyard.yml can set it too


KEYS: tuple[ConfigKey, ...] = (
    ConfigKey(
        "source", "source", "locator", "source-locator", "build-time", "source", "resources.configure-source"
    ),
    ConfigKey(
        "runtime",
        "runtimeProfile",
        "strategy",
        "deployment-strategy",
        "build-time",
        "runtime strategy",
        "resources.configure-runtime",
        default="auto",
    ),
    *(
        ConfigKey(
            "runtime",
            "runtimeProfile",
            name,
            kind,
            exposure,
            label,
            "resources.configure-runtime",
            None,
            True,
        )
        for name, kind, exposure, label in (
            ("installCommand", "install-command", "build-time", "install command"),
            ("buildCommand", "build-command", "build-time", "build command"),
            ("startCommand", "start-command", "runtime", "start command"),
            ("publishDirectory", "publish-directory", "build-time", "publish directory"),
            ("healthCheckPath", "health-check-path", "runtime", "health check path"),
        )
    ),
    ConfigKey(
        "network",
        "networkProfile",
        "internalPort",
        "internal-port",
        "runtime",
        "internal port",
        "resources.configure-network",
        None,
        True,
    ),
)


@dataclass(frozen=True)
class Drift(Diagnostic):
    config_key: str
    config_kind: str
    config_exposure: str
    config_scope: str
    config_source: str
    comparison: str
    resource_value: ConfigValue
    entry_profile_value: ConfigValue | None
    deployment_snapshot_value: ConfigValue | None
    latest_deployment_id: str | None
    config_pointer: str
    path: str | None = None


def value_hash(value: Any) -> str:
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()[:HASH_LENGTH]


def display(key: str, value: Any) -> str:
    """The value as a reader may see it: a secret-looking key masked whole; in text, credentials of a
    URL and secret-looking `NAME=value` assignments masked."""
    if looks_secret(key):
        return MASK
    if not isinstance(value, str):
        return json.dumps(value)
    text = _USERINFO.sub(f"{MASK}@", value)
    return _ASSIGNMENT.sub(lambda m: f"{m[1]}={MASK}" if looks_secret(m[1]) else m[0], text)


def config_value(key: str, value: Any) -> ConfigValue:
    if value is None:
        return ConfigValue("absent", None, None)
    return ConfigValue("present", display(key, value), value_hash(value))


def _read(profiles: dict[str, Any] | None, key: ConfigKey) -> Any:
    value = ((profiles or {}).get(key.profile) or {}).get(key.name)
    return key.default if value is None else value


def config_drift(
    resource: dict[str, Any],
    latest_deployment_id: str | None,
    snapshot: dict[str, Any] | None,
    entry_profile: dict[str, Any] | None,
) -> list[Drift]:
    """`resource` and `snapshot`: {source, runtimeProfile, networkProfile} now and as the latest
    deployment recorded them (None: nothing deployed yet). `entry_profile`: what dockyard.yml said
    when that deployment read the source ({path, startCommand, ...}; None: not known)."""
    found = []
    for key in KEYS:
        now = _read(resource, key)
        deployed = _read(snapshot, key) if snapshot is not None else None
        entry = entry_profile.get(key.name) if entry_profile is not None and key.in_entry_profile else None
        entry_known = entry_profile is not None and key.in_entry_profile
        values = {
            "config_key": key.name,
            "config_kind": key.kind,
            "config_exposure": key.exposure,
            "config_scope": "resource" if now is not None and now != key.default else "defaults",
            "config_source": "resource" if now is not None else "entry-profile" if entry else "defaults",
            "resource_value": config_value(key.name, now),
            "entry_profile_value": config_value(key.name, entry) if entry_known else None,
            "deployment_snapshot_value": config_value(key.name, deployed) if snapshot is not None else None,
            "latest_deployment_id": latest_deployment_id,
            "config_pointer": f"/{key.profile}/{key.name}",
            "section": key.section,
            "field_path": f"{key.profile}.{key.name}",
            "blocks_deployment_admission": False,  # the resource's value wins: nothing stops a deploy
        }
        if snapshot is not None and now != deployed:
            found.append(
                Drift(
                    "resource-config-drift",
                    "warning",
                    f"The resource's {key.label} changed since the latest deployment "
                    f"({latest_deployment_id}): redeploy to apply it.",
                    suggested_command="resources.redeploy",
                    comparison="resource-vs-deployment-snapshot",
                    **values,
                )
            )
        if now is not None and entry is not None and now != entry:
            where = (entry_profile or {}).get("path") or "dockyard.yml"
            found.append(
                Drift(
                    "entry-profile-overridden",
                    "info",
                    f"The resource's {key.label} overrides the one {where} sets: the resource's wins. "
                    "Clear it on the resource to use the repository's.",
                    suggested_command=key.command,
                    comparison="resource-vs-entry-profile",
                    path=where,
                    **values,
                )
            )
    return found
