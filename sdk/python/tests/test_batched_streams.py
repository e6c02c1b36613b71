"""Several jobs, results and acks per message against the real apps/api, which takes batches:
200 jobs waiting before the worker starts arrive in `assignments` messages, and their results go
back (and their acks come back) several per message."""

from jq_worker import job_request
from jq_worker._proto import job_pb2

from support.processes import wait_for

JOBS = 200


def test_jobs_results_and_acks_travel_several_per_message(cluster, client, make_queue, run_worker):
    queue = make_queue("batched")
    ids = [job.id for job in client.submit_many(job_request(queue, f"n{i}") for i in range(JOBS))]
    assert len(set(ids)) == JOBS
    done: list[str] = []

    async def handler(job):
        # Returns at once: results of jobs started together finish in one loop iteration.
        return f"done {job.payload.decode()}"

    worker = run_worker(
        address=cluster.a.address, queues=[queue], concurrency=JOBS, handler=handler,
        on_job_done=lambda e: done.append(e["job_id"]) if e["outcome"] == "succeeded" else None,
    )
    wait_for(lambda: len(done) >= JOBS, 60, f"{JOBS} results accepted")
    assert sorted(done) == sorted(ids), "every job was acknowledged once"
    wait_for(lambda: worker.stats["held"] == 0 and worker.stats["unacked"] == 0, 5, "nothing held")
    assert worker.stats["received"] == JOBS and worker.stats["succeeded"] == JOBS

    counts = worker.message_counts
    # The worker asked for batches, so no job came alone in `assignment`.
    assert counts.get("assignment", 0) == 0 and counts.get("assignments", 0) >= 1, counts
    # Results: fewer messages than results, some of them several-result messages whose acks
    # came back together.
    sent = counts.get("result", 0) + counts.get("results", 0)
    assert counts.get("results", 0) >= 1 and sent < JOBS, counts
    assert counts.get("acks", 0) >= 1, counts
    # One response per request message (a write is counted once it completes: wait for the last).
    answered = lambda c: c.get("ack", 0) + c.get("acks", 0) == c.get("result", 0) + c.get("results", 0)  # noqa: E731
    wait_for(lambda: answered(worker.message_counts), 5, f"one ack message per result message: {counts}")

    for job_id in ids[:: JOBS // 10]:
        job = client.get(job_id)
        assert job.status == job_pb2.JOB_STATUS_DONE and job.attempt == 1
        assert job.result.startswith(b"done n")
