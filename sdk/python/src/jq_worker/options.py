"""Checks on Worker options, with the limits the server enforces (RegisterWorker)."""

from __future__ import annotations

import re
from typing import Sequence

QUEUE_NAME = re.compile(r"^[a-zA-Z0-9._-]{1,128}$")


def check_options(address: str, queues: Sequence[str], concurrency: int, close_timeout: float, flush_timeout: float) -> list[str]:
    if not address:
        raise ValueError("address is required, e.g. 127.0.0.1:50051")
    if isinstance(queues, str):
        raise TypeError("queues must be a list of names, not a string")
    names = list(queues)
    if not 1 <= len(names) <= 100:
        raise ValueError("queues: give 1 to 100 queue names")
    for name in names:
        if not QUEUE_NAME.match(name):
            raise ValueError(f"queues: bad queue name {name!r} (letters, digits, . _ -; at most 128)")
    if len(set(names)) != len(names):
        raise ValueError("queues: a queue is named twice")
    if not isinstance(concurrency, int) or not 1 <= concurrency <= 1000:
        raise ValueError("concurrency must be an integer from 1 to 1000")
    if close_timeout < 0 or flush_timeout < 0:
        raise ValueError("close_timeout and flush_timeout must not be negative")
    return names
