"""Base for the platform family's models: snake_case in Python, camelCase on the wire.

`defer_build`: a model's validator and serializer are built when first used, not at import — an
idle control plane never touches most of the catalog's models (4 MB resident at start otherwise).
"""

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class CamelModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="forbid",
        defer_build=True,
    )


class SnakeModel(BaseModel):
    """Base for the /mcp-api family's models: snake_case on the wire as in Python."""

    model_config = ConfigDict(
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="forbid",
        defer_build=True,
    )
