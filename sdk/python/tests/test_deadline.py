"""Deadlines from the assignment: the cancellation is set with reason `deadline` when the job's
execution timeout passes, and what the handler then raises is reported."""

import threading

from jq_worker._proto import job_pb2

from support.processes import wait_for


def test_deadline_sets_the_cancellation_and_the_failure_is_reported(cluster, client, make_queue, run_worker):
    queue = make_queue("deadline")
    seen = []

    def handler(job):
        seen.append(job.deadline is not None)
        reason = job.cancelled.reason if job.cancelled.wait(20) else None
        seen.append(reason)
        raise TimeoutError(f"gave up: {reason}")

    worker = run_worker(address=cluster.a.address, queues=[queue], concurrency=1, handler=handler)
    job_id = client.submit(queue, timeout=1, max_retries=0).id
    wait_for(lambda: len(seen) == 2, 15, "the deadline to reach the handler")
    assert seen == [True, "deadline"]
    wait_for(lambda: client.get(job_id, full=False).status == job_pb2.JOB_STATUS_DEAD_LETTERED, 15, "dead letter")
    wait_for(lambda: worker.stats["held"] == 0, 5, "delivery ended")
    stats = worker.stats
    # The report races the scheduler's timeout sweep: accepted (our failure) or stale (its TIMEOUT).
    assert stats["failed"] + stats["stale"] + stats["cancelled"] == 1
