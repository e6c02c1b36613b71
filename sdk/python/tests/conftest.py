"""Fixtures for tests against a real cluster: two apps/api replicas and a scheduler on the test
bed's Postgres (a fresh database from JQ_TEST_DATABASE_URL), with short heartbeats as in
test/integration/e2e-workers.test.ts, so a lost worker is noticed within about 2 s."""

from __future__ import annotations

import itertools
import threading
import uuid
from typing import Callable, Iterator

import pytest
from google.protobuf.duration_pb2 import Duration

from jq_worker import Client, Worker
from jq_worker._proto import admin_service_pb2 as admin
from jq_worker._gen.jq.v1 import queue_pb2 as queue_pb

from support.processes import App, required_env

CLUSTER_ENV = {"JQ_HEARTBEAT_INTERVAL_MS": "300", "JQ_HEARTBEAT_TIMEOUT_MS": "2000"}


class Cluster:
    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.apps: list[App] = []
        self.a = self.start("api")
        self.b = self.start("api")
        self.scheduler = self.start("scheduler")

    def start(self, app: str, **env: str) -> App:
        process = App(app, {"JQ_DATABASE_URL": self.database_url, **CLUSTER_ENV, **env})
        self.apps.append(process)
        return process

    def stop(self) -> list[int]:
        return [app.stop() for app in self.apps]


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    c = Cluster(required_env("JQ_TEST_DATABASE_URL"))
    yield c
    codes = c.stop()
    assert all(code == 0 for code in codes), f"apps exited with {codes}"


@pytest.fixture(scope="session")
def client(cluster: Cluster) -> Iterator[Client]:
    with Client(cluster.a.address) as c:
        yield c


_names = itertools.count(1)


@pytest.fixture
def make_queue(client: Client) -> Callable[..., str]:
    """Creates a queue with a unique name and a 1 ms retry backoff."""

    def create(prefix: str = "py", **settings) -> str:
        name = f"{prefix}-{next(_names)}-{uuid.uuid4().hex[:6]}"
        fast = Duration(nanos=1_000_000)
        request = admin.CreateQueueRequest(name=name, settings=queue_pb.QueueSettings(backoff_base=fast, backoff_max=fast, **settings))
        client.call(client.admin.CreateQueue, request)
        return name

    return create


@pytest.fixture
def run_worker() -> Iterator[Callable[..., Worker]]:
    """Starts Workers in this process, each run() on its own thread; stops them at the end."""
    running: list[tuple[Worker, threading.Thread]] = []

    def start(**options) -> Worker:
        worker = Worker(**options)
        thread = threading.Thread(target=worker.run, daemon=True)
        thread.start()
        assert worker.wait_ready(20) and worker.id, "worker did not start"
        running.append((worker, thread))
        return worker

    yield start
    for worker, thread in running:
        worker.stop()
    for worker, thread in running:
        thread.join(30)
        assert not thread.is_alive(), f"worker {worker.id} did not stop"
