"""Certificates of domain bindings: import, issue or renew by ACME, retry, revoke, list, show, delete.

An imported certificate is checked (PEM, key matches the leaf, covers the binding's domain, valid
now) and becomes the binding's active one, replacing the previous one ("superseded"). A managed one
is requested here and obtained by the worker over ACME HTTP-01 (dockyard.certificates.attempts); the
scheduler renews it before it expires (dockyard.certificates.scheduler). The chain and key are files under
`<data_dir>/certificates/<id>/`; the database keeps metadata only and no answer carries the key. The
edge serves HTTPS with the active certificate of a verified binding (edge.sync.desired_routes); it is
re-applied after every change.
"""

from sqlalchemy import select

from dockyard.certificates import attempts as issuance
from dockyard.certificates.authority import IssuanceFailed
from dockyard.domain import certificates as files
from dockyard.domain.errors import Conflict, Invalid, Unavailable
from dockyard.domain.ids import new_id
from dockyard.edge.sync import sync_after_commit
from dockyard.operations.catalog import operation
from dockyard.operations.certificates.models import (
    AttemptCreated,
    CertificateFilter,
    CertificateIdOut,
    CertificateList,
    CertificateOut,
    CertificateRef,
    DeleteCertificate,
    ImportCertificate,
    IssueOrRenew,
)
from dockyard.operations.certificates.views import out
from dockyard.operations.context import Context
from dockyard.operations.domain_bindings.handlers import ensure_verified
from dockyard.operations.domain_bindings.handlers import load as load_binding
from dockyard.store import queries
from dockyard.store.tables import Certificate, CertificateAttempt, Server

ACTIVE = "active"


def load(ctx: Context, certificate_id: str) -> Certificate:
    return queries.get_or_404(ctx.session, Certificate, certificate_id, "certificate")


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
def import_certificate(ctx: Context, inp: ImportCertificate) -> AttemptCreated:
    """Import a PEM certificate chain and private key for a domain binding; it replaces the active one."""
    binding = load_binding(ctx, inp.domain_binding_id)
    checked = files.check(
        inp.certificate_chain, inp.private_key, binding.domain_name, issuance.moment(ctx.now)
    )
    previous = issuance.supersede_active(ctx.session, binding.id)
    row = Certificate(
        id=new_id("certificate"),
        domain_binding_id=binding.id,
        domain_name=binding.domain_name,
        source="imported",
        created_at=ctx.now,
    )
    issuance.put_in_service(row, checked, ctx.now)
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
        _remove_files_after_commit(ctx, old)
    return AttemptCreated(certificate_id=row.id, attempt_id=attempt.id)


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


def _queue(ctx: Context, cert: Certificate, reason: str) -> AttemptCreated:
    if any(a.status == issuance.REQUESTED for a in issuance.attempts_of(ctx.session, cert.id)):
        raise Conflict(
            f"Certificate {cert.id} has an attempt running already.",
            code="certificate_attempt_in_progress",
            details={"certificateId": cert.id},
            next_action=f"Wait for it: dockyard certificates show {cert.id}",
        )
    attempt = issuance.start_attempt(ctx.session, cert, reason, ctx.now)
    if ctx.services is not None:
        ctx.after_commit.append(ctx.services.wake_worker)
    return AttemptCreated(certificate_id=cert.id, attempt_id=attempt.id)


@operation("certificates.issue-or-renew", "POST", "/certificates/issue-or-renew", status_code=202)
def issue_or_renew(ctx: Context, inp: IssueOrRenew) -> AttemptCreated:
    """Request a managed certificate for a verified binding over ACME HTTP-01, or renew the one it has.

    The attempt runs in the background; follow it with `certificates show` (latestAttempt).
    """
    binding = load_binding(ctx, inp.domain_binding_id)
    ensure_verified(binding, "a certificate authority would not find it on this server")
    server = ctx.session.get(Server, binding.server_id)
    if server is None or (server.edge_proxy or {}).get("kind", "none") == "none":
        raise Conflict(
            f"Server {binding.server_id} has no edge proxy to answer the ACME HTTP-01 challenge.",
            code="edge_proxy_required",
            details={"serverId": binding.server_id},
            next_action=f"dockyard servers configure-edge-proxy {binding.server_id} --proxy-kind nginx",
        )
    cert = ctx.session.scalars(
        select(Certificate)
        .where(
            Certificate.domain_binding_id == binding.id,
            Certificate.source == "managed",
            Certificate.status.in_(("pending", ACTIVE, "failed")),
        )
        .order_by(Certificate.id.desc())
        .limit(1)
    ).first()
    if cert is None:
        cert = Certificate(
            id=new_id("certificate"),
            domain_binding_id=binding.id,
            domain_name=binding.domain_name,
            status="pending",
            source="managed",
            provider_key=issuance.authority_for(ctx.settings).provider_key,
            challenge_type=issuance.HTTP_01,
            subject_alternative_names=[binding.domain_name],
            created_at=ctx.now,
        )
        ctx.session.add(cert)
        ctx.session.flush()
    reason = "renew" if cert.status == ACTIVE else "issue"
    if cert.status == "failed":
        cert.status = "pending"
    return _queue(ctx, cert, reason)


@operation("certificates.retry", "POST", "/certificates/{certificateId}/retries", status_code=202)
def retry_certificate(ctx: Context, inp: CertificateRef) -> AttemptCreated:
    """Try a failed, retriable issue or renewal again now (the scheduler also retries with backoff)."""
    cert = load(ctx, inp.certificate_id)
    history = issuance.attempts_of(ctx.session, cert.id)
    latest = history[0] if history else None
    if cert.source != "managed" or latest is None or latest.status != issuance.FAILED or not latest.retriable:
        why = (
            "it was imported, not issued by a certificate authority"
            if cert.source != "managed"
            else "its latest attempt did not fail"
            if latest is None or latest.status != issuance.FAILED
            else f"its latest failure ({latest.error_code}) will fail again the same way"
        )
        raise Conflict(
            f"Certificate {cert.id} cannot be retried: {why}.",
            code="certificate_not_retriable",
            details={"certificateId": cert.id, "status": cert.status},
            next_action="Fix the cause shown in latestAttempt.failureMessage, then request a new one: "
            f"dockyard certificates issue-or-renew --domain-binding-id {cert.domain_binding_id}",
        )
    if cert.status == "failed":
        cert.status = "pending"
    return _queue(ctx, cert, latest.reason)


@operation("certificates.revoke", "POST", "/certificates/{certificateId}/revoke")
def revoke_certificate(ctx: Context, inp: CertificateRef) -> CertificateIdOut:
    """Stop using a certificate for TLS now; a managed one is revoked with its certificate authority too."""
    row = load(ctx, inp.certificate_id)
    if row.status not in (ACTIVE, "superseded"):
        raise Conflict(
            f"Certificate {row.id} is {row.status}: only an active or superseded certificate can be revoked.",
            code="certificate_not_revocable",
            details={"certificateId": row.id, "status": row.status},
            next_action="Nothing to revoke; list the binding's certificates to find the active one.",
        )
    chain = files.files_dir(ctx.settings.data_dir, row.id) / files.CHAIN_FILE
    if row.source == "managed" and chain.exists():
        try:
            issuance.authority_for(ctx.settings).revoke(chain.read_text())
        except IssuanceFailed as exc:
            raise Unavailable(
                f"The certificate authority did not revoke {row.id}: {exc.message}",
                code=exc.code,
                details={"certificateId": row.id},
                next_action="Try again later; the certificate stays in use until it is revoked.",
            ) from None
    was_active = row.status == ACTIVE
    row.status = "revoked"
    if was_active:
        sync_after_commit(ctx, load_binding(ctx, row.domain_binding_id).server_id)
    _remove_files_after_commit(ctx, row.id)
    return CertificateIdOut(certificate_id=row.id)
