"""What a handler receives: the job and its cancellation signal."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Optional

from .errors import CancelReason, JobCancelledError


class Cancellation:
    """Set when the delivery should stop. Thread-safe, so a sync handler on the thread pool can
    poll :meth:`is_set` or block in :meth:`wait`; an async handler also gets
    ``asyncio.CancelledError`` at its next ``await``."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._reason: Optional[CancelReason] = None

    @property
    def reason(self) -> Optional[CancelReason]:
        """``deadline``, ``cancelled``, ``worker-lost`` or ``closing``; None while not set."""
        return self._reason

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Blocks until set or `timeout` seconds pass; True when set (like threading.Event)."""
        return self._event.wait(timeout)

    def raise_if_set(self) -> None:
        """Raises :class:`JobCancelledError` when set."""
        if self._reason is not None:
            raise JobCancelledError(self._reason)

    def _set(self, reason: CancelReason) -> bool:
        if self._event.is_set():
            return False
        self._reason = reason
        self._event.set()
        return True


@dataclass(frozen=True)
class Job:
    """One delivery of a job. ``attempt`` is the fencing token its result quotes."""

    id: str
    queue: str
    attempt: int
    payload: bytes
    metadata: dict[str, str]
    priority: int
    #: When the execution timeout passes (UTC); None when the job has none.
    deadline: Optional[datetime]
    created_at: Optional[datetime]
    #: Failed attempts so far; ``retry_count >= max_retries`` means this is the last try.
    retry_count: int
    max_retries: int
    worker_id: str
    cancelled: Cancellation = field(default_factory=Cancellation, compare=False, repr=False)
