"""Protobuf messages to the SDK's Python types."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional

from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from ._proto import worker_service_pb2 as ws
from .job import Job


def seconds(duration: Duration) -> Optional[float]:
    value = duration.seconds + duration.nanos / 1e9
    return value if value > 0 else None


def timestamp(message: Timestamp) -> datetime:
    return datetime.fromtimestamp(message.seconds + message.nanos / 1e9, tz=timezone.utc)


def job_of_assignment(a: ws.JobAssignment, worker_id: str) -> Job:
    return Job(
        id=a.job_id, queue=a.queue, attempt=a.attempt, payload=bytes(a.payload), metadata=dict(a.metadata),
        priority=a.priority, deadline=timestamp(a.deadline) if a.HasField("deadline") else None,
        created_at=timestamp(a.created_at) if a.HasField("created_at") else None,
        retry_count=a.retry_count, max_retries=a.max_retries, worker_id=worker_id,
    )
