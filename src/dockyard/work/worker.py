"""The worker: claims work items and runs their handler, a few at a time, until stopped.

A handler returns how its job really ended (an Outcome; None means it succeeded): a deployment that
failed or a certificate attempt waiting for its retry is recorded as such in the ledger."""

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from dockyard.domain.work import SUCCEEDED, Outcome, crashed
from dockyard.store.db import Database
from dockyard.work import queue

log = logging.getLogger("dockyard.worker")
IDLE_POLL_S = 1.0


class Worker:
    def __init__(
        self, db: Database, handlers: dict[str, Callable[[str], Outcome | None]], concurrency: int = 4
    ) -> None:
        self.db, self.handlers = db, handlers
        self.owner = queue.worker_identity()
        self._wake, self._stop = threading.Event(), threading.Event()
        self._slots = threading.Semaphore(concurrency)
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="dockyard-work")
        self._in_flight: set[str] = set()
        self._lock = threading.Lock()

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        threading.Thread(target=self._loop, name="dockyard-worker", daemon=True).start()
        threading.Thread(target=self._heartbeat, name="dockyard-lease", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._slots.acquire()
            try:
                item = queue.claim(self.db, self.owner)
            except Exception:
                log.exception("claiming work failed")
                item = None
            if item is None:
                self._slots.release()
                self._wake.wait(IDLE_POLL_S)
                self._wake.clear()
                continue
            with self._lock:
                self._in_flight.add(item.id)
            self._pool.submit(self._run, item.id, item.kind, item.subject_id)

    def _run(self, item_id: str, kind: str, subject_id: str) -> None:
        try:
            outcome = self.handlers[kind](subject_id) or SUCCEEDED
        except Exception as exc:
            log.exception("work item %s (%s %s) failed", item_id, kind, subject_id)
            outcome = crashed(exc)
        try:
            queue.finish(self.db, item_id, outcome)
        except Exception:
            log.exception("recording the outcome of work item %s failed", item_id)
        finally:
            with self._lock:
                self._in_flight.discard(item_id)
            self._slots.release()
            self._wake.set()

    def _heartbeat(self) -> None:
        while not self._stop.wait(queue.LEASE_S / 3):
            with self._lock:
                ids = list(self._in_flight)
            try:
                queue.renew(self.db, ids, self.owner)
            except Exception:
                log.exception("renewing leases failed")
