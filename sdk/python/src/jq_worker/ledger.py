"""Where every delivery went: the counters of ``Worker.stats`` and the ``on_job_done`` callback.

``received = succeeded + failed + stale + invalid + cancelled + held`` at all times.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Optional

from ._proto import worker_service_pb2 as ws
from .errors import CancelReason
from .outcomes import Ack, outcome_of_ack

Key = tuple[str, int]


class DeliveryLedger:
    def __init__(self, on_job_done: Optional[Callable[[dict[str, Any]], None]], log: logging.Logger) -> None:
        self._on_job_done = on_job_done
        self._log = log
        self.counts = dict(received=0, succeeded=0, failed=0, stale=0, invalid=0, cancelled=0, reconnects=0, registrations=0)

    def voided(self, key: Key, reason: CancelReason) -> None:
        """Ended without a report (cancelled, worker lost, close timeout)."""
        self.counts["cancelled"] += 1
        self._emit(key, "cancelled", message=reason)

    def acked(self, key: Key, result: ws.JobResult, ack: Ack) -> None:
        outcome, code = outcome_of_ack(result, ack)
        if outcome == "invalid":
            self._log.error("jq worker: result for job %s attempt %d refused: %s %s", key[0], key[1], code, ack.message)
        self.counts[outcome] += 1
        self._emit(key, outcome, ack_code=code, job_status=ack.job_status, message=ack.message)

    def _emit(self, key: Key, outcome: str, **fields: Any) -> None:
        if self._on_job_done is None:
            return
        try:
            self._on_job_done({"job_id": key[0], "attempt": key[1], "outcome": outcome, **fields})
        except Exception:  # a listener's bug must not reach the worker
            self._log.exception("jq worker: on_job_done raised")
