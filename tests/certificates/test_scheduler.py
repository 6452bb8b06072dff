"""The certificate scheduler queues renewals of managed certificates close to expiry and retries of
failed attempts whose backoff has passed — and nothing else."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from dockyard.certificates.attempts import WORK_KIND, iso
from dockyard.certificates.scheduler import tick
from dockyard.services import Services
from dockyard.store.tables import Certificate, CertificateAttempt, WorkItem

NOW = datetime.now(UTC)


@pytest.fixture
def binding(api: Any, verified_binding: dict[str, str]) -> str:
    """A verified binding on the local server, which has an nginx edge configured."""
    edge = {"proxyKind": "nginx", "httpPort": 18080, "httpsPort": 18443}
    server = verified_binding["serverId"]
    assert api.post(f"/api/servers/{server}/edge-proxy/configuration", json=edge).status_code == 200
    return verified_binding["id"]


def managed(api: Any, stack: Any, binding: str, **attempt: Any) -> str:
    """A managed certificate whose one attempt ended as `attempt` says (status, retriable, retryAfter)."""
    cert_id = api.post("/api/certificates/issue-or-renew", json={"domainBindingId": binding}).json()[
        "certificateId"
    ]
    with stack.db.session() as s:
        row = s.scalars(select(CertificateAttempt).where(CertificateAttempt.certificate_id == cert_id)).one()
        for key, value in attempt.items():
            setattr(row, key, value)
    return cert_id


def set_certificate(stack: Any, cert_id: str, **fields: Any) -> None:
    with stack.db.session() as s:
        cert = s.get(Certificate, cert_id)
        for key, value in fields.items():
            setattr(cert, key, value)


def queued(stack: Any, ids: list[str]) -> list[tuple[str, str]]:
    """(certificate id, reason) of the given new attempts, each with its work item."""
    with stack.db.session() as s:
        out = []
        for attempt_id in ids:
            attempt = s.get(CertificateAttempt, attempt_id)
            work = s.scalars(select(WorkItem).where(WorkItem.subject_id == attempt_id)).one()
            assert work.kind == WORK_KIND and work.status == "pending"
            out.append((attempt.certificate_id, attempt.reason))
        return out


def services(stack: Any) -> Services:
    return Services.create(stack.settings, stack.db)


def test_an_active_certificate_is_renewed_inside_the_window_only(api: Any, stack: Any, binding: str) -> None:
    cert_id = managed(api, stack, binding, status="succeeded")
    set_certificate(stack, cert_id, status="active", expires_at=iso(NOW + timedelta(days=60)))
    svc = services(stack)
    assert tick(svc, NOW) == []  # 60 days left, the window is 30
    started = tick(svc, NOW + timedelta(days=31))
    assert queued(stack, started) == [(cert_id, "renew")]
    assert tick(svc, NOW + timedelta(days=31)) == []  # one attempt at a time


def test_a_failed_attempt_is_retried_once_its_backoff_passed(api: Any, stack: Any, binding: str) -> None:
    later = iso(NOW + timedelta(minutes=5))
    cert_id = managed(api, stack, binding, status="failed", retriable=True, retry_after=later)
    set_certificate(stack, cert_id, status="failed")
    svc = services(stack)
    assert tick(svc, NOW) == []
    started = tick(svc, NOW + timedelta(minutes=6))
    assert queued(stack, started) == [(cert_id, "issue")]
    with stack.db.session() as s:
        assert s.get(Certificate, cert_id).status == "pending"


def test_failures_that_cannot_succeed_and_imported_certificates_are_left_alone(
    api: Any, stack: Any, binding: str
) -> None:
    cert_id = managed(api, stack, binding, status="failed", retriable=False, retry_after=None)
    set_certificate(stack, cert_id, status="failed")
    with stack.db.session() as s:  # and an imported certificate about to expire
        s.add(
            Certificate(
                id="crt_00000000000000000000000001",
                domain_binding_id=binding,
                domain_name="shop.example.com",
                status="active",
                source="imported",
                expires_at=iso(NOW + timedelta(days=1)),
                subject_alternative_names=["shop.example.com"],
                created_at=iso(NOW),
            )
        )
    assert tick(services(stack), NOW + timedelta(days=365)) == []
