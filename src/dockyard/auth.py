"""Bearer tokens: random, shown once, stored only as SHA-256 hashes. Roles map to permissions."""

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from dockyard.domain.errors import Forbidden, Unauthorized
from dockyard.domain.ids import new_id
from dockyard.operations.catalog import Permission
from dockyard.operations.context import Principal
from dockyard.store.tables import ApiToken

ROLE_PERMISSIONS: dict[str, set[Permission]] = {
    "admin": {Permission.READ, Permission.WRITE, Permission.ADMIN},
    "member": {Permission.READ, Permission.WRITE},
    "viewer": {Permission.READ},
}
_LOGIN_HINT = "Send 'Authorization: Bearer <token>'; the first admin token is in <data-dir>/admin.token."


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, user_id: str, role: str, name: str, now: str) -> str:
    """Create a token and return its plaintext; only the hash is stored."""
    plaintext = "dky_" + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            id=new_id("token"),
            user_id=user_id,
            name=name,
            token_hash=hash_token(plaintext),
            role=role,
            created_at=now,
        )
    )
    return plaintext


def authenticate(session: Session, token: str | None) -> Principal:
    if not token:
        raise Unauthorized("This operation needs a bearer token.", next_action=_LOGIN_HINT)
    row = session.scalar(
        select(ApiToken).where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))
    )
    if row is None:
        raise Unauthorized(
            "The bearer token is not valid or was revoked.", code="invalid_token", next_action=_LOGIN_HINT
        )
    return Principal(user_id=row.user_id, role=row.role, token_id=row.id)


def authorize(principal: Principal, needed: Permission) -> None:
    if needed not in ROLE_PERMISSIONS.get(principal.role, set()):
        raise Forbidden(
            f"Role {principal.role!r} may not perform this operation (needs {needed.value}).",
            details={"role": principal.role, "permission": needed.value},
            next_action="Ask an admin for a token with a role that allows it.",
        )
