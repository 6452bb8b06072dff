"""First-run bootstrap: is an admin configured, and create the first one."""

import hashlib
import secrets
from typing import Annotated

from pydantic import StringConstraints
from sqlalchemy import select

from dockyard.auth import issue_token
from dockyard.domain.errors import Conflict
from dockyard.domain.ids import new_id
from dockyard.domain.model import CamelModel
from dockyard.operations.catalog import NoInput, Permission, operation
from dockyard.operations.common import Name
from dockyard.operations.context import Context
from dockyard.startup import write_secret_file
from dockyard.store.tables import Organization, User

Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]


class LoginMethod(CamelModel):
    key: str
    configured: bool
    enabled: bool
    reason: str | None = None


class AuthStatus(CamelModel):
    bootstrap_required: bool
    first_admin_configured: bool
    organization_configured: bool
    login_methods: list[LoginMethod]
    first_admin_email: str | None
    login_url: str | None
    organization_id: str | None
    organization_slug: str | None
    next_steps: list[str]


class FirstAdminIn(CamelModel):
    email: Email
    display_name: Name | None = None


class FirstAdminOut(CamelModel):
    bootstrap_required: bool
    created: bool
    email: str
    login_methods: list[LoginMethod]
    organization_id: str
    organization_slug: str
    user_id: str
    generated_password: str | None
    login_url: str | None


def _login_methods(admin: User | None) -> list[LoginMethod]:
    return [
        LoginMethod(
            key="api-token",
            configured=admin is not None,
            enabled=True,
            reason=None if admin else "no admin yet",
        ),
        LoginMethod(
            key="local-password", configured=bool(admin and admin.password_hash), enabled=True, reason=None
        ),
    ]


def _hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


@operation("bootstrap.auth-status", "GET", "/bootstrap/auth/status", permission=Permission.PUBLIC)
def auth_status(ctx: Context, inp: NoInput) -> AuthStatus:
    """Tell whether a first admin exists and what to do next (no token needed)."""
    org = ctx.session.scalar(select(Organization).limit(1))
    admin = ctx.session.scalar(select(User).where(User.role == "admin").limit(1))
    steps = (
        ["Create the first admin: POST /api/bootstrap/auth/first-admin"]
        if admin is None
        else ["Use the admin token in <data-dir>/admin.token: dockyard projects list"]
    )
    return AuthStatus(
        bootstrap_required=admin is None,
        first_admin_configured=admin is not None,
        organization_configured=org is not None,
        login_methods=_login_methods(admin),
        first_admin_email=admin.email if admin else None,
        login_url=None,
        organization_id=org.id if org else None,
        organization_slug=org.slug if org else None,
        next_steps=steps,
    )


@operation(
    "bootstrap.create-first-admin",
    "POST",
    "/bootstrap/auth/first-admin",
    permission=Permission.PUBLIC,
    status_code=201,
)
def create_first_admin(ctx: Context, inp: FirstAdminIn) -> FirstAdminOut:
    """Create the first admin once; the generated password is shown only in this response."""
    if ctx.session.scalar(select(User.id).where(User.role == "admin").limit(1)):
        raise Conflict(
            "The first admin is already configured.",
            code="first_admin_exists",
            next_action="Use the admin token in <data-dir>/admin.token.",
        )
    org = ctx.session.scalars(select(Organization).limit(1)).one()
    password = secrets.token_urlsafe(18)
    user = User(
        id=new_id("user"),
        organization_id=org.id,
        email=inp.email.lower(),
        display_name=inp.display_name,
        role="admin",
        password_hash=_hash_password(password),
        created_at=ctx.now,
    )
    ctx.session.add(user)
    ctx.session.flush()
    if not ctx.settings.token_file.exists():  # started without a first admin: the token a first start writes
        token = issue_token(ctx.session, user.id, "admin", "admin.token", ctx.now)
        ctx.after_commit.append(lambda: write_secret_file(ctx.settings.token_file, token))
    return FirstAdminOut(
        bootstrap_required=False,
        created=True,
        email=user.email,
        login_methods=_login_methods(user),
        organization_id=org.id,
        organization_slug=org.slug,
        user_id=user.id,
        generated_password=password,
        login_url=None,
    )
