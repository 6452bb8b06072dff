"""Models shared by several operation groups."""

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, Json, StringConstraints, WithJsonSchema
from pydantic_core import PydanticCustomError

from dockyard.domain import lifecycle
from dockyard.domain.ids import PREFIXES, id_pattern, is_id_of
from dockyard.domain.model import CamelModel


def TextSchema(**schema: Any) -> WithJsonSchema:
    """The published schema of a text type checked by a validator: what it promises, the validator
    accepts (a client following the OpenAPI is never refused)."""
    return WithJsonSchema({"type": "string", **schema})


DNS_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"  # lower case, no '-' at either end, <= 63
INSTANT_SCHEMA = TextSchema(format="date-time")  # RFC 3339, which datetime.fromisoformat reads

# A name makes the slug of URLs and hostnames (a-z, 0-9): it needs one ASCII letter or digit. The
# schema says so (an unanchored pattern); the server's check is slugify's, with its own error code.
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=80),
    Field(json_schema_extra={"pattern": "[A-Za-z0-9]"}),
]
Reason = Annotated[str, StringConstraints(max_length=500)]


def _blank_is_absent(value: Any) -> Any:
    return None if value == "" else value


def fold_object(q: Any, field: str, flat: str) -> Any:
    """`q.<field>` (one JSON object) and its flat parameters (`q.<field>_<key>`, on the wire
    `flat.format(key)`) are two spellings of one thing: the object's keys fill the flat fields; both
    given and different is refused."""
    given_object = getattr(q, field)
    if given_object is None:
        return q
    for key, info in type(given_object).model_fields.items():
        given, spelled = getattr(given_object, key), getattr(q, f"{field}_{key}")
        if given is not None and spelled is not None and given != spelled:
            wire = info.alias or key
            raise ValueError(f"{flat.format(wire)} and {field}'s {wire} differ: send one of them")
        if given is not None:
            setattr(q, f"{field}_{key}", given)
    return q


def JsonQuery(model: type) -> Any:
    """A query parameter holding a JSON object (`?scope={"kind":"server"}`); `?scope=` is absent.
    The OpenAPI publishes it as `content: application/json` (interfaces/http/app.py)."""
    return Annotated[Json[model] | None, BeforeValidator(_blank_is_absent)]  # type: ignore[valid-type]


Limit = Annotated[int, Field(gt=0, le=500)]


@dataclass(frozen=True)
class IdKind:
    """Marks a field as an id of `kind` (the HTTP routes match only id-shaped path segments to it)."""

    kind: str


def IdOf(kind: str) -> type[str]:
    """A string that must be an id of `kind`; an id of another kind is refused with a clear message.

    The published schema carries the kind's pattern (`^prj_[0-9a-hjkmnp-tv-z]{26}$`), so a client
    that follows the OpenAPI never sends an id the server refuses.
    """

    def check(value: str) -> str:
        if not is_id_of(kind, value):
            # Its own error type, with the kind: in a path, the HTTP door answers "no such <kind>".
            ctx = {"kind": kind, "prefix": PREFIXES[kind], "got": repr(value[:40])}
            raise PydanticCustomError("id_kind", "expected a {kind} id like {prefix}_…, got {got}", ctx)
        return value

    schema = {
        "type": "string",
        "pattern": id_pattern(kind),
        "description": f"A {kind} id ({PREFIXES[kind]}_…).",
    }
    return Annotated[str, AfterValidator(check), WithJsonSchema(schema), IdKind(kind)]  # type: ignore[return-value]


ProjectId = IdOf("project")
EnvironmentId = IdOf("environment")
ServerId = IdOf("server")
ResourceId = IdOf("resource")
DeploymentId = IdOf("deployment")


class IdOut(CamelModel):
    id: str


class CountOut(CamelModel):
    count: int


class PageQuery(CamelModel):
    limit: Limit = 50
    cursor: Annotated[str, StringConstraints(max_length=60)] | None = Field(
        default=None, description="Pass nextCursor of the previous page to read the next one."
    )


class ReasonInput(CamelModel):
    reason: Reason | None = None


class Blocker(CamelModel):
    kind: str
    related_entity_id: str | None = None
    related_entity_type: str | None = None
    count: int = 0

    @classmethod
    def of_all(cls, blockers: list[lifecycle.Blocker]) -> list["Blocker"]:
        return [cls.model_validate(b, from_attributes=True) for b in blockers]


LifecycleStatus = Literal["active", "locked", "archived", "deactivated", "deleted"]
