"""Capped exponential backoff with jitter for reconnects: half of the ceiling fixed, half random."""

from __future__ import annotations

import random
import time


class ReconnectBackoff:
    def __init__(self, initial_delay: float = 0.1, max_delay: float = 5.0, rand=random.random) -> None:
        self.initial_delay = initial_delay
        self.max_delay = max_delay
        self._rand = rand
        self._failures = 0
        self._up_since: float | None = None

    def connected(self) -> None:
        """Streams are open; if they stay up for max_delay the failure count resets."""
        self._up_since = time.monotonic()

    def next_delay(self) -> float:
        if self._up_since is not None and time.monotonic() - self._up_since >= self.max_delay:
            self._failures = 0
        self._up_since = None
        ceiling = min(self.max_delay, self.initial_delay * (2 ** self._failures))
        self._failures += 1
        return ceiling / 2 + self._rand() * ceiling / 2
