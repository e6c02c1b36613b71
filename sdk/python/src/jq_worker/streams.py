"""The two streams of a worker session: StreamJobs (assignments in) and ReportResults (results
out, acks in), each reopened by the worker after it breaks.

Both carry several items per message when the other end agrees (docs/worker-protocol.md): the
SDK asks StreamJobs for up to MAX_ASSIGNMENTS_PER_MESSAGE jobs per message, and batches results
for a ReportResults stream whose headers allow it (result_batches.py). Each stream counts its
messages by kind in the shared `messages` counter (``Worker.message_counts``).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Callable, Optional

import grpc
import grpc.aio

from ._proto import worker_service_pb2 as ws
from ._proto import worker_service_pb2_grpc as ws_grpc
from .connection import Metadata
from .outcomes import Ack
from .result_batches import BatchLimits, OutgoingResults, batch_limits_from, chunk_by_limits, estimate_result_bytes
from .runner import Key

#: Called once when a stream ends without the worker asking: the error, or None for an OK end.
OnEnd = Callable[[str, Optional[BaseException]], None]

#: Asked for in every StreamJobs request: above 1 the server may send one claim's jobs together in
#: an `assignments` message (an older server ignores the field and sends each one alone). The
#: proto's cap; the server also keeps each message near 1 MiB.
MAX_ASSIGNMENTS_PER_MESSAGE = 1000


class JobStream:
    def __init__(
        self,
        stub: ws_grpc.WorkerServiceStub,
        metadata: Metadata,
        on_message: Callable[[ws.StreamJobsResponse], None],
        on_end: OnEnd,
        messages: Counter[str],
    ) -> None:
        self._stub = stub
        self._metadata = metadata
        self._on_message = on_message
        self._on_end = on_end
        self._messages = messages
        self._call: Optional[grpc.aio.UnaryStreamCall] = None

    def open(self, worker_id: str) -> None:
        self.close()
        request = ws.StreamJobsRequest(worker_id=worker_id, max_assignments_per_message=MAX_ASSIGNMENTS_PER_MESSAGE)
        call = self._stub.StreamJobs(request, metadata=self._metadata)
        self._call = call
        asyncio.create_task(self._read(call), name="jq-stream-jobs")

    def close(self) -> None:
        call, self._call = self._call, None
        if call is not None:
            call.cancel()

    async def _read(self, call: grpc.aio.UnaryStreamCall) -> None:
        error: Optional[BaseException] = None
        try:
            async for message in call:
                if call is not self._call:
                    return
                self._messages[message.WhichOneof("kind") or "unknown"] += 1
                self._on_message(message)
        except asyncio.CancelledError:
            return
        except grpc.aio.AioRpcError as e:
            error = e
        if call is self._call:
            self._call = None
            self._on_end("StreamJobs", error)


class ResultReporter:
    """Keeps every result until its ack arrives; a new stream resends them all with new sequence
    numbers (attempt fencing makes a repeat harmless: it comes back STALE).

    A stream whose response headers allow it gets results in batches (result_batches.py): those
    reported in one loop iteration share a message, and their acks come back together. Until the
    headers arrive (so always for the resend at open()) and from an older server, each result goes
    alone. A batch waiting for the next iteration is dropped with its stream: its results are still
    in `unacked`, and the next stream's resend carries them once."""

    def __init__(
        self,
        stub: ws_grpc.WorkerServiceStub,
        metadata: Metadata,
        worker_id: Callable[[], str],
        on_ack: Callable[[Key, ws.JobResult, Ack], None],
        on_end: OnEnd,
        log: logging.Logger,
        messages: Counter[str],
    ) -> None:
        self._stub = stub
        self._metadata = metadata
        self._worker_id = worker_id
        self._on_ack = on_ack
        self._on_end = on_end
        self._log = log
        self._messages = messages
        self.unacked: dict[Key, ws.JobResult] = {}
        self._call: Optional[grpc.aio.StreamStreamCall] = None
        self._outbox: Optional[asyncio.Queue] = None
        #: What the current stream's response headers allow; None: one result per message.
        self._limits: Optional[BatchLimits] = None
        self._batch: OutgoingResults[Key] = OutgoingResults(self._send_batches)
        self._by_sequence: dict[int, Key] = {}
        self._sequence = 0
        self._reader: Optional[asyncio.Task] = None
        self._writer: Optional[asyncio.Task] = None

    def report(self, key: Key, result: ws.JobResult) -> None:
        self.unacked[key] = result
        if self._outbox is None:
            return  # the next stream's resend carries it
        if self._limits is not None:
            self._batch.add(key)
        else:
            self._send(key)

    def open(self) -> None:
        self.close()
        call = self._stub.ReportResults(metadata=self._metadata)
        self._call, self._outbox, self._by_sequence = call, asyncio.Queue(), {}
        # Queued before the headers can arrive, so one per message.
        for key in list(self.unacked):
            self._send(key)
        self._writer = asyncio.create_task(self._write(call, self._outbox), name="jq-report-write")
        self._reader = asyncio.create_task(self._read(call), name="jq-report-read")

    def close(self) -> None:
        call = self._detach()
        if call is not None:
            call.cancel()
        if self._writer is not None:
            self._writer.cancel()
            self._writer = None

    async def half_close(self, timeout: float) -> None:
        """Ends the request side and waits up to `timeout` seconds for the server to end the stream."""
        if self._outbox is None or self._reader is None:
            return
        self._batch.flush()  # results waiting for a batch go out before the half-close
        call, reader = self._call, self._reader
        self._outbox.put_nowait(None)
        self._call = None  # its end is expected now
        try:
            await asyncio.wait_for(asyncio.shield(reader), timeout)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            pass
        if call is not None:
            call.cancel()
        self._outbox = None

    def _next_sequence(self, key: Key) -> int:
        self._sequence += 1
        self._by_sequence[self._sequence] = key
        return self._sequence

    def _send(self, key: Key) -> None:
        if self._outbox is None:
            return
        request = ws.ReportResultsRequest(sequence=self._next_sequence(key), worker_id=self._worker_id(), result=self.unacked[key])
        self._outbox.put_nowait(request)

    def _send_batches(self, keys: list[Key]) -> None:
        outbox, limits = self._outbox, self._limits
        if outbox is None or limits is None:
            return  # cannot happen (close() drops the batch); `unacked` keeps them anyway
        worker_id = self._worker_id()
        for chunk in chunk_by_limits(keys, lambda key: estimate_result_bytes(self.unacked[key]), limits):
            results = [ws.SequencedResult(sequence=self._next_sequence(key), result=self.unacked[key]) for key in chunk]
            outbox.put_nowait(ws.ReportResultsRequest(worker_id=worker_id, results=results))

    async def _write(self, call: grpc.aio.StreamStreamCall, outbox: asyncio.Queue) -> None:
        try:
            while True:
                request = await outbox.get()
                if request is None:
                    await call.done_writing()
                    return
                await call.write(request)
                self._messages["results" if request.results else "result"] += 1
        except (asyncio.CancelledError, grpc.aio.AioRpcError, grpc.aio.UsageError, RuntimeError):
            return  # the reader sees the stream's end

    async def _read(self, call: grpc.aio.StreamStreamCall) -> None:
        error: Optional[BaseException] = None
        try:
            # Resolves when the headers arrive (empty when the call ends without any), before any ack.
            headers = await call.initial_metadata()
            if call is self._call:
                self._limits = batch_limits_from(headers)
            while True:
                response = await call.read()
                if response is grpc.aio.EOF:
                    break
                if call is not self._call:
                    continue
                if response.acks:
                    # The acks of a batch: each is handled as if it had come alone.
                    self._messages["acks"] += 1
                    for ack in response.acks:
                        self._acknowledge(ack)
                else:
                    self._messages["ack"] += 1
                    self._acknowledge(response)
        except asyncio.CancelledError:
            return
        except grpc.aio.AioRpcError as e:
            error = e
        if call is self._call:
            self._detach()
            self._on_end("ReportResults", error)

    def _detach(self) -> Optional[grpc.aio.StreamStreamCall]:
        """Forgets the current stream, its limits and what was queued for it (`unacked` keeps all
        of it); returns the stream."""
        call, self._call, self._outbox, self._limits = self._call, None, None, None
        self._batch.drop()
        return call

    def _acknowledge(self, ack: Ack) -> None:
        key = self._by_sequence.pop(ack.sequence, None)
        if key is None or key not in self.unacked:
            return
        self._on_ack(key, self.unacked.pop(key), ack)
