"""Wire models of configuration: variables of environments and resources, effective views, import
reports, resource secrets, environment diffs. Secret values only ever appear here as `****`."""

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, RootModel, StrictBool, StringConstraints

from dockyard.domain import variables as v
from dockyard.domain.model import CamelModel
from dockyard.operations.common import EnvironmentId, Name
from dockyard.operations.environments.handlers import EnvironmentKind, EnvironmentRef, MaskedVariable
from dockyard.operations.resources.models import ResourceRef

# The schema states the rule; the server's check (domain.variables.check_key) names what is wrong.
Key = Annotated[
    str,
    StringConstraints(max_length=1000),
    Field(json_schema_extra={"pattern": f"^{v.KEY_PATTERN.pattern}$", "maxLength": v.MAX_KEY_LENGTH}),
]
Value = Annotated[str, Field(description="The value; a secret's is never shown again (reads say ****).")]
EnvironmentScope = Literal["defaults", "project", "environment"]


class Nothing(RootModel[None]):
    """No answer: over HTTP a 204 with no body (the reference shows none)."""

    root: None = None


class VariableOut(MaskedVariable):
    updated_at: str | None = None

    @staticmethod
    def of(e: v.Entry) -> dict[str, Any]:
        """The fields of one entry, to validate inside the enclosing answer in one pass (pydantic's
        core does a thousand entries far faster than a thousand model objects built one by one)."""
        return {
            "key": e.key,
            "value": e.shown,
            "scope": e.scope,
            "exposure": e.exposure,
            "is_secret": e.is_secret,
            "kind": e.kind,
            "updated_at": e.updated_at,
        }


class EffectivePrecedence(CamelModel):
    schema_version: str = "environments.effective-precedence/v1"
    environment_id: str
    project_id: str
    owned_entries: list[VariableOut]
    effective_entries: list[VariableOut]
    precedence: list[str]
    generated_at: str


class Override(CamelModel):
    key: str
    exposure: v.Exposure
    selected_scope: str
    overridden_scopes: list[str]


class EffectiveConfig(CamelModel):
    schema_version: str = "resources.effective-config/v1"
    resource_id: str
    environment_id: str
    owned_entries: list[VariableOut]
    effective_entries: list[VariableOut]
    overrides: list[Override]
    precedence: list[str]
    generated_at: str


def _secret_rules() -> dict[str, Any]:
    """domain.variables' rules across fields, as JSON Schema: kind `secret` with isSecret false is a
    conflict; a secret, or a secret-looking name, is never build-time; a secret is 4+ characters."""
    looks = "|".join(
        "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in h) for h in v.SECRET_HINTS
    )
    marked = {"required": ["isSecret"], "properties": {"isSecret": {"const": True}}}
    of_kind = {"required": ["kind"], "properties": {"kind": {"const": "secret"}}}
    return {
        "allOf": [
            {
                "not": {
                    "required": ["kind", "isSecret"],
                    "properties": {"kind": {"const": "secret"}, "isSecret": {"const": False}},
                }
            },
            {
                "if": {"required": ["exposure"], "properties": {"exposure": {"const": "build-time"}}},
                "then": {
                    "properties": {
                        "isSecret": {"not": {"const": True}},
                        "kind": {"not": {"const": "secret"}},
                        "key": {"not": {"pattern": looks}},
                    }
                },
            },
            {
                "if": {"anyOf": [marked, of_kind]},
                "then": {"properties": {"value": {"minLength": v.MIN_SECRET_LENGTH}}},
            },
        ]
    }


class SetEnvironmentVariable(EnvironmentRef):
    model_config = ConfigDict(json_schema_extra=_secret_rules())
    key: Key
    value: Value
    kind: v.Kind = "plain-config"
    exposure: v.Exposure = "runtime"
    scope: EnvironmentScope = Field(
        default="environment",
        description="environment (this environment), defaults (its fallbacks), or project (every "
        "environment of the project).",
    )
    is_secret: StrictBool | None = None


class UnsetEnvironmentVariable(EnvironmentRef):
    key: Key
    exposure: v.Exposure = "runtime"
    scope: EnvironmentScope | None = Field(
        default=None, description="Leave out to remove the environment's own entries (defaults, environment)."
    )


class SetResourceVariable(ResourceRef):
    model_config = ConfigDict(json_schema_extra=_secret_rules())
    key: Key
    value: Value
    exposure: v.Exposure = "runtime"
    kind: v.Kind = "plain-config"
    is_secret: StrictBool | None = None


class UnsetResourceVariable(ResourceRef):
    key: Key
    exposure: v.Exposure = "runtime"


class ImportVariables(ResourceRef):
    content: Annotated[str, StringConstraints(max_length=1024 * 1024)]
    exposure: v.Exposure = "runtime"
    secret_keys: Annotated[list[Key], Field(max_length=1000)] = Field(default_factory=list)
    plain_keys: Annotated[list[Key], Field(max_length=1000)] = Field(default_factory=list)
    on_duplicate: Literal["reject", "last-wins"] = Field(
        default="reject", description="A key set twice in the content: refuse the import, or keep the last."
    )


class ImportedEntry(CamelModel):
    key: str
    value: str
    exposure: v.Exposure
    kind: Literal["plain-config", "secret"]
    is_secret: bool
    action: Literal["created", "replaced"]
    source_line: int


class DuplicateOverride(CamelModel):
    key: str
    exposure: v.Exposure
    first_line: int
    last_line: int
    rule: Literal["last-wins"] = "last-wins"


class ExistingOverride(CamelModel):
    key: str
    exposure: v.Exposure
    previous_scope: Literal["resource"] = "resource"
    rule: Literal["resource-entry-replaced"] = "resource-entry-replaced"


class SkippedEntry(CamelModel):
    key: str
    source_line: int
    reason: Literal["unchanged", "overridden-by-later-line"]


class ImportReport(CamelModel):
    resource_id: str
    imported_entries: list[ImportedEntry]
    duplicate_overrides: list[DuplicateOverride]
    existing_overrides: list[ExistingOverride]
    skipped_entries: list[SkippedEntry] = Field(default_factory=list)


class SecretItem(CamelModel):
    resource_id: str
    key: str
    value: str = v.MASK
    scope: Literal["resource"] = "resource"
    exposure: v.Exposure = "runtime"
    is_secret: bool = True
    kind: Literal["secret"] = "secret"
    updated_at: str


class SecretList(CamelModel):
    schema_version: str = "resources.secrets.list/v1"
    resource_id: str
    items: list[SecretItem]
    generated_at: str


class SecretShow(CamelModel):
    schema_version: str = "resources.secrets.show/v1"
    secret: SecretItem
    generated_at: str


class SecretQuery(ResourceRef):
    exposure: v.Exposure = "runtime"


class SecretKeyQuery(SecretQuery):
    key: Key


# A secret shorter than this could not be told apart from ordinary text when masking; the schema
# says so, the server's check (domain.variables) names the key.
SecretValue = Annotated[Value, Field(json_schema_extra={"minLength": v.MIN_SECRET_LENGTH})]


class CreateSecret(ResourceRef):
    key: Key
    value: SecretValue


class RotateSecret(ResourceRef):
    key: Key
    value: SecretValue


class DeleteSecret(ResourceRef):
    key: Key


class SecretMutation(CamelModel):
    resource_id: str
    key: str
    exposure: v.Exposure = "runtime"


class DiffEntry(CamelModel):
    key: str
    exposure: v.Exposure
    left: MaskedVariable | None
    right: MaskedVariable | None
    change: Literal["added", "removed", "changed"]


class DiffOut(RootModel[list[DiffEntry]]):
    """What differs between two environments' effective configuration (left: this one)."""


class DiffQuery(EnvironmentRef):
    other_environment_id: EnvironmentId


class PromoteEnvironment(EnvironmentRef):
    target_name: Name
    target_kind: EnvironmentKind | None = Field(
        default=None, description="Kind of the target when it is created (default: the source's)."
    )


class KeyRotation(CamelModel):
    schema_version: str = "secrets.key-rotation/v1"
    key_source: Literal["file", "environment"]
    key_id: str
    retired_key_ids: list[str]
    reencrypted_count: int
    rotated_at: str
