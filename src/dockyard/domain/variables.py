"""Configuration variables: what a valid entry is, and which layer wins. Pure: entries in, entries out.

An entry is identified by `key + exposure` within a layer (its `scope`). Layers, lowest first:
`defaults < project < environment < resource < deployment`; the highest layer holding an identity
wins. Build-time values end up in build output (often shipped to browsers), so they are never secret.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from dockyard.domain.errors import Invalid

Exposure = Literal["build-time", "runtime"]
Kind = Literal["plain-config", "secret", "provider-specific", "deployment-strategy"]
Scope = Literal["defaults", "project", "environment", "resource", "deployment"]

PRECEDENCE: tuple[Scope, ...] = ("defaults", "project", "environment", "resource", "deployment")
ENVIRONMENT_SCOPES: tuple[Scope, ...] = ("defaults", "project", "environment")
MASK = "****"
KEY_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_KEY_LENGTH = 256
MAX_VALUE_BYTES = 32 * 1024
MIN_SECRET_LENGTH = 4  # shorter values could not be told apart from ordinary text when masking
SECRET_HINTS = (
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "DATABASE_URL",
    "CONNECTION_STRING",
    "PRIVATE_KEY",
    "SSH_KEY",
    "CREDENTIAL",
    "CERT",
)


class Entry(NamedTuple):
    """One variable as a layer holds it. `value` is the plaintext for non-secrets, else None.

    A tuple (fields in the order of the store's columns) because effective views build a thousand."""

    key: str
    exposure: Exposure
    scope: Scope
    kind: str
    is_secret: bool
    value: str | None = None
    secret_ref: str | None = None
    updated_at: str | None = None

    @property
    def identity(self) -> tuple[str, str]:
        return self.key, self.exposure

    @property
    def shown(self) -> str:
        """The value as any reader sees it: secrets masked."""
        return MASK if self.is_secret else (self.value or "")


@dataclass(frozen=True)
class Resolved:
    winner: Entry
    overridden: tuple[Scope, ...] = field(default_factory=tuple)


def check_key(key: str, field_name: str = "key") -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not KEY_PATTERN.fullmatch(key):
        message = (
            f"{key[:60]!r} is not a valid variable name: letters, digits and _, not starting with a "
            f"digit, at most {MAX_KEY_LENGTH} characters."
            if key
            else "The variable name is empty."
        )
        raise Invalid(
            message,
            code="variable_key_invalid",
            details={"errors": [{"field": field_name, "message": "expected [A-Za-z_][A-Za-z0-9_]*"}]},
            next_action="Rename it, e.g. DATABASE_URL or API_BASE.",
        )
    return key


def looks_secret(key: str) -> bool:
    upper = key.upper()
    return any(hint in upper for hint in SECRET_HINTS)


def check_value(key: str, value: str, is_secret: bool) -> str:
    """Size and shape of a value; the value itself never appears in the error."""
    if len(value.encode()) > MAX_VALUE_BYTES:
        raise Invalid(
            f"The value of {key} is larger than {MAX_VALUE_BYTES // 1024} KiB.",
            code="variable_value_too_large",
            details={"key": key, "limitBytes": MAX_VALUE_BYTES},
            next_action="Store large content in a file or volume and point a variable at it.",
        )
    if is_secret and len(value) < MIN_SECRET_LENGTH:
        raise Invalid(
            f"The secret value of {key} is shorter than {MIN_SECRET_LENGTH} characters; it could not be "
            "masked reliably in logs.",
            code="secret_value_too_short",
            details={"key": key, "minLength": MIN_SECRET_LENGTH},
            next_action="Use a longer secret, or store it as a plain (non-secret) variable.",
        )
    return value


def secret_flag(key: str, kind: str, is_secret: bool | None) -> bool:
    """Whether an entry is secret: `isSecret` when given, else `kind == secret`; both must agree."""
    if is_secret is None:
        return kind == "secret"
    if kind == "secret" and not is_secret:
        raise Invalid(
            f"{key} has kind 'secret' but isSecret is false.",
            code="variable_kind_conflict",
            details={"key": key},
            next_action="Leave isSecret out, or choose kind plain-config.",
        )
    return is_secret


def check_exposure(key: str, exposure: str, is_secret: bool) -> None:
    """Build-time values land in build output: a secret (or a secret-looking name) is refused there."""
    if exposure != "build-time":
        return
    if is_secret or looks_secret(key):
        why = "is marked secret" if is_secret else "looks like a secret (its name)"
        raise Invalid(
            f"{key} {why}, and build-time values end up in build output; secrets are runtime only.",
            code="secret_build_time_forbidden",
            details={"key": key, "exposure": exposure},
            next_action="Use exposure runtime for it; the app reads it when it starts.",
        )


def check_entry(key: str, value: str, exposure: str, is_secret: bool) -> None:
    check_key(key)
    check_exposure(key, exposure, is_secret)
    check_value(key, value, is_secret)


_RANK = {scope: i for i, scope in enumerate(PRECEDENCE)}


def rank(scope: str) -> int:
    return _RANK[scope]


def resolve(entries: Iterable[Entry]) -> list[Resolved]:
    """The winner of every `key + exposure`, sorted by key then exposure, with the layers it beat."""
    best: dict[tuple[str, str], Entry] = {}
    beaten: dict[tuple[str, str], list[str]] = {}
    for entry in entries:
        identity = (entry.key, entry.exposure)
        current = best.get(identity)
        if current is None:
            best[identity] = entry
            continue
        loser = current
        if _RANK[entry.scope] > _RANK[current.scope]:
            best[identity] = entry
        else:
            loser = entry
        beaten.setdefault(identity, []).append(loser.scope)
    return [
        Resolved(best[i], tuple(sorted(beaten.get(i, ()), key=_RANK.__getitem__)))  # type: ignore[arg-type]
        for i in sorted(best)
    ]


def effective(entries: Iterable[Entry]) -> list[Entry]:
    return [r.winner for r in resolve(entries)]


def wire(e: Entry, with_ref: bool = True) -> dict[str, object]:
    """An entry as readers see it (secrets masked; in a snapshot a secret carries its reference)."""
    out: dict[str, object] = {
        "key": e.key,
        "value": e.shown,
        "scope": e.scope,
        "exposure": e.exposure,
        "isSecret": e.is_secret,
        "kind": e.kind,
    }
    if with_ref and e.is_secret and e.secret_ref:
        out["secretRef"] = e.secret_ref
    return out


def snapshot(entries: Iterable[Entry], snapshot_id: str, environment_id: str, created_at: str) -> dict:
    """What a deployment runs with: the effective entries at the time it was asked for."""
    return {
        "id": snapshot_id,
        "environmentId": environment_id,
        "createdAt": created_at,
        "precedence": list(PRECEDENCE),
        "variables": [wire(e) for e in effective(entries)],
    }


def values(snapshot_doc: dict | None, exposure: Exposure, opened: dict[str, str]) -> dict[str, str]:
    """KEY → plaintext of a snapshot's entries of one exposure; secrets come from `opened` by ref."""
    out = {}
    for v in (snapshot_doc or {}).get("variables", []):
        if v.get("exposure") == exposure:
            out[v["key"]] = (
                opened.get(v.get("secretRef", ""), "") if v.get("isSecret") else v.get("value", "")
            )
    return out
