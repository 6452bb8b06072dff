"""Errors are values: a stable `code`, a human `message`, optional `details` and `nextAction`."""

from typing import Any

from dockyard.domain.ids import PREFIXES


class DockyardError(Exception):
    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
        next_action: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or {}
        self.next_action = next_action

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "details": self.details,
                "nextAction": self.next_action,
            }
        }


class Invalid(DockyardError):
    status = 422
    code = "validation_failed"


class Unauthorized(DockyardError):
    status = 401
    code = "unauthorized"


class Forbidden(DockyardError):
    status = 403
    code = "forbidden"


class NotFound(DockyardError):
    status = 404
    code = "not_found"


class Conflict(DockyardError):
    status = 409
    code = "conflict"


class Unavailable(DockyardError):
    """Something outside Dockyard (a certificate authority, a registry) did not answer."""

    status = 503
    code = "unavailable"


def not_found(kind: str, entity_id: str) -> NotFound:
    """`kind` as in error codes (`domain_binding`); the message and the CLI hint spell it for people."""
    words, group = kind.replace("_", " "), kind.replace("_", "-")
    return NotFound(
        f"No {words} with id {entity_id!r}.",
        code=f"{kind}_not_found",
        details={"id": entity_id},
        next_action=f"List {words}s to find the right id: dockyard {group}s list",
    )


def malformed_id(kind: str, value: str) -> NotFound:
    """A path names an entity by an id that is not one of its kind: there is no such entity (the
    same answer as for an id of the kind that does not exist), and the message says what one is."""
    err = not_found(kind, value)
    err.message += f" A {kind.replace('_', ' ')} id looks like {PREFIXES[kind]}_ and 26 letters and digits."
    return err
