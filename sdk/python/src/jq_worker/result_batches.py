"""Several results per ReportResults message, for a server that announced it.

The server says so in the call's response headers; until they arrive (and always with an older
server, which sends neither header) every result goes alone, as before batching existed:

    jq-max-results-per-message  how many results one message may carry (>= 2 to batch at all)
    jq-max-message-bytes        the largest message it accepts

Results reported in the same asyncio loop iteration share a message: ``OutgoingResults`` holds
them until a ``loop.call_soon`` callback, then hands them over in one go to be cut by
``chunk_by_limits``. The same rules as the TypeScript SDK's libs/worker-sdk/result-batches.ts.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Callable, Generic, Iterable, Optional, TypeVar, Union

from ._proto import worker_service_pb2 as ws

MAX_RESULTS_PER_MESSAGE_HEADER = "jq-max-results-per-message"
MAX_MESSAGE_BYTES_HEADER = "jq-max-message-bytes"

#: Our own cap on one message, whatever the server accepts: a large message delays every ack in it.
MAX_BATCH_BYTES = 1024 * 1024

T = TypeVar("T")


@dataclass(frozen=True)
class BatchLimits:
    """Results per message and a budget of their estimated bytes."""

    max_items: int
    max_bytes: int


def batch_limits_from(headers: Optional[Iterable[tuple[str, Union[str, bytes]]]]) -> Optional[BatchLimits]:
    """The limits a call's response headers announce; None means one result per message."""
    values = {key.lower(): value for key, value in reversed(list(headers or ()))}  # the first of each key wins
    max_results = _positive_integer(values.get(MAX_RESULTS_PER_MESSAGE_HEADER))
    max_message_bytes = _positive_integer(values.get(MAX_MESSAGE_BYTES_HEADER))
    if max_results is None or max_results <= 1 or max_message_bytes is None:
        return None
    # Half the server's limit: our size is an estimate, and the envelope is not counted.
    return BatchLimits(max_items=max_results, max_bytes=min(MAX_BATCH_BYTES, max_message_bytes // 2))


def estimate_result_bytes(result: ws.JobResult) -> int:
    """An upper bound of a result's encoded size: 64 bytes for the sequence, ids, attempt and
    field tags, plus the output, plus the failure message at 4 bytes per character (UTF-8's worst
    case for a Python code point; the TypeScript SDK counts 3 per UTF-16 unit, the same bound)."""
    outcome = result.WhichOneof("outcome")
    if outcome == "success":
        return 64 + len(result.success.result)
    if outcome == "failure":
        return 64 + 4 * len(result.failure.message)
    return 64


def chunk_by_limits(items: Iterable[T], size_of: Callable[[T], int], limits: BatchLimits) -> list[list[T]]:
    """Cuts `items` in order into chunks of at most `max_items` items and `max_bytes` estimated
    bytes; an item bigger than `max_bytes` gets a chunk to itself (libs/batching/chunks.ts)."""
    chunks: list[list[T]] = []
    current: list[T] = []
    size = 0
    for item in items:
        item_size = size_of(item)
        if current and (len(current) >= limits.max_items or size + item_size > limits.max_bytes):
            chunks.append(current)
            current, size = [], 0
        current.append(item)
        size += item_size
    if current:
        chunks.append(current)
    return chunks


class OutgoingResults(Generic[T]):
    """Results waiting for the next loop iteration. ``flush()`` hands them over at once (before a
    half-close); ``drop()`` forgets them when the stream they were meant for goes away — they are
    still unacknowledged, and the next stream resends them."""

    def __init__(self, write: Callable[[list[T]], None]) -> None:
        self._write = write
        self._queued: list[T] = []
        self._scheduled: Optional[asyncio.Handle] = None

    def add(self, item: T) -> None:
        self._queued.append(item)
        if self._scheduled is None:
            self._scheduled = asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        items = self._take()
        if items:
            self._write(items)

    def drop(self) -> None:
        self._take()

    def _take(self) -> list[T]:
        if self._scheduled is not None:
            self._scheduled.cancel()
            self._scheduled = None
        items, self._queued = self._queued, []
        return items


def _positive_integer(value: Union[str, bytes, None]) -> Optional[int]:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]+", value.strip()):
        return None
    n = int(value.strip())
    return n if n >= 1 else None
