"""The two streams of a worker session: StreamJobs (assignments in) and ReportResults (results
out, acks in), each reopened by the worker after it breaks."""

from __future__ import annotations

import asyncio
import logging
from typing import Callable, Optional

import grpc
import grpc.aio

from ._proto import worker_service_pb2 as ws
from ._proto import worker_service_pb2_grpc as ws_grpc
from .connection import Metadata
from .runner import Key

#: Called once when a stream ends without the worker asking: the error, or None for an OK end.
OnEnd = Callable[[str, Optional[BaseException]], None]


class JobStream:
    def __init__(self, stub: ws_grpc.WorkerServiceStub, metadata: Metadata, on_message: Callable[[ws.StreamJobsResponse], None], on_end: OnEnd) -> None:
        self._stub = stub
        self._metadata = metadata
        self._on_message = on_message
        self._on_end = on_end
        self._call: Optional[grpc.aio.UnaryStreamCall] = None

    def open(self, worker_id: str) -> None:
        self.close()
        call = self._stub.StreamJobs(ws.StreamJobsRequest(worker_id=worker_id), metadata=self._metadata)
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
    numbers (attempt fencing makes a repeat harmless: it comes back STALE)."""

    def __init__(
        self,
        stub: ws_grpc.WorkerServiceStub,
        metadata: Metadata,
        worker_id: Callable[[], str],
        on_ack: Callable[[Key, ws.JobResult, ws.ReportResultsResponse], None],
        on_end: OnEnd,
        log: logging.Logger,
    ) -> None:
        self._stub = stub
        self._metadata = metadata
        self._worker_id = worker_id
        self._on_ack = on_ack
        self._on_end = on_end
        self._log = log
        self.unacked: dict[Key, ws.JobResult] = {}
        self._call: Optional[grpc.aio.StreamStreamCall] = None
        self._outbox: Optional[asyncio.Queue] = None
        self._by_sequence: dict[int, Key] = {}
        self._sequence = 0
        self._reader: Optional[asyncio.Task] = None
        self._writer: Optional[asyncio.Task] = None

    def report(self, key: Key, result: ws.JobResult) -> None:
        self.unacked[key] = result
        self._send(key)

    def open(self) -> None:
        self.close()
        call = self._stub.ReportResults(metadata=self._metadata)
        self._call, self._outbox, self._by_sequence = call, asyncio.Queue(), {}
        for key in list(self.unacked):
            self._send(key)
        self._writer = asyncio.create_task(self._write(call, self._outbox), name="jq-report-write")
        self._reader = asyncio.create_task(self._read(call), name="jq-report-read")

    def close(self) -> None:
        call, self._call, self._outbox = self._call, None, None
        if call is not None:
            call.cancel()
        if self._writer is not None:
            self._writer.cancel()
            self._writer = None

    async def half_close(self, timeout: float) -> None:
        """Ends the request side and waits up to `timeout` seconds for the server to end the stream."""
        if self._outbox is None or self._reader is None:
            return
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

    def _send(self, key: Key) -> None:
        if self._outbox is None:
            return
        self._sequence += 1
        self._by_sequence[self._sequence] = key
        self._outbox.put_nowait(ws.ReportResultsRequest(sequence=self._sequence, worker_id=self._worker_id(), result=self.unacked[key]))

    async def _write(self, call: grpc.aio.StreamStreamCall, outbox: asyncio.Queue) -> None:
        try:
            while True:
                request = await outbox.get()
                if request is None:
                    await call.done_writing()
                    return
                await call.write(request)
        except (asyncio.CancelledError, grpc.aio.AioRpcError, grpc.aio.UsageError, RuntimeError):
            return  # the reader sees the stream's end

    async def _read(self, call: grpc.aio.StreamStreamCall) -> None:
        error: Optional[BaseException] = None
        try:
            while True:
                ack = await call.read()
                if ack is grpc.aio.EOF:
                    break
                key = self._by_sequence.pop(ack.sequence, None) if call is self._call else None
                if key is None or key not in self.unacked:
                    continue
                self._on_ack(key, self.unacked.pop(key), ack)
        except asyncio.CancelledError:
            return
        except grpc.aio.AioRpcError as e:
            error = e
        if call is self._call:
            self._call, self._outbox = None, None
            self._on_end("ReportResults", error)
