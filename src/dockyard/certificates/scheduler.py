"""The certificate scheduler (the seed's `certificate-retry-scheduler`): every check interval it asks
for a renewal of each managed certificate close to expiry and retries failed attempts whose backoff
has passed. The attempts themselves run on the worker like any requested one."""

import logging
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from dockyard.certificates.attempts import FAILED, REQUESTED, attempts_of, iso, moment, start_attempt
from dockyard.domain.certificate_renewal import renewal_due
from dockyard.services import Services
from dockyard.store.tables import Certificate

log = logging.getLogger("dockyard.certificates")


def tick(svc: Services, now: datetime) -> list[str]:
    """Queue the renewals and retries due at `now`; returns the new attempts' ids."""
    before = timedelta(days=svc.settings.acme.renew_before_days)
    started = []
    with svc.db.session() as s:
        managed = s.scalars(
            select(Certificate).where(
                Certificate.source == "managed", Certificate.status.in_(("active", "pending", "failed"))
            )
        ).all()
        for cert in managed:
            history = attempts_of(s, cert.id)
            latest = history[0] if history else None
            if latest is not None and latest.status == REQUESTED:
                continue
            if latest is not None and latest.status == FAILED:
                if not (latest.retriable and latest.retry_after and moment(latest.retry_after) <= now):
                    continue  # waiting for its backoff, or for a person once retries ran out
                reason = latest.reason
            elif (
                cert.status == "active"
                and cert.expires_at
                and renewal_due(moment(cert.expires_at), now, before)
            ):
                reason = "renew"
            else:
                continue
            if cert.status == "failed":
                cert.status = "pending"
            started.append(start_attempt(s, cert, reason, iso(now)).id)
        s.commit()
    if started:
        log.info("certificate scheduler queued %d attempt(s)", len(started))
        svc.wake_worker()
    return started


class Scheduler:
    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self._stop = threading.Event()

    def start(self) -> None:
        threading.Thread(target=self._loop, name="dockyard-certificates", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        interval = self.svc.settings.acme.check_interval_s
        while True:
            try:
                tick(self.svc, datetime.now(UTC))
            except Exception:
                log.exception("the certificate scheduler failed; it tries again in %.0f s", interval)
            if self._stop.wait(interval):
                return
