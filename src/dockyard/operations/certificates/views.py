"""A certificate as answers show it (with its issuance attempts, newest first), and a binding's
certificates: shared by the certificate operations and a domain binding's detail, below both."""

from sqlalchemy import select

from dockyard.certificates import attempts as issuance
from dockyard.operations.certificates.models import AttemptOut, CertificateOut
from dockyard.operations.context import Context
from dockyard.store.tables import Certificate


def _attempts(ctx: Context, certificate_id: str) -> list[AttemptOut]:
    rows = issuance.attempts_of(ctx.session, certificate_id)
    return [AttemptOut.model_validate(r, from_attributes=True) for r in rows]


def out(ctx: Context, row: Certificate) -> CertificateOut:
    attempts = _attempts(ctx, row.id)
    return CertificateOut(
        id=row.id,
        domain_binding_id=row.domain_binding_id,
        domain_name=row.domain_name,
        status=row.status,  # type: ignore[arg-type]
        source=row.source,  # type: ignore[arg-type]
        provider_key=row.provider_key,
        challenge_type=row.challenge_type,
        issued_at=row.issued_at,
        expires_at=row.expires_at,
        fingerprint=row.fingerprint,
        not_before=row.not_before,
        issuer=row.issuer,
        key_algorithm=row.key_algorithm,
        subject_alternative_names=list(row.subject_alternative_names),
        latest_attempt=attempts[0] if attempts else None,
        attempts=attempts,
        created_at=row.created_at,
    )


def of_binding(ctx: Context, binding_id: str) -> list[CertificateOut]:
    """The binding's certificates, newest first (the active one, those it superseded, failed requests)."""
    rows = ctx.session.scalars(
        select(Certificate)
        .where(Certificate.domain_binding_id == binding_id)
        .order_by(Certificate.created_at.desc(), Certificate.id.desc())
    )
    return [out(ctx, r) for r in rows]
