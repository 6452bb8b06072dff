"""The error envelope of each URL family as models: what `errors.envelope` sends and what the
OpenAPI documents publish for every 4xx/5xx, from one definition."""

from typing import Any, Literal

from pydantic import BaseModel, Field

from dockyard.domain.model import CamelModel, SnakeModel


class ApiErrorBody(CamelModel):
    code: str = Field(description="Stable machine-readable code, e.g. project_not_found.")
    message: str = Field(description="What went wrong, for people.")
    details: dict[str, Any] = Field(default_factory=dict, description="Fields involved, limits, ids.")
    next_action: str | None = Field(description="What to do next, where there is something to do.")


class ApiError(CamelModel):
    """Every failure under /api."""

    error: ApiErrorBody


class McpApiError(SnakeModel):
    """Every failure under /mcp-api (and the gateway under /mcp)."""

    ok: Literal[False] = False
    status: int
    code: str
    message: str
    hint: str | None = Field(default=None, description="What to do next, where there is something to do.")
    details: dict[str, Any] | None = None


def error_body(
    mcp: bool, status: int, code: str, message: str, details: dict | None, hint: str | None
) -> BaseModel:
    if mcp:
        return McpApiError(status=status, code=code, message=message, hint=hint, details=details or None)
    return ApiError(error=ApiErrorBody(code=code, message=message, details=details or {}, next_action=hint))
