"""Certificates of domain bindings: import a PEM chain and key, list, show, delete.

An imported certificate is checked (PEM, key matches the leaf, covers the binding's domain, valid
now) and becomes the binding's active one, replacing the previous one ("superseded"). The chain and
key are written as files under `<data_dir>/certificates/<id>/`; the database keeps metadata only and
no answer carries the key. The edge serves HTTPS with the active certificate of a verified binding
(edge.sync.desired_routes); it is re-applied after every change.
"""

from datetime import datetime

from sqlalchemy import select

from dockyard.domain import certificates as files
from dockyard.domain.errors import Conflict, Invalid
from dockyard.domain.ids import new_id
from dockyard.edge.sync import sync_after_commit
from dockyard.operations.catalog import operation
from dockyard.operations.certificate_models import (
    AttemptOut,
    CertificateFilter,
    CertificateIdOut,
    CertificateList,
    CertificateOut,
    CertificateRef,
    DeleteCertificate,
    ImportCertificate,
    ImportOut,
)
from dockyard.operations.context import Context
from dockyard.operations.domain_bindings import load as load_binding
from dockyard.store import queries
from dockyard.store.tables import Certificate, CertificateAttempt

ACTIVE = "active"


def load(ctx: Context, certificate_id: str) -> Certificate:
    return queries.get_or_404(ctx.session, Certificate, certificate_id, "certificate")


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _attempts(ctx: Context, certificate_id: str) -> list[AttemptOut]:
    rows = ctx.session.scalars(
        select(CertificateAttempt)
        .where(CertificateAttempt.certificate_id == certificate_id)
        .order_by(CertificateAttempt.id.desc())
    )
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


@operation("certificates.list", "GET", "/certificates")
def list_certificates(ctx: Context, inp: CertificateFilter) -> CertificateList:
    """List certificates (not deleted ones), newest first, optionally of one domain binding."""
    stmt = select(Certificate).where(Certificate.status != "deleted")
    if inp.domain_binding_id:
        stmt = stmt.where(Certificate.domain_binding_id == inp.domain_binding_id)
    rows, cursor = queries.keyset_page(ctx.session, stmt, Certificate.id, inp.limit, inp.cursor)
    return CertificateList(items=[out(ctx, r) for r in rows], next_cursor=cursor)


@operation("certificates.show", "GET", "/certificates/{certificateId}")
def show_certificate(ctx: Context, inp: CertificateRef) -> CertificateOut:
    """Read a certificate's metadata and attempts (never its private key)."""
    return out(ctx, load(ctx, inp.certificate_id))


def _remove_files_after_commit(ctx: Context, certificate_id: str) -> None:
    data_dir = ctx.settings.data_dir
    ctx.after_commit.append(lambda: files.remove_files(data_dir, certificate_id))


@operation("certificates.import", "POST", "/certificates/import", status_code=201)
def import_certificate(ctx: Context, inp: ImportCertificate) -> ImportOut:
    """Import a PEM certificate chain and private key for a domain binding; it replaces the active one."""
    binding = load_binding(ctx, inp.domain_binding_id)
    now = datetime.fromisoformat(ctx.now.replace("Z", "+00:00"))
    checked = files.check(inp.certificate_chain, inp.private_key, binding.domain_name, now)
    previous = ctx.session.scalars(
        select(Certificate).where(Certificate.domain_binding_id == binding.id, Certificate.status == ACTIVE)
    ).all()
    for old in previous:
        old.status = "superseded"
    row = Certificate(
        id=new_id("certificate"),
        domain_binding_id=binding.id,
        domain_name=binding.domain_name,
        status=ACTIVE,
        source="imported",
        issued_at=ctx.now,
        expires_at=_iso(checked.not_after),
        not_before=_iso(checked.not_before),
        fingerprint=checked.fingerprint,
        issuer=checked.issuer,
        key_algorithm=checked.key_algorithm,
        subject_alternative_names=checked.subject_alternative_names,
        created_at=ctx.now,
    )
    attempt = CertificateAttempt(
        id=new_id("certificate_attempt"),
        certificate_id=row.id,
        status="succeeded",
        reason="import",
        requested_at=ctx.now,
        issued_at=ctx.now,
        expires_at=row.expires_at,
        retriable=False,
    )
    ctx.session.add(row)
    ctx.session.flush()
    ctx.session.add(attempt)
    ctx.session.flush()
    # Written before the commit so the edge finds them; a failed commit leaves an unused directory.
    files.write_files(ctx.settings.data_dir, row.id, checked)
    sync_after_commit(ctx, binding.server_id)
    for old in previous:  # after the edge stopped using them
        _remove_files_after_commit(ctx, old.id)
    return ImportOut(certificate_id=row.id, attempt_id=attempt.id)


@operation("certificates.delete", "DELETE", "/certificates/{certificateId}")
def delete_certificate(ctx: Context, inp: DeleteCertificate) -> CertificateIdOut:
    """Delete a certificate (files removed, HTTPS off); needs confirmation.certificateId.

    The metadata stays for the audit trail with status "deleted"; list leaves it out.
    """
    row = load(ctx, inp.certificate_id)
    if inp.confirmation.certificate_id != row.id:
        raise Invalid(
            f"Confirmation does not match: confirmation.certificateId must be {row.id!r}.",
            code="confirmation_mismatch",
            details={"field": "confirmation.certificateId"},
            next_action=f"Send confirmation.certificateId = {row.id!r} to confirm.",
        )
    if row.status == "deleted":
        raise Conflict(
            f"Certificate {row.id} is deleted already.",
            code="certificate_deleted",
            details={"certificateId": row.id, "status": row.status},
            next_action="Nothing to do; import a new certificate to serve HTTPS again.",
        )
    was_active = row.status == ACTIVE
    row.status = "deleted"
    if was_active:
        sync_after_commit(ctx, load_binding(ctx, row.domain_binding_id).server_id)
    _remove_files_after_commit(ctx, row.id)
    return CertificateIdOut(certificate_id=row.id)
