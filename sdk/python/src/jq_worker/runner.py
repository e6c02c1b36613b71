"""Deliveries and their handlers: at most `concurrency` running, cancellation, deadlines.

A sync handler runs on a thread pool (its cancellation is the thread-safe ``job.cancelled``); an
async one runs as an asyncio task and is also cancelled (``asyncio.CancelledError``).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Optional, Union

from . import results
from ._proto import worker_service_pb2 as ws
from .errors import CancelReason
from .job import Job

Key = tuple[str, int]
Handler = Callable[[Job], Union[Any, Awaitable[Any]]]


@dataclass
class Delivery:
    job: Job
    #: waiting (for a slot), running, reported (result awaiting its ack)
    state: str = "waiting"
    task: Optional[asyncio.Task] = None
    timer: Optional[asyncio.TimerHandle] = None


class JobRunner:
    def __init__(
        self,
        concurrency: int,
        handler: Handler,
        on_result: Callable[[Key, ws.JobResult], None],
        on_voided: Callable[[Key, CancelReason], None],
        log: logging.Logger,
    ) -> None:
        self._handler = handler
        self._is_async = inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(getattr(handler, "__call__", None))
        self._pool = None if self._is_async else ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="jq-handler")
        self._slots = asyncio.Semaphore(concurrency)
        self._on_result = on_result
        self._on_voided = on_voided
        self._log = log
        self.deliveries: dict[Key, Delivery] = {}
        self.in_flight = 0

    def accept(self, job: Job) -> bool:
        """Starts a delivery; False for a repeat of one already held."""
        key = (job.id, job.attempt)
        if key in self.deliveries:
            return False
        d = Delivery(job)
        self.deliveries[key] = d
        if job.deadline is not None:
            delay = max(0.0, job.deadline.timestamp() - time.time())
            d.timer = asyncio.get_running_loop().call_later(delay, self._deadline_passed, key, d)
        d.task = asyncio.create_task(self._run(key, d), name=f"jq-job-{job.id}")
        return True

    def held(self) -> list[Key]:
        return list(self.deliveries)

    def unfinished(self) -> int:
        """Deliveries waiting or running (not yet reported)."""
        return sum(1 for d in self.deliveries.values() if d.state != "reported")

    def void(self, key: Key, reason: CancelReason) -> bool:
        """Stops a delivery whose result must not be sent; False when not held or already reported."""
        d = self.deliveries.get(key)
        if d is None or d.state == "reported":
            return False
        del self.deliveries[key]
        if d.timer:
            d.timer.cancel()
        d.job.cancelled._set(reason)
        if d.task and (d.state == "waiting" or self._is_async):
            d.task.cancel()
        self._on_voided(key, reason)
        return True

    def void_unfinished(self, reason: CancelReason) -> None:
        for key in [k for k, d in self.deliveries.items() if d.state != "reported"]:
            self.void(key, reason)

    def ended(self, key: Key) -> None:
        """The result's ack arrived: the delivery is over."""
        d = self.deliveries.pop(key, None)
        if d and d.timer:
            d.timer.cancel()

    async def wait_unfinished(self, timeout: Optional[float]) -> bool:
        """Waits until no delivery is waiting or running; False after `timeout` seconds."""
        end = None if timeout is None else time.monotonic() + timeout
        while self.unfinished() > 0:
            if end is not None and time.monotonic() >= end:
                return False
            await asyncio.sleep(0.02)
        return True

    def shutdown(self) -> None:
        if self._pool:
            # A handler that ignores its cancellation keeps its thread; do not wait for it.
            self._pool.shutdown(wait=False, cancel_futures=True)

    def _deadline_passed(self, key: Key, d: Delivery) -> None:
        if self.deliveries.get(key) is not d or d.state == "reported":
            return
        d.job.cancelled._set("deadline")
        if d.state == "running" and self._is_async and d.task:
            d.task.cancel()

    async def _run(self, key: Key, d: Delivery) -> None:
        job = d.job
        try:
            async with self._slots:
                if self.deliveries.get(key) is not d:
                    return
                if job.cancelled.reason == "deadline":
                    result = results.failure(job.id, job.attempt, TimeoutError("deadline passed before the job started"))
                else:
                    d.state = "running"
                    self.in_flight += 1
                    try:
                        result = await self._call(job)
                    finally:
                        self.in_flight -= 1
        except asyncio.CancelledError:
            if self.deliveries.get(key) is not d:
                return  # voided: no report
            if job.cancelled.reason != "deadline":
                raise
            task = asyncio.current_task()
            if task is not None and hasattr(task, "uncancel"):
                task.uncancel()  # handled: the deadline's failure is reported below
            result = results.failure(job.id, job.attempt, TimeoutError("deadline passed"))
        if self.deliveries.get(key) is not d:
            return  # voided while running: the server has already voided the attempt
        d.state = "reported"
        self._on_result(key, result)

    async def _call(self, job: Job) -> ws.JobResult:
        try:
            if self._pool is None:
                value = await self._handler(job)
            else:
                value = await asyncio.get_running_loop().run_in_executor(self._pool, self._handler, job)
        except asyncio.CancelledError:
            raise
        except BaseException as error:  # the handler failed the attempt (SystemExit included)
            return results.failure(job.id, job.attempt, error)
        return results.success(job.id, job.attempt, value)
