"""Turning a handler's outcome into a JobResult (docs/worker-sdk.md, "Outcome")."""

from __future__ import annotations

from typing import Any

from ._proto import worker_service_pb2 as ws

MAX_FAILURE_MESSAGE = 4096


def success(job_id: str, attempt: int, value: Any) -> ws.JobResult:
    """bytes-like as is, str as UTF-8, None as empty; anything else is a failure (TypeError)."""
    if value is None:
        data = b""
    elif isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
    elif isinstance(value, str):
        data = value.encode("utf-8")
    else:
        return failure(job_id, attempt, TypeError(f"handler returned {type(value).__name__}; expected bytes, str or None"))
    return ws.JobResult(job_id=job_id, attempt=attempt, success=ws.JobSuccess(result=data))


def failure(job_id: str, attempt: int, error: BaseException) -> ws.JobResult:
    """The message is str(error) (the type's name when empty), cut to 4096 characters;
    ``retryable`` is sent only as an explicit False (NonRetryableError or ``error.retryable``)."""
    message = str(error) or type(error).__name__
    out = ws.JobFailure(message=message[:MAX_FAILURE_MESSAGE])
    if getattr(error, "retryable", None) is False:
        out.retryable = False
    return ws.JobResult(job_id=job_id, attempt=attempt, failure=out)
