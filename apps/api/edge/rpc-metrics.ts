import { Counter, Histogram, type Registry } from "prom-client";

/** Request counts and latency per service, method and status code (SPEC §8). */
export class RpcMetrics {
  readonly requests: Counter<"service" | "method" | "code">;
  readonly duration: Histogram<"service" | "method">;
  readonly jobsSubmitted: Counter<"queue">;
  readonly jobsDispatched: Counter;

  constructor(registry: Registry) {
    this.requests = new Counter({
      name: "jq_grpc_requests_total",
      help: "gRPC requests handled, by service, method and status code.",
      labelNames: ["service", "method", "code"],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: "jq_grpc_request_duration_seconds",
      help: "Time from a gRPC request's arrival to its answer (streams: to their end), by service and method.",
      labelNames: ["service", "method"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    this.jobsSubmitted = new Counter({
      name: "jq_jobs_submitted_total",
      help: "Jobs created by SubmitJob and SubmitJobs (idempotent repeats not counted), by queue.",
      labelNames: ["queue"],
      registers: [registry],
    });
    this.jobsDispatched = new Counter({
      name: "jq_jobs_dispatched_total",
      help: "Jobs claimed and written to a worker stream by this replica.",
      registers: [registry],
    });
  }
}
