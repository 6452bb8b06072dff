"""Prefixed, time-sortable identifiers: `prj_` + 10 chars of milliseconds + 16 random chars.

Lexical order is creation order, so lists can page by id alone (keyset pagination).
"""

import re
import secrets
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case

PREFIXES = {
    "organization": "org",
    "user": "usr",
    "token": "tok",
    "project": "prj",
    "environment": "env",
    "server": "tgt",
    "resource": "res",
    "deployment": "dep",
    "work": "wrk",
    "runtime_control": "rca",
    "access_policy": "dap",
    "access_route": "rte",
    "edge_attempt": "eda",
    "domain_binding": "dbn",
    "verification_attempt": "dva",
    "certificate": "crt",
    "certificate_attempt": "cra",
    # MCP hosting (the /mcp-api family)
    "mcp_server": "srv",
    "mcp_server_deployment": "svd",
    "custom_server": "csv",
    "custom_server_version": "csvv",
    "custom_server_deployment": "csd",
    "mcp_session": "ses",
    "server_session": "srs",
    "server_run": "srr",
    "provider": "pro",
    "provider_version": "prv",
    "provider_deployment": "pde",
    "provider_config": "pcf",
    "custom_provider": "cpr",
    "custom_provider_version": "cpv",
    "custom_provider_deployment": "cpd",
    "custom_provider_environment": "cpenv",
    "variable": "var",
    "secret_value": "sev",
    "environment_snapshot": "ens",
    "health_observation": "hob",
    "runtime_sample": "rms",
    "access_failure": "req",  # the request id a failed request through a route is known by
}
ID_BODY = r"[0-9a-hjkmnp-tv-z]{26}"
ID_SHAPE = rf"[a-z]+_{ID_BODY}"  # an id of any kind


def _encode(value: int, width: int) -> str:
    chars = []
    for _ in range(width):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


def new_id(kind: str, now_ms: int | None = None) -> str:
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    return f"{PREFIXES[kind]}_{_encode(ms, 10)}{_encode(secrets.randbits(80), 16)}"


def id_pattern(kind: str) -> str:
    return rf"^{PREFIXES[kind]}_{ID_BODY}$"


def is_id_of(kind: str, value: str) -> bool:
    return re.fullmatch(id_pattern(kind), value) is not None
