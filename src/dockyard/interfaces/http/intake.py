"""What happens to a request before an operation sees it: the caller is checked first, then at most
`max_body_bytes` of the body is read.

FastAPI reads (and parses) the whole body before it runs dependencies, so a check there would come
after an unauthenticated client had made the server hold whatever it sent. Here the check runs in
the route's `handle`, before the body is touched, and a cap on `receive` stops a body, declared
(Content-Length) or streamed (chunked), as soon as it passes the limit.
"""

from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dockyard import auth
from dockyard.operations.catalog import Operation, Permission
from dockyard.operations.context import Principal
from dockyard.store.db import Database

PRINCIPAL = "dockyard.principal"  # scope key: the caller the route checked


def guard(session: Session, op: Operation, token: str | None) -> Principal | None:
    """The one place where callers are checked; runs before any input is read or judged."""
    if op.permission is Permission.PUBLIC:
        return None
    principal = auth.authenticate(session, token)
    auth.authorize(principal, op.permission)
    return principal


def bearer_token(headers: Headers) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def principal_of(request: Request) -> Principal | None:
    """The caller `guarded_route` checked for this request (None for a public operation)."""
    return request.scope[PRINCIPAL]  # type: ignore[no-any-return]


def guarded_route(db: Database, operations: dict[str, Operation]) -> type[APIRoute]:
    """A route class that checks the caller of its operation before FastAPI reads the body."""

    def check(op: Operation, scope: Scope) -> Principal | None:
        with db.session() as session:
            return guard(session, op, bearer_token(Headers(scope=scope)))

    class GuardedRoute(APIRoute):
        async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["method"] in self.methods:  # otherwise Starlette answers 405, nothing is read
                # A refusal raised here reaches the app's DockyardError handler (the family's envelope).
                scope[PRINCIPAL] = await run_in_threadpool(check, operations[self.operation_id], scope)
            await super().handle(scope, receive, send)

    return GuardedRoute


class BodyTooLarge(HTTPException):
    """Raised from `receive`; an HTTPException so FastAPI's body reader passes it on unchanged to the
    app's handler, which answers 413 in the family's envelope (errors.body_too_large)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than {limit} bytes.")
        self.limit = limit


def _declared_length(scope: Scope) -> int | None:
    raw = Headers(scope=scope).get("content-length")
    return int(raw) if raw is not None and raw.isdigit() else None


class BodyLimit:
    """ASGI middleware: no app behind it receives more than `limit` body bytes.

    Nothing is read here: the cap applies when the app asks for the body, so an app that refuses a
    caller first never reads it. A declared length over the limit fails the first `receive`; a
    streamed body fails the `receive` that passes the limit, so at most `limit` bytes are held.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        read = 0

        async def capped_receive() -> Message:
            nonlocal read
            if declared is not None and declared > self.limit:
                raise BodyTooLarge(self.limit)
            message = await receive()
            read += len(message.get("body", b""))
            if read > self.limit:
                raise BodyTooLarge(self.limit)
            return message

        await self.app(scope, capped_receive, send)
