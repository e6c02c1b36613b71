"""Errors a handler raises or sees."""

from __future__ import annotations

from typing import Literal

#: Why a delivery's cancellation was set (docs/worker-sdk.md, "When the signal is aborted").
CancelReason = Literal["deadline", "cancelled", "worker-lost", "closing"]


class NonRetryableError(Exception):
    """Raise from a handler to send the job straight to the dead letters (reason NOT_RETRYABLE).

    Any exception with a ``retryable = False`` attribute has the same effect.
    """

    retryable = False


class JobCancelledError(Exception):
    """What a sync handler may raise once ``job.cancelled`` is set; its result is not reported
    unless the reason is ``deadline``."""

    def __init__(self, reason: CancelReason) -> None:
        super().__init__(f"job aborted: {reason}")
        self.reason: CancelReason = reason
