"""Attempts to issue or renew a managed certificate: requested by an operation or the scheduler, run
by the worker (work kind `certificate-attempt`), recorded on the certificate's attempt history.

A successful attempt makes the certificate `active` (its files replaced in place on renewal) and
supersedes any other active certificate of the binding; the edge is re-applied. A failed one records
its code, phase, message and — while automatic retries remain — when the scheduler tries again; a
failed renewal leaves the current certificate serving.
"""

import logging
import shutil
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dockyard.certificates.authority import CertificateAuthority, IssuanceFailed
from dockyard.config import Settings
from dockyard.domain import certificates as files
from dockyard.domain.certificate_renewal import retry_after
from dockyard.domain.errors import Invalid
from dockyard.domain.ids import new_id
from dockyard.domain.work import Outcome, certificate_outcome
from dockyard.edge.sync import challenges_dir, sync
from dockyard.operations.context import utc_now
from dockyard.services import Services
from dockyard.store.tables import Certificate, CertificateAttempt, DomainBinding, WorkItem
from dockyard.work import queue

log = logging.getLogger("dockyard.certificates")
WORK_KIND = "certificate-attempt"
HTTP_01 = "http-01"
REQUESTED, SUCCEEDED, FAILED = "requested", "succeeded", "failed"
GONE = ("deleted", "revoked", "superseded")


def moment(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds").replace("+00:00", "Z")


def authority_for(settings: Settings) -> CertificateAuthority:
    from dockyard.certificates.acme_authority import AcmeAuthority  # loads `acme` only when used

    acme = settings.acme
    return AcmeAuthority(acme.directory_url, settings.data_dir / "acme", acme.email, acme.ca_bundle)


def attempts_of(session: Session, certificate_id: str) -> list[CertificateAttempt]:
    """Newest first."""
    return list(
        session.scalars(
            select(CertificateAttempt)
            .where(CertificateAttempt.certificate_id == certificate_id)
            .order_by(CertificateAttempt.id.desc())
        )
    )


def consecutive_failures(attempts: list[CertificateAttempt]) -> int:
    count = 0
    for attempt in attempts:
        if attempt.status != FAILED:
            break
        count += 1
    return count


def start_attempt(
    session: Session, cert: Certificate, reason: str, now: str, retry_of: WorkItem | None = None
) -> CertificateAttempt:
    """Record a requested attempt and queue it for the worker (the caller commits and wakes it)."""
    attempt = CertificateAttempt(
        id=new_id("certificate_attempt"),
        certificate_id=cert.id,
        status=REQUESTED,
        reason=reason,
        provider_key=cert.provider_key,
        challenge_type=cert.challenge_type,
        requested_at=now,
        retriable=False,
    )
    session.add(attempt)
    session.flush()
    waiting = (
        retry_of
        or session.scalars(
            select(WorkItem)
            .where(WorkItem.certificate_id == cert.id, WorkItem.status == "retry-scheduled")
            .order_by(WorkItem.id.desc())
            .limit(1)
        ).first()
    )
    queue.enqueue(
        session,
        WORK_KIND,
        attempt.id,
        now,
        operation_key="certificates.issue-or-renew",
        retry_of=waiting,
        certificate_id=cert.id,
        domain_binding_id=cert.domain_binding_id,
    )
    return attempt


def outcome_in(session: Session, attempt_id: str) -> Outcome:
    """How the attempt really ended, for the work ledger."""
    a = session.get(CertificateAttempt, attempt_id)
    if a is None:
        return Outcome("failed", "certificate_attempt_gone", "certificate", False, "the attempt is gone")
    return certificate_outcome(
        a.status, a.error_code, a.failure_phase, a.failure_message, a.retriable, a.retry_after
    )


def run_and_report(svc: Services, attempt_id: str) -> Outcome:
    """The worker's handler: run the attempt, then say how it ended."""
    run_attempt(svc, attempt_id)
    with svc.db.session() as s:
        return outcome_in(s, attempt_id)


def run_attempt(svc: Services, attempt_id: str) -> None:
    """The worker's handler: prove the domain over HTTP-01, obtain the certificate, put it in service."""
    with svc.db.session() as s:
        attempt = s.get(CertificateAttempt, attempt_id)
        if attempt is None or attempt.status != REQUESTED:
            return
        cert = s.get(Certificate, attempt.certificate_id)
        binding = s.get(DomainBinding, cert.domain_binding_id) if cert else None
        if cert is None or binding is None or cert.status in GONE:
            _failed(
                s,
                attempt,
                IssuanceFailed("certificate_gone", "order", "The certificate was removed.", retriable=False),
            )
            return
        domain, server_id, certificate_id = binding.domain_name, binding.server_id, cert.id

    def publish(answers: Mapping[str, str]) -> None:
        """Put the HTTP-01 answers in the edge's config (and take them out again with {})."""
        folder = challenges_dir(svc.settings.data_dir)
        folder.mkdir(parents=True, exist_ok=True)
        mine = folder / attempt_id
        mine.mkdir(exist_ok=True)
        for stale in mine.iterdir():
            stale.unlink()
        for token, key_authorization in answers.items():
            (mine / token).write_text(key_authorization)
        if not answers:
            mine.rmdir()
        state = sync(svc, server_id)
        if state.get("status") != "ready":
            raise IssuanceFailed(
                "edge_proxy_failed",
                "challenge",
                f"The edge proxy could not serve the challenge: {state.get('lastErrorMessage')}",
                retriable=True,
            )

    try:
        issued = authority_for(svc.settings).issue(domain, publish)
        checked = files.check(issued.chain_pem, issued.key_pem, domain, moment(utc_now()))
    except IssuanceFailed as exc:
        with svc.db.session() as s:
            _failed(s, s.get(CertificateAttempt, attempt_id), exc)
        return
    except Invalid as exc:
        with svc.db.session() as s:
            problem = IssuanceFailed("acme_certificate_invalid", "finalize", exc.message, retriable=True)
            _failed(s, s.get(CertificateAttempt, attempt_id), problem)
        return
    files.write_files(svc.settings.data_dir, certificate_id, checked)
    with svc.db.session() as s:
        superseded = _succeeded(s, s.get(CertificateAttempt, attempt_id), checked)
    sync(svc, server_id)
    for old in superseded:  # after the edge stopped using them
        files.remove_files(svc.settings.data_dir, old)


def supersede_active(session: Session, binding_id: str, keep_id: str | None = None) -> list[str]:
    """The binding's active certificates (but `keep_id`) become `superseded`; returns their ids, whose
    files can go once the edge stopped using them."""
    rows = session.scalars(
        select(Certificate).where(
            Certificate.domain_binding_id == binding_id,
            Certificate.status == "active",
            Certificate.id != (keep_id or ""),
        )
    ).all()
    for old in rows:
        old.status = "superseded"
    return [old.id for old in rows]


def put_in_service(cert: Certificate, checked: files.CheckedCertificate, now: str) -> None:
    """The certificate is active with the checked chain's metadata (an import, an issue, a renewal)."""
    cert.status, cert.issued_at = "active", now
    cert.expires_at, cert.not_before = iso(checked.not_after), iso(checked.not_before)
    cert.fingerprint, cert.issuer = checked.fingerprint, checked.issuer
    cert.key_algorithm, cert.subject_alternative_names = (
        checked.key_algorithm,
        checked.subject_alternative_names,
    )


def _succeeded(s: Session, attempt: CertificateAttempt, checked: files.CheckedCertificate) -> list[str]:
    """Put the new files in service; returns the certificates whose files can go once the edge moved."""
    now = utc_now()
    cert = s.get(Certificate, attempt.certificate_id)
    if cert is None or cert.status in GONE:  # deleted or revoked while the CA was answering
        _failed(
            s,
            attempt,
            IssuanceFailed("certificate_gone", "finalize", "The certificate was removed.", retriable=False),
        )
        return [attempt.certificate_id]
    superseded = supersede_active(s, cert.domain_binding_id, keep_id=cert.id)
    put_in_service(cert, checked, now)
    attempt.status, attempt.issued_at, attempt.expires_at = SUCCEEDED, now, cert.expires_at
    log.info("certificate %s for %s issued (expires %s)", cert.id, cert.domain_name, cert.expires_at)
    return superseded


def interrupted(s: Session, attempt_id: str, message: str) -> None:
    """The control plane stopped while this attempt ran (work.reconcile): failed, retried soon."""
    attempt = s.get(CertificateAttempt, attempt_id)
    if attempt is not None and attempt.status == REQUESTED:
        _failed(s, attempt, IssuanceFailed("interrupted", "order", message, retriable=True))


def forget_challenges(settings: Settings) -> None:
    """At start: challenges of attempts that were running are of no use any more."""
    shutil.rmtree(challenges_dir(settings.data_dir), ignore_errors=True)


def _failed(s: Session, attempt: CertificateAttempt, exc: IssuanceFailed) -> None:
    now = utc_now()
    cert = s.get(Certificate, attempt.certificate_id)
    attempt.status, attempt.failed_at = FAILED, now
    attempt.error_code, attempt.failure_phase, attempt.failure_message = exc.code, exc.phase, exc.message
    attempt.retriable = exc.retriable
    s.flush()
    if cert is not None:
        if cert.status == "pending":
            cert.status = "failed"  # a renewal that fails leaves the active certificate serving
        failures = consecutive_failures(attempts_of(s, cert.id))
        again = retry_after(failures, moment(now)) if exc.retriable else None
        attempt.retry_after = iso(again) if again else None
    log.warning("certificate attempt %s failed (%s, %s): %s", attempt.id, exc.code, exc.phase, exc.message)
