"""A stored server source made ready to launch: sealed secrets (registry password, remote headers, env)
opened."""

import json
from pathlib import Path
from typing import Any

from dockyard.domain.mcp_config import LaunchInputs
from dockyard.hosting import sealing
from dockyard.secrets.masking import Masker

SEALED = sealing.SOURCE_FIELDS


def launchable(data_dir: Path, source: dict[str, Any], owner_id: str) -> dict[str, Any]:
    """`owner_id` is the row the secrets were sealed for (the custom version)."""
    ready = {k: v for k, v in source.items() if k not in SEALED and k != "env_keys"}
    if source.get("password_sealed"):
        ready["password"] = sealing.open_sealed(data_dir, source["password_sealed"], owner_id)
    if source.get("headers_sealed"):
        ready["headers"] = json.loads(sealing.open_sealed(data_dir, source["headers_sealed"], owner_id))
    if source.get("env_sealed"):
        ready["env"] = json.loads(sealing.open_sealed(data_dir, source["env_sealed"], owner_id))
    return ready


def masker(ready: dict[str, Any], inputs: LaunchInputs | None = None) -> Masker:
    """What a server's output must never show: the values of its env, registry password and headers,
    from its source and from the session's config (a server may print its environment)."""
    values = [*(ready.get("env") or {}).values(), *(ready.get("headers") or {}).values()]
    values += [ready["password"]] if ready.get("password") else []
    if inputs is not None:
        values += [*inputs.env.values(), *inputs.headers.values()]
    return Masker(str(v) for v in values if v)
