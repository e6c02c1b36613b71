"""Draining: DrainWorker (a DrainNotice / heartbeat flag) and SIGTERM both let running jobs
finish and report, take no new ones, deregister, and the process exits 0."""

import signal

from jq_worker import job_request
from jq_worker._proto import admin_service_pb2 as admin
from jq_worker._gen.jq.v1 import worker_pb2
from jq_worker._proto import job_pb2

from support.processes import WorkerProcess, wait_for


def statuses(client, ids):
    return [client.get(i, full=False).status for i in ids]


def test_drain_worker_finishes_running_jobs_then_deregisters(cluster, client, make_queue):
    queue = make_queue("drain")
    worker = WorkerProcess(cluster.a.address, queue, 2, job_seconds=1.5)
    worker_id = worker.ready()
    ids = [job.id for job in client.submit_many(job_request(queue) for _ in range(2))]
    wait_for(lambda: len(worker.started()) == 2, 10, "both jobs started")
    client.call(client.admin.DrainWorker, admin.DrainWorkerRequest(worker_id=worker_id))
    later = client.submit(queue).id  # must not go to a draining worker

    assert worker.wait_exit(20) == 0
    exit_line = worker.wait_line(lambda l: l.get("event") == "exit", 5, "exit line")
    assert exit_line["drained"] is True
    assert sorted(worker.done()) == sorted(ids)
    assert statuses(client, ids) == [job_pb2.JOB_STATUS_DONE] * 2
    assert later not in worker.started()
    assert client.get(later, full=False).status == job_pb2.JOB_STATUS_PENDING
    listed = client.call(client.admin.ListWorkers, admin.ListWorkersRequest(queue=queue)).workers
    assert [(w.id, w.status) for w in listed] == [(worker_id, worker_pb2.WORKER_STATUS_OFFLINE)]


def test_sigterm_finishes_running_jobs_and_exits_zero(cluster, client, make_queue):
    queue = make_queue("term")
    worker = WorkerProcess(cluster.b.address, queue, 3, job_seconds=1.0)
    worker.ready()
    ids = [job.id for job in client.submit_many(job_request(queue) for _ in range(3))]
    wait_for(lambda: len(worker.started()) == 3, 10, "jobs started")
    worker.signal(signal.SIGTERM)
    assert worker.wait_exit(20) == 0
    assert sorted(worker.done()) == sorted(ids)
    for job_id in ids:
        job = client.get(job_id, full=False)
        assert job.status == job_pb2.JOB_STATUS_DONE and job.attempt == 1
