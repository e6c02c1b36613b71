"""A worker rides through a restart of its API replica: its streams break, it reconnects with
backoff to the same address, and jobs submitted after the restart are done by it."""

import threading

from jq_worker import job_request
from jq_worker._proto import job_pb2

from support.processes import free_port, wait_for


def all_done(client, ids):
    return all(client.get(i, full=False).status == job_pb2.JOB_STATUS_DONE for i in ids)


def test_worker_reconnects_across_an_api_replica_restart(cluster, client, make_queue, run_worker):
    queue = make_queue("restart")
    port = str(free_port())
    replica = cluster.start("api", JQ_GRPC_PORT=port)
    ran = []
    worker = run_worker(address=replica.address, queues=[queue], concurrency=4, handler=lambda job: ran.append(job.id) or job.payload)
    first_id = worker.id

    before = [j.id for j in client.submit_many(job_request(queue, b"before") for _ in range(5))]
    wait_for(lambda: all_done(client, before), 15, "jobs before the restart DONE")

    assert replica.stop() == 0
    replica = cluster.start("api", JQ_GRPC_PORT=port)
    after = [j.id for j in client.submit_many(job_request(queue, b"after") for _ in range(5))]
    wait_for(lambda: all_done(client, after), 30, "jobs after the restart DONE")

    assert sorted(ran) == sorted(before + after)
    assert worker.id == first_id, "same identity after reconnecting"
    assert worker.stats["reconnects"] >= 1
    assert worker.stats["succeeded"] == 10 and worker.stats["held"] == 0
    assert client.get(after[0]).result == b"after"


def test_a_result_reported_while_the_replica_is_down_is_resent_after_reconnecting(cluster, client, make_queue, run_worker):
    queue = make_queue("resend")
    port = str(free_port())
    replica = cluster.start("api", JQ_GRPC_PORT=port)
    started, release, ended = threading.Event(), threading.Event(), []

    def handler(job):
        if job.attempt == 1:
            started.set()
            release.wait(30)
        return b"ok"

    worker = run_worker(address=replica.address, queues=[queue], concurrency=1, handler=handler, on_job_done=ended.append)
    job_id = client.submit(queue).id
    assert started.wait(10)
    assert replica.stop() == 0
    release.set()  # the result is reported while ReportResults is down
    wait_for(lambda: worker.stats["unacked"] == 1, 5, "the result to wait for its ack")
    replica = cluster.start("api", JQ_GRPC_PORT=port)

    wait_for(lambda: client.get(job_id, full=False).status == job_pb2.JOB_STATUS_DONE, 30, "the job DONE")
    wait_for(lambda: worker.stats["held"] == 0 and worker.stats["unacked"] == 0, 10, "every delivery ended")
    first = [e for e in ended if e["attempt"] == 1]
    # Acknowledged after the restart, so it was sent again on the new stream: ACCEPTED if the
    # worker's session survived, STALE if the scheduler had declared it lost meanwhile (the job
    # then ran again as attempt 2).
    assert len(first) == 1 and first[0]["outcome"] in ("succeeded", "stale"), ended
    assert first[0]["outcome"] == "succeeded" or client.get(job_id, full=False).attempt == 2
