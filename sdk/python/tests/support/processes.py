"""Real processes for the tests: jq apps (node dist/apps/<app>/main.js, as the TypeScript e2e
tests start them) and Python worker processes (tests/fixtures/worker_main.py). Both write JSON
lines on stdout, read here on a thread."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Optional

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def required_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set: run these tests through `npm test` (test/integration/python-sdk.test.ts)")
    return value


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.05) -> Any:
    end = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class JsonLinesProcess:
    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.popen = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: list[dict[str, Any]] = []
        self.stderr: list[str] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read_stdout(self) -> None:
        for raw in self.popen.stdout:
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            if isinstance(line, dict):
                with self._lock:
                    self.lines.append(line)

    def _read_stderr(self) -> None:
        for raw in self.popen.stderr:
            self.stderr.append(raw)

    def find(self, predicate: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        with self._lock:
            return [line for line in self.lines if predicate(line)]

    def wait_line(self, predicate: Callable[[dict[str, Any]], bool], timeout: float, what: str) -> dict[str, Any]:
        def check():
            found = self.find(predicate)
            if found:
                return found[0]
            if self.popen.poll() is not None:
                raise AssertionError(f"process exited ({self.popen.returncode}) before {what}; stderr: {''.join(self.stderr)[-2000:]}")
            return None
        return wait_for(check, timeout, what)

    def signal(self, sig: int) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)

    def wait_exit(self, timeout: float) -> int:
        return self.popen.wait(timeout)

    def stop(self, grace: float = 10.0) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                return self.popen.wait(grace)
            except subprocess.TimeoutExpired:
                self.popen.kill()
        return self.popen.wait()


class App(JsonLinesProcess):
    """A jq app process with only the given JQ_* settings, on free ports unless told otherwise."""

    def __init__(self, app: str, env: dict[str, str]) -> None:
        repo = Path(required_env("JQ_TEST_REPO"))
        base = {
            "PATH": os.environ.get("PATH", ""), "JQ_HTTP_HOST": "127.0.0.1", "JQ_GRPC_HOST": "127.0.0.1",
            "JQ_GRPC_PORT": "0", f"JQ_{app.upper()}_HTTP_PORT": "0",
        }
        super().__init__([required_env("JQ_TEST_NODE"), str(repo / "dist" / "apps" / app / "main.js")], {**base, **env})
        self.app = app
        self.wait_line(lambda l: l.get("msg") == "ready", 30, f"{app} ready")

    @property
    def address(self) -> str:
        port = self.wait_line(lambda l: isinstance(l.get("grpcPort"), int), 5, "grpcPort")["grpcPort"]
        return f"127.0.0.1:{port}"


class WorkerProcess(JsonLinesProcess):
    """tests/fixtures/worker_main.py: a Worker in its own OS process, logging what it does."""

    def __init__(self, address: str, queue: str, concurrency: int, job_seconds: float = 0.0, close_timeout: float = 30.0) -> None:
        env = {
            **os.environ, "JQ_FIXTURE_ADDRESS": address, "JQ_FIXTURE_QUEUE": queue,
            "JQ_FIXTURE_CONCURRENCY": str(concurrency), "JQ_FIXTURE_JOB_SECONDS": str(job_seconds),
            "JQ_FIXTURE_CLOSE_TIMEOUT": str(close_timeout), "PYTHONUNBUFFERED": "1",
        }
        super().__init__([sys.executable, str(FIXTURES / "worker_main.py")], env)

    def ready(self, timeout: float = 20) -> str:
        return self.wait_line(lambda l: l.get("event") == "ready", timeout, "worker ready")["worker"]

    def started(self) -> list[str]:
        return [l["job"] for l in self.find(lambda l: l.get("event") == "started")]

    def done(self) -> list[str]:
        return [l["job"] for l in self.find(lambda l: l.get("event") == "done" and l.get("outcome") == "succeeded")]
