/**
 * jq-api — gRPC server: JobService, WorkerService and AdminService; holds worker streams and
 * dispatches to them (SPEC §1, §4, §5).
 *
 * Talks to the other processes only through Postgres, Redis and Kafka. Start-up order:
 * migrations → cluster page-token key → gRPC server. SIGTERM: /readyz and gRPC health go
 * NOT_SERVING, in-flight calls drain, WatchJob feeds stop, the pool closes (libs/runtime).
 */
import type { UntypedServiceImplementation } from "@grpc/grpc-js";
import { NodeAnnouncer } from "../../libs/presence/index.js";
import { JobStore } from "../../libs/jobs/index.js";
import { QueueWaker } from "../../libs/notifications/index.js";
import { loadPageTokenKey, PageTokenCodec } from "../../libs/paging/index.js";
import { openProcessDatabase, WRITE_PATH_SETTINGS } from "../../libs/postgres/index.js";
import { AdminServiceService, JobServiceService, WorkerServiceService } from "../../libs/proto/index.js";
import { component, runProcess } from "../../libs/runtime/index.js";
import { clusterAdmin } from "./admin-service/cluster-admin.js";
import { queueAdmin } from "./admin-service/queue-admin.js";
import { scheduleAdmin } from "./admin-service/schedule-admin.js";
import { workerAdmin } from "./admin-service/worker-admin.js";
import { ApiKeyAuth } from "../../libs/api-keys/index.js";
import { acceptMalformedRequests, Edge } from "./edge/handlers.js";
import { createRequestGuard } from "./edge/request-guard.js";
import { RpcMetrics } from "./edge/rpc-metrics.js";
import { GrpcServer } from "./grpc-server.js";
import { JobEventFeed } from "./job-service/job-event-feed.js";
import { jobService } from "./job-service/job-service.js";
import { apiStores, type ApiStores } from "./stores.js";
import { WorkerHub } from "./worker-service/worker-hub.js";
import { workerService } from "./worker-service/worker-service.js";

await runProcess("api", async ({ config, log, registry }) => {
  const db = openProcessDatabase(config, "api", log, WRITE_PATH_SETTINGS);
  const auth = new ApiKeyAuth(config.apiKeys);
  if (!auth.enabled) log.warn("NO API KEYS CONFIGURED: the gRPC API is open to anyone who can reach it; set JQ_API_KEYS");
  const metrics = new RpcMetrics(registry);
  const stores = apiStores(db.pool);
  const hub = new WorkerHub(db.pool, config.database.url!, config, log, (n) => metrics.jobsDispatched.inc(n));
  const jobs = new JobStore(db.pool, { submitWindowMs: config.database.submitWindowMs, handOff: hub.dispatcher });
  const feed = new JobEventFeed(jobs, log);
  const waker = new QueueWaker(db.pool, log, { wake: (queue) => hub.dispatcher.wakeQueue(queue), origin: hub.origin });
  let server: GrpcServer | undefined;

  const grpc = component(
    "grpc",
    async () => {
      const pageTokens = new PageTokenCodec(await loadPageTokenKey(db.pool));
      const deps = { auth, metrics, log };
      const guard = createRequestGuard(config.limits);
      server = new GrpcServer(config, log, [
        {
          definition: acceptMalformedRequests(JobServiceService, guard),
          implementation: jobService(new Edge(deps, "jq.v1.JobService", ["client", "admin"]), {
            jobs,
            config,
            pageTokens,
            feed,
            metrics,
            waker,
          }),
        },
        {
          definition: acceptMalformedRequests(WorkerServiceService, guard),
          implementation: workerService(new Edge(deps, "jq.v1.WorkerService", ["worker", "admin"]), {
            stores,
            config,
            hub,
            nodeId: config.nodeId,
          }),
        },
        {
          definition: acceptMalformedRequests(AdminServiceService, guard),
          implementation: adminService(new Edge(deps, "jq.v1.AdminService", ["admin"]), { stores, config, pageTokens, waker }),
        },
      ]);
      await server.start();
    },
    async () => {
      server?.beginShutdown();
      await feed.stop();
      await jobs.drain();
      await hub.stop();
      await waker.flush();
      await server?.stop();
    },
  );
  const workers = component("worker-hub", () => hub.start(), async () => {});

  return {
    checks: [db.check],
    components: [db.migrations, new NodeAnnouncer(db.pool, { id: config.nodeId, role: "api" }, config.presenceIntervalMs, log), workers, grpc],
    close: () => db.close(),
  };
});

function adminService(edge: Edge, deps: Parameters<typeof queueAdmin>[1] & { stores: ApiStores }): UntypedServiceImplementation {
  return {
    ...queueAdmin(edge, deps),
    ...workerAdmin(edge, deps),
    ...scheduleAdmin(edge, deps),
    ...clusterAdmin(edge, deps),
  } as UntypedServiceImplementation;
}
