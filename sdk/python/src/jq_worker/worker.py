"""The Worker: registers, takes jobs over StreamJobs, runs the handler (at most `concurrency` at
once), reports results over ReportResults, heartbeats, reconnects, drains and deregisters.
See sdk/python/README.md and docs/worker-sdk.md for the guarantees.

This class decides; its parts act: JobRunner (handlers), JobStream and ResultReporter (streams),
HeartbeatLoop, ReconnectBackoff. Everything runs on one asyncio loop (grpc.aio).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import threading
from collections import Counter
from typing import Any, Callable, Literal, Mapping, Optional, Sequence

import grpc
import grpc.aio

from . import __version__
from ._proto import worker_service_pb2 as ws
from ._proto import worker_service_pb2_grpc as ws_grpc
from .backoff import ReconnectBackoff
from .connection import WORKER_SECRET_HEADER, TlsOption, aio_channel, call_metadata, channel_options
from .conversions import job_of_assignment, seconds
from .heartbeat import HeartbeatLoop
from .ledger import DeliveryLedger
from .options import check_options
from .outcomes import Ack
from .runner import Handler, JobRunner, Key
from .streams import JobStream, ResultReporter

LOST_CODES = (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.NOT_FOUND)
AUTH_CODES = (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED)
UNARY_TIMEOUT = 10.0
StopKind = Literal["stop", "drain"]


class Worker:
    def __init__(
        self,
        address: str,
        queues: Sequence[str],
        concurrency: int = 8,
        handler: Optional[Handler] = None,
        api_key: Optional[str] = None,
        tls: TlsOption = None,
        *,
        worker_id: Optional[str] = None,
        hostname: Optional[str] = None,
        labels: Optional[Mapping[str, str]] = None,
        close_timeout: float = 30.0,
        flush_timeout: float = 10.0,
        reconnect_initial_delay: float = 0.1,
        reconnect_max_delay: float = 5.0,
        stream_ready_grace: float = 0.25,
        on_job_done: Optional[Callable[[dict[str, Any]], None]] = None,
        logger: Optional[logging.Logger] = None,
    ) -> None:
        """The parameters in the order the issue gave them: Worker(address, queues=[...],
        concurrency=8, handler=fn, api_key=None, tls=None); pass them by name. See README.md."""
        if handler is None or not callable(handler):
            raise TypeError("handler is required: a function taking a Job (def or async def)")
        self._queues = check_options(address, queues, concurrency, close_timeout, flush_timeout)
        self._address, self._handler, self._concurrency = address, handler, concurrency
        self._api_key, self._tls = api_key, tls
        self._requested_id = worker_id
        self._hostname = hostname or socket.gethostname()
        self._labels = dict(labels or {})
        self._close_timeout, self._flush_timeout = close_timeout, flush_timeout
        self._backoff = ReconnectBackoff(reconnect_initial_delay, reconnect_max_delay)
        self._grace = stream_ready_grace
        self._log = logger or logging.getLogger("jq_worker")
        self.id: Optional[str] = worker_id
        self.drained = False  # True once a drain asked by the server (DrainWorker) completed
        self._ledger = DeliveryLedger(on_job_done, self._log)
        self._counts = self._ledger.counts
        self._messages: Counter[str] = Counter()
        self._ready = threading.Event()
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._stop_kind: Optional[StopKind] = None
        self._stop_event: Optional[asyncio.Event] = None
        self._signal_during_drain = False

    # ---- public API ----------------------------------------------------------------------------

    def run(self) -> None:
        """Runs until SIGTERM/SIGINT (or stop(), or a drain), then drains and returns."""
        asyncio.run(self.run_async(handle_signals=threading.current_thread() is threading.main_thread()))

    async def run_async(self, handle_signals: bool = False) -> None:
        """run() for code already on an asyncio loop. Raises if registration fails."""
        self._loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        if self._stop_kind is not None:
            self._stop_event.set()
        if handle_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                self._loop.add_signal_handler(sig, self._request_stop, "stop")
        try:
            await self._start()
            self._ready.set()
            await self._stop_event.wait()
            await self._shutdown()
        finally:
            self._ready.set()
            if handle_signals:
                for sig in (signal.SIGTERM, signal.SIGINT):
                    self._loop.remove_signal_handler(sig)

    def stop(self) -> None:
        """Asks run() to finish running jobs (up to close_timeout), deregister and return.
        Safe from any thread and from signal handlers."""
        if self._loop is None:
            self._stop_kind = "stop"
        else:
            self._loop.call_soon_threadsafe(self._request_stop, "stop")

    def wait_ready(self, timeout: Optional[float] = None) -> bool:
        """Blocks until run() has registered and opened its streams (or failed)."""
        return self._ready.wait(timeout)

    @property
    def stats(self) -> dict[str, int]:
        runner = getattr(self, "_runner", None)
        held = len(runner.held()) if runner else 0
        unacked = len(self._reporter.unacked) if runner else 0
        in_flight = runner.in_flight if runner else 0
        return {**self._counts, "held": held, "unacked": unacked, "in_flight": in_flight}

    @property
    def message_counts(self) -> dict[str, int]:
        """Stream messages by kind, to see what batching does: StreamJobs' `assignment`,
        `assignments`, `cancellation` and `drain` received; ReportResults' `result` (one result)
        and `results` (several) sent, and `ack` and `acks` (several) received."""
        return dict(self._messages)

    # ---- lifecycle -----------------------------------------------------------------------------

    async def _start(self) -> None:
        self._channel = aio_channel(self._address, self._tls, channel_options(self._backoff.initial_delay, self._backoff.max_delay))
        # A list, changed in place: the streams read it at each open, so a new registration's
        # secret (jq-worker-secret, docs/worker-protocol.md) reaches every later call.
        self._metadata = list(call_metadata(self._api_key))
        self._stub = ws_grpc.WorkerServiceStub(self._channel)
        self._runner = JobRunner(self._concurrency, self._handler, self._reporter_report, self._ledger.voided, self._log)
        self._reporter = ResultReporter(
            self._stub, self._metadata, lambda: self.id or "", self._on_ack, self._on_stream_end, self._log, self._messages,
        )
        self._jobs = JobStream(self._stub, self._metadata, self._on_stream_message, self._on_stream_end, self._messages)
        self._heartbeat = HeartbeatLoop(self._beat, self._log)
        self._want_jobs = True
        self._closing_all = False
        self._need_register = False
        self._opened_once = False
        self._broken: asyncio.Queue = asyncio.Queue()
        try:
            if self._requested_id:
                # A new process holds nothing: hand back what a crashed predecessor left under the id.
                # Without the previous registration's secret the server may refuse (PERMISSION_DENIED);
                # registering again hands those jobs back anyway.
                await self._unary(
                    "Deregister",
                    ws.DeregisterRequest(worker_id=self._requested_id),
                    ignore=(grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.PERMISSION_DENIED),
                )
            await self._register()
        except BaseException:
            await self._channel.close()
            raise
        self._connection = asyncio.create_task(self._connection_loop(), name="jq-connection")
        await asyncio.sleep(self._grace)

    async def _register(self) -> None:
        request = ws.RegisterWorkerRequest(
            worker_id=self.id or "", hostname=self._hostname[:255], sdk_version=f"jq-py/{__version__}",
            queues=self._queues, concurrency=self._concurrency, labels=self._labels,
        )
        response = await self._unary("RegisterWorker", request)
        reregistration = self._counts["registrations"] > 0
        self.id = response.worker.id
        # The secret binding this id to this registration, required on every later worker call.
        self._metadata[:] = [m for m in self._metadata if m[0] != WORKER_SECRET_HEADER]
        if response.worker_secret:
            self._metadata.append((WORKER_SECRET_HEADER, response.worker_secret))
        self._counts["registrations"] += 1
        self._need_register = False
        if response.unknown_queues:
            self._log.info("jq worker: queues that do not exist yet: %s", ", ".join(response.unknown_queues))
        self._log.info("jq worker %s %s", self.id, "registered again" if reregistration else "registered")
        self._heartbeat.start(seconds(response.heartbeat_interval) or 5.0)

    async def _unary(self, method: str, request: Any, ignore: Sequence[grpc.StatusCode] = ()) -> Any:
        try:
            return await getattr(self._stub, method)(request, metadata=self._metadata, timeout=UNARY_TIMEOUT)
        except grpc.aio.AioRpcError as error:
            if error.code() in ignore:
                return None
            raise

    def _request_stop(self, kind: StopKind) -> None:
        if self._stop_kind == "drain" and kind == "stop":
            self._signal_during_drain = True
        if self._stop_kind is None:
            self._stop_kind = kind
        if self._stop_event is not None:
            self._stop_event.set()

    async def _shutdown(self) -> None:
        drain = self._stop_kind == "drain"
        self._want_jobs = False
        self._jobs.close()
        if not await self._wait_handlers(drain):
            self._runner.void_unfinished("closing")
        await self._wait(lambda: not self._reporter.unacked, self._flush_timeout)
        self._closing_all = True
        self._connection.cancel()
        self._heartbeat.stop()
        try:
            await self._unary("Deregister", ws.DeregisterRequest(worker_id=self.id or ""))
        except grpc.aio.AioRpcError as error:
            self._log.error("jq worker: Deregister failed: %s", error.details())
        await self._reporter.half_close(2.0)
        self._reporter.close()
        self._runner.shutdown()
        await self._channel.close()
        self.drained = drain
        self._log.info("jq worker %s %s", self.id, "drained" if drain else "closed")

    async def _wait_handlers(self, drain: bool) -> bool:
        """Drain: no limit (a signal during the drain applies close_timeout). Stop: close_timeout."""
        end = None if drain else self._loop.time() + self._close_timeout
        while self._runner.unfinished() > 0:
            if end is None and self._signal_during_drain:
                end = self._loop.time() + self._close_timeout
            if end is not None and self._loop.time() >= end:
                return False
            await asyncio.sleep(0.02)
        return True

    async def _wait(self, done: Callable[[], bool], timeout: float) -> bool:
        end = self._loop.time() + timeout
        while not done():
            if self._loop.time() >= end:
                return False
            await asyncio.sleep(0.02)
        return True

    # ---- connection: streams, reconnects, lost sessions ----------------------------------------

    async def _connection_loop(self) -> None:
        """Only shutdown ends this loop: an unexpected error is logged and the loop goes on."""
        while not self._closing_all:
            try:
                await self._connect_until_broken()
            except asyncio.CancelledError:
                raise
            except Exception:
                self._log.exception("jq worker: unexpected error in the connection loop; reconnecting")
                self._jobs.close()
                self._reporter.close()
                await asyncio.sleep(self._backoff.next_delay())

    async def _connect_until_broken(self) -> None:
        first = self._counts["reconnects"] == 0 and not self._opened_once
        while not self._closing_all:
            if self._need_register:
                try:
                    self._runner.void_unfinished("worker-lost")
                    await self._register()
                except grpc.aio.AioRpcError as error:
                    self._log.warning("jq worker: RegisterWorker failed: %s", error.details())
                    await asyncio.sleep(self._backoff.next_delay())
                    continue
            while not self._broken.empty():
                self._broken.get_nowait()
            if self._want_jobs:
                self._jobs.open(self.id or "")
            self._reporter.open()
            self._backoff.connected()
            if not first:
                self._counts["reconnects"] += 1
            first, self._opened_once = False, True
            stream, error = await self._broken.get()
            self._jobs.close()
            self._reporter.close()
            if self._closing_all:
                return
            code = error.code() if isinstance(error, grpc.aio.AioRpcError) else None
            self._log.warning("jq worker: %s ended (%s); reconnecting", stream, code.name if code else "OK end")
            if stream == "StreamJobs" and code in LOST_CODES and not self._need_register:
                await self._check_session()
            delay = self._backoff.next_delay()
            await asyncio.sleep(self._backoff.max_delay if code in AUTH_CODES else delay)

    async def _check_session(self) -> None:
        """A refused StreamJobs may mean OFFLINE, unknown or only "replaced": ask Heartbeat."""
        try:
            await self._beat()
        except grpc.aio.AioRpcError:
            pass

    def _on_stream_end(self, stream: str, error: Optional[BaseException]) -> None:
        self._broken.put_nowait((stream, error))

    def _lost(self) -> None:
        if not self._need_register:
            self._log.warning("jq worker %s: the server declared this worker lost; registering again", self.id)
            self._need_register = True
            self._runner.void_unfinished("worker-lost")
            self._broken.put_nowait(("Heartbeat", None))

    async def _beat(self) -> Optional[float]:
        # Everything held: deliveries waiting or running, and those reported but not yet acked
        # (the runner keeps a delivery until its ack). The server may hand back any other job it
        # gave this worker once two heartbeats in a row leave it out (held_jobs_complete).
        held = [ws.JobAttemptRef(job_id=job_id, attempt=attempt) for job_id, attempt in self._runner.held()]
        try:
            request = ws.HeartbeatRequest(worker_id=self.id or "", held_jobs=held, held_jobs_complete=True)
            response = await self._unary("Heartbeat", request)
        except grpc.aio.AioRpcError as error:
            if error.code() in LOST_CODES:
                self._lost()
                return None
            raise
        for cancellation in response.cancellations:
            self._cancel(cancellation)
        if response.drain:
            self._request_stop("drain")
        return seconds(response.next_heartbeat_in)

    # ---- deliveries and results ----------------------------------------------------------------

    def _on_stream_message(self, message: ws.StreamJobsResponse) -> None:
        kind = message.WhichOneof("kind")
        if kind == "assignment":
            self._accept(message.assignment)
        elif kind == "assignments":
            # Each is a delivery of its own, as if it came alone; claim order is kept.
            for assignment in message.assignments.assignments:
                self._accept(assignment)
        elif kind == "cancellation":
            self._cancel(message.cancellation)
        elif kind == "drain":
            self._log.info("jq worker %s: drain requested: %s", self.id, message.drain.message)
            self._request_stop("drain")

    def _accept(self, assignment: ws.JobAssignment) -> None:
        if not self._want_jobs:
            return  # the server hands it back at Deregister
        if self._runner.accept(job_of_assignment(assignment, self.id or "")):
            self._counts["received"] += 1

    def _cancel(self, cancellation: ws.JobCancellation) -> None:
        for job_id, attempt in self._runner.held():
            if job_id == cancellation.job_id and attempt <= cancellation.attempt:
                self._runner.void((job_id, attempt), "cancelled")

    def _reporter_report(self, key: Key, result: ws.JobResult) -> None:
        self._reporter.report(key, result)

    def _on_ack(self, key: Key, result: ws.JobResult, ack: Ack) -> None:
        self._runner.ended(key)
        self._ledger.acked(key, result, ack)
