import type pg from "pg";
import { releaseWorkerJobs } from "../../libs/attempts/index.js";
import { readClusterStatus } from "../../libs/presence/index.js";
import { actOnDeadLetters, listDeadLetters } from "../../libs/jobs/index.js";
import { notifyWorkerControl } from "../../libs/notifications/index.js";
import { bindStore } from "../../libs/postgres/index.js";
import { createQueue, deleteQueue, existingQueueNames, getQueue, listQueues, queueStats, setQueuePaused, updateQueue } from "../../libs/queues/index.js";
import { createSchedule, deleteSchedule, getSchedule, listSchedules } from "../../libs/schedules/index.js";
import {
  attachWorkerStream,
  detachWorkerStream,
  drainWorker,
  getWorker,
  getWorkerCredential,
  listWorkers,
  markWorkerOffline,
  registerWorker,
  removeOfflineWorker,
  setWorkerCredential,
} from "../../libs/workers/index.js";

/**
 * The narrow stores apps/api's handlers get instead of the pool (issue 10): each holds only the
 * storage calls its service makes, bound to the process's pool. JobService has its own, JobStore
 * (group-committed submits).
 */
export function apiStores(pool: pg.Pool) {
  return {
    queues: bindStore(pool, { createQueue, updateQueue, deleteQueue, getQueue, listQueues, queueStats, setQueuePaused, existingQueueNames }),
    deadLetters: bindStore(pool, { listDeadLetters, actOnDeadLetters }),
    schedules: bindStore(pool, { createSchedule, deleteSchedule, getSchedule, listSchedules }),
    workers: bindStore(pool, {
      registerWorker,
      getWorker,
      attachWorkerStream,
      detachWorkerStream,
      markWorkerOffline,
      drainWorker,
      listWorkers,
      removeOfflineWorker,
      getWorkerCredential,
      setWorkerCredential,
      releaseWorkerJobs,
      notifyWorkerControl,
    }),
    cluster: bindStore(pool, { readClusterStatus }),
  };
}

export type ApiStores = ReturnType<typeof apiStores>;
