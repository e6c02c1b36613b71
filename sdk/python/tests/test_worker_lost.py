"""A Python worker process killed with SIGKILL mid-job: the scheduler declares it lost after the
heartbeat timeout and another worker runs its jobs again."""

import signal

from jq_worker import job_request
from jq_worker._proto import job_pb2, job_service_pb2

from support.processes import WorkerProcess, wait_for


def reasons(client, job_id):
    events = client.call(client.jobs.GetJobLogs, job_service_pb2.GetJobLogsRequest(job_id=job_id, page_size=100)).events
    return [job_pb2.TransitionReason.Name(e.reason).removeprefix("TRANSITION_REASON_") for e in events]


def test_jobs_of_a_sigkilled_worker_are_rescued(cluster, client, make_queue, run_worker):
    queue = make_queue("crash")
    victim = WorkerProcess(cluster.a.address, queue, 4, job_seconds=60)
    victim.ready()
    ids = [job.id for job in client.submit_many(job_request(queue) for _ in range(4))]
    wait_for(lambda: len(victim.started()) == 4, 10, "4 jobs started on the victim")
    victim.signal(signal.SIGKILL)
    assert victim.wait_exit(10) == -signal.SIGKILL

    ran = []
    rescuer = run_worker(address=cluster.b.address, queues=[queue], concurrency=4, handler=lambda job: ran.append(job.id))
    wait_for(lambda: all(client.get(i, full=False).status == job_pb2.JOB_STATUS_DONE for i in ids), 20, "rescued jobs DONE")
    assert sorted(ran) == sorted(ids)
    assert rescuer.stats["succeeded"] == 4
    for job_id in ids:
        assert client.get(job_id, full=False).attempt == 2
        assert reasons(client, job_id) == ["SUBMITTED", "CLAIMED", "DELIVERED", "WORKER_LOST", "RETRY_SCHEDULED", "CLAIMED", "DELIVERED", "SUCCEEDED"]
