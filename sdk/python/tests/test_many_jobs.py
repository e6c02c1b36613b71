"""1,000 jobs across two Python worker processes on both API replicas: each DONE exactly once."""

from jq_worker import job_request
from jq_worker._proto import job_pb2

from support.processes import WorkerProcess, wait_for


def test_thousand_jobs_across_two_worker_processes_each_done_once(cluster, client, make_queue):
    queue = make_queue("bulk")
    workers = [WorkerProcess(cluster.a.address, queue, 8), WorkerProcess(cluster.b.address, queue, 8)]
    try:
        for w in workers:
            w.ready()
        ids = []
        for _ in range(4):
            ids += [job.id for job in client.submit_many(job_request(queue, f"n{i}") for i in range(250))]
        assert len(set(ids)) == 1000

        wait_for(lambda: sum(len(w.done()) for w in workers) >= 1000, 90, "1,000 results accepted")
        started = [job for w in workers for job in w.started()]
        assert sorted(started) == sorted(ids), "every job ran exactly once"
        for w in workers:
            assert len(w.done()) > 0, "both workers (so both replicas) did part of the work"
        for job_id in ids:
            job = client.get(job_id, full=False)
            assert job.status == job_pb2.JOB_STATUS_DONE and job.attempt == 1
    finally:
        codes = [w.stop() for w in workers]
    assert codes == [0, 0]
    exits = [w.wait_line(lambda l: l.get("event") == "exit", 5, "exit line") for w in workers]
    assert sum(e["stats"]["succeeded"] for e in exits) == 1000
    assert all(e["stats"]["held"] == 0 and e["stats"]["stale"] == 0 for e in exits)
