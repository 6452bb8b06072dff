"""Models shared by several operation groups."""

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints

from dockyard.domain import lifecycle
from dockyard.domain.ids import PREFIXES, is_id_of
from dockyard.domain.model import CamelModel

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
Reason = Annotated[str, StringConstraints(max_length=500)]
Limit = Annotated[int, Field(gt=0, le=500)]


def IdOf(kind: str) -> type[str]:
    """A string that must be an id of `kind`; an id of another kind is refused with a clear message."""

    def check(value: str) -> str:
        if not is_id_of(kind, value):
            raise ValueError(f"expected a {kind} id like {PREFIXES[kind]}_…, got {value[:40]!r}")
        return value

    return Annotated[str, AfterValidator(check)]  # type: ignore[return-value]


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
