"""Cancellation reaches a running handler (sync: job.cancelled; async: asyncio.CancelledError);
a NonRetryableError dead-letters at once; a plain exception is retried."""

import asyncio
import threading

from jq_worker import NonRetryableError, job_request
from jq_worker._proto import admin_service_pb2 as admin
from jq_worker._proto import job_pb2

from support.processes import wait_for


def test_cancelling_a_running_job_sets_the_sync_handlers_cancellation(cluster, client, make_queue, run_worker):
    queue = make_queue("cancel")
    started, seen = threading.Event(), []

    def handler(job):
        started.set()
        seen.append(job.cancelled.reason if job.cancelled.wait(30) else "not cancelled")
        return "late"

    worker = run_worker(address=cluster.a.address, queues=[queue], concurrency=1, handler=handler)
    job_id = client.submit(queue).id
    assert started.wait(10)
    client.cancel(job_id, "no longer wanted")
    wait_for(lambda: seen, 10, "the handler to see the cancellation")
    assert seen == ["cancelled"]
    wait_for(lambda: worker.stats["cancelled"] == 1 and worker.stats["held"] == 0, 5, "delivery voided")
    assert worker.stats["succeeded"] == 0 and worker.stats["unacked"] == 0
    job = client.get(job_id)
    assert job.status == job_pb2.JOB_STATUS_DEAD_LETTERED and job.status_reason == job_pb2.TRANSITION_REASON_CANCELLED
    assert job.result == b"", "the late result was not reported"


def test_cancelling_a_running_job_cancels_the_async_handler(cluster, client, make_queue, run_worker):
    queue = make_queue("cancel-async")
    started, outcome = threading.Event(), []

    async def handler(job):
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            outcome.append(job.cancelled.reason)
            raise
        return b"never"

    worker = run_worker(address=cluster.b.address, queues=[queue], concurrency=2, handler=handler)
    job_id = client.submit(queue).id
    assert started.wait(10)
    client.cancel(job_id)
    wait_for(lambda: outcome, 10, "CancelledError in the handler")
    assert outcome == ["cancelled"]
    wait_for(lambda: worker.stats["cancelled"] == 1 and worker.stats["in_flight"] == 0, 5, "handler ended")
    assert client.get(job_id).status == job_pb2.JOB_STATUS_DEAD_LETTERED


def test_non_retryable_failure_is_dead_lettered_at_once(cluster, client, make_queue, run_worker):
    queue = make_queue("fatal")
    calls = []

    def handler(job):
        calls.append(job.attempt)
        raise NonRetryableError("no recipient")

    worker = run_worker(address=cluster.a.address, queues=[queue], concurrency=2, handler=handler)
    job_id = client.submit(queue, b"{}", max_retries=5).id
    wait_for(lambda: client.get(job_id, full=False).status == job_pb2.JOB_STATUS_DEAD_LETTERED, 10, "dead letter")
    job = client.get(job_id)
    assert calls == [1] and job.attempt == 1 and job.error_message == "no recipient"
    letters = client.call(client.admin.ListDeadLetters, admin.ListDeadLettersRequest(selector=admin.DeadLetterSelector(queue=queue))).jobs
    assert [(j.id, j.status_reason) for j in letters] == [(job_id, job_pb2.TRANSITION_REASON_NOT_RETRYABLE)]
    assert worker.stats["failed"] == 1


def test_retryable_failure_is_retried_and_then_succeeds(cluster, client, make_queue, run_worker):
    queue = make_queue("flaky")

    def handler(job):
        if job.attempt == 1:
            raise ValueError("transient")
        return {"attempt": job.attempt}.__repr__()

    run_worker(address=cluster.b.address, queues=[queue], concurrency=2, handler=handler)
    job_id = client.submit(queue, max_retries=3).id
    events = list(client.watch(job_id, timeout=20))
    job = events[-1].job  # the final job rides on the last message
    assert job.status == job_pb2.JOB_STATUS_DONE and job.attempt == 2 and job.result == b"{'attempt': 2}"
    assert job_pb2.TRANSITION_REASON_RETRY_SCHEDULED in [e.event.reason for e in events]
