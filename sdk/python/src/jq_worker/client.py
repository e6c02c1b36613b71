"""A small blocking client for submitting and following jobs (JobService)."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Iterable, Iterator, Mapping, Optional, Union

from google.protobuf.duration_pb2 import Duration

import grpc

from ._proto import admin_service_pb2, admin_service_pb2_grpc, job_pb2, job_service_pb2, job_service_pb2_grpc
from .connection import TlsOption, call_metadata, channel_options, sync_channel

Payload = Union[bytes, str]
FINAL_STATUSES = (job_pb2.JOB_STATUS_DONE, job_pb2.JOB_STATUS_DEAD_LETTERED)


def _duration(value: Union[float, timedelta]) -> Duration:
    d = Duration()
    d.FromTimedelta(value if isinstance(value, timedelta) else timedelta(seconds=value))
    return d


def job_request(
    queue: str,
    payload: Payload = b"",
    *,
    metadata: Optional[Mapping[str, str]] = None,
    priority: int = 0,
    delay: Union[float, timedelta, None] = None,
    max_retries: Optional[int] = None,
    timeout: Union[float, timedelta, None] = None,
    idempotency_key: str = "",
) -> job_service_pb2.SubmitJobRequest:
    """One SubmitJobRequest; durations in seconds or as timedelta, a str payload as UTF-8."""
    request = job_service_pb2.SubmitJobRequest(
        queue=queue, payload=payload.encode("utf-8") if isinstance(payload, str) else payload,
        metadata=dict(metadata or {}), priority=priority, idempotency_key=idempotency_key,
    )
    if delay is not None:
        request.delay.CopyFrom(_duration(delay))
    if max_retries is not None:
        request.max_retries = max_retries
    if timeout is not None:
        request.timeout.CopyFrom(_duration(timeout))
    return request


class Client:
    """``Client("127.0.0.1:50051", api_key=...)``; use as a context manager or call close()."""

    def __init__(self, address: str, api_key: Optional[str] = None, tls: TlsOption = None, call_timeout: float = 30.0) -> None:
        self._channel = sync_channel(address, tls, channel_options())
        self._metadata = call_metadata(api_key)
        self._timeout = call_timeout
        self.jobs = job_service_pb2_grpc.JobServiceStub(self._channel)
        #: AdminService stub (queues, workers, dead letters) for calls this class does not wrap.
        self.admin = admin_service_pb2_grpc.AdminServiceStub(self._channel)

    def call(self, method, request):
        """Any unary stub method with this client's API key and timeout, e.g.
        ``client.call(client.admin.CreateQueue, CreateQueueRequest(name="emails"))``."""
        return method(request, metadata=self._metadata, timeout=self._timeout)

    def create_queue(self, name: str, exist_ok: bool = True) -> None:
        """Creates a queue with the server's default settings; an existing one is fine with `exist_ok`."""
        try:
            self.call(self.admin.CreateQueue, admin_service_pb2.CreateQueueRequest(name=name))
        except grpc.RpcError as error:
            if not (exist_ok and error.code() == grpc.StatusCode.ALREADY_EXISTS):
                raise

    def submit(self, queue: str, payload: Payload = b"", **options) -> job_pb2.Job:
        """Submits one job (options as in :func:`job_request`) and returns it."""
        return self.call(self.jobs.SubmitJob, job_request(queue, payload, **options)).job

    def submit_many(self, requests: Iterable[job_service_pb2.SubmitJobRequest]) -> list[job_pb2.Job]:
        """Submits up to the server's batch limit at once, all or nothing; returns the jobs in order."""
        response = self.call(self.jobs.SubmitJobs, job_service_pb2.SubmitJobsRequest(jobs=list(requests)))
        return [r.job for r in response.results]

    def get(self, job_id: str, full: bool = True) -> job_pb2.Job:
        """The job; `full` includes payload and result."""
        view = job_pb2.JOB_VIEW_FULL if full else job_pb2.JOB_VIEW_BASIC
        return self.call(self.jobs.GetJobStatus, job_service_pb2.GetJobStatusRequest(job_id=job_id, view=view)).job

    def cancel(self, job_id: str, message: str = "") -> job_pb2.Job:
        return self.call(self.jobs.CancelJob, job_service_pb2.CancelJobRequest(job_id=job_id, message=message)).job

    def watch(self, job_id: str, timeout: Optional[float] = None, reconnects: int = 5) -> Iterator[job_service_pb2.WatchJobResponse]:
        """Yields the job's events, history first, then live, and ends after the event that makes
        it DONE or DEAD_LETTERED (that last message also carries the final job, with its result).
        When the server goes away (UNAVAILABLE) it resumes after the last event seen, up to
        `reconnects` times in a row. `timeout` bounds each stream."""
        after, failures = 0, 0
        while True:
            request = job_service_pb2.WatchJobRequest(job_id=job_id, after_event_id=after)
            stream = self.jobs.WatchJob(request, metadata=self._metadata, timeout=timeout)
            try:
                for message in stream:
                    after, failures = message.event.event_id, 0
                    yield message
                    if message.event.to_status in FINAL_STATUSES:
                        return
                return
            except grpc.RpcError as error:
                if error.code() != grpc.StatusCode.UNAVAILABLE or failures >= reconnects:
                    raise
                failures += 1
                time.sleep(min(5.0, 0.1 * 2**failures))
            finally:
                stream.cancel()

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
