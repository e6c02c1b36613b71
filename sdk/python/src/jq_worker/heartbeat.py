"""Heartbeats every interval, honouring each reply's next_heartbeat_in; after a failure the next
one comes within 2 s."""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable, Optional

import grpc.aio

RETRY_AFTER_FAILURE = 2.0


class HeartbeatLoop:
    def __init__(self, beat: Callable[[], Awaitable[Optional[float]]], log: logging.Logger) -> None:
        self._beat = beat
        self._log = log
        self._task: Optional[asyncio.Task] = None

    def start(self, interval: float) -> None:
        self.stop()
        self._task = asyncio.create_task(self._loop(interval), name="jq-heartbeat")

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _loop(self, interval: float) -> None:
        delay = interval
        while True:
            await asyncio.sleep(delay)
            try:
                delay = (await self._beat()) or interval
            except asyncio.CancelledError:
                raise
            except grpc.aio.AioRpcError as error:
                self._log.warning("jq worker: heartbeat failed: %s %s", error.code().name, error.details())
                delay = min(interval, RETRY_AFTER_FAILURE)
            except Exception as error:
                self._log.warning("jq worker: heartbeat failed: %r", error)
                delay = min(interval, RETRY_AFTER_FAILURE)
