// The public gRPC contract (proto/jq/v1, SPEC §4 and §6) as the generated code exposes it: every
// RPC at its wire path with the right streaming shape, the job states, the event that goes on
// Kafka, and the descriptor set that server reflection serves.
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { JOB_STATUSES, TRANSITION_REASONS } from "../../libs/lifecycle/index.js";
import {
  AdminServiceClient,
  AdminServiceService,
  JobEvent,
  JobEventType,
  JobServiceClient,
  JobServiceService,
  JobStatus,
  jobEventTypeFromHeader,
  jobEventTypeHeader,
  JQ_SERVICE_NAMES,
  loadDescriptorSet,
  SubmitJobRequest,
  TransitionReason,
  WorkerServiceClient,
  WorkerServiceService,
} from "../../libs/proto/index.js";

type Shape = "unary" | "server-stream" | "client-stream" | "bidi";

/** Every RPC of SPEC §4, by wire path. Adding or removing one must show up here. */
const EXPECTED_RPCS: ReadonlyArray<readonly [path: string, shape: Shape]> = [
  ["/jq.v1.JobService/SubmitJob", "unary"],
  ["/jq.v1.JobService/SubmitJobs", "unary"],
  ["/jq.v1.JobService/CancelJob", "unary"],
  ["/jq.v1.JobService/GetJobStatus", "unary"],
  ["/jq.v1.JobService/ListJobs", "unary"],
  ["/jq.v1.JobService/GetJobLogs", "unary"],
  ["/jq.v1.JobService/RetryJob", "unary"],
  ["/jq.v1.JobService/WatchJob", "server-stream"],
  ["/jq.v1.WorkerService/RegisterWorker", "unary"],
  ["/jq.v1.WorkerService/Heartbeat", "unary"],
  ["/jq.v1.WorkerService/StreamJobs", "server-stream"],
  ["/jq.v1.WorkerService/ReportResult", "unary"],
  ["/jq.v1.WorkerService/ReportResults", "bidi"],
  ["/jq.v1.WorkerService/Deregister", "unary"],
  ["/jq.v1.AdminService/CreateQueue", "unary"],
  ["/jq.v1.AdminService/UpdateQueue", "unary"],
  ["/jq.v1.AdminService/DeleteQueue", "unary"],
  ["/jq.v1.AdminService/GetQueue", "unary"],
  ["/jq.v1.AdminService/ListQueues", "unary"],
  ["/jq.v1.AdminService/PauseQueue", "unary"],
  ["/jq.v1.AdminService/ResumeQueue", "unary"],
  ["/jq.v1.AdminService/ListWorkers", "unary"],
  ["/jq.v1.AdminService/DrainWorker", "unary"],
  ["/jq.v1.AdminService/RemoveWorker", "unary"],
  ["/jq.v1.AdminService/ListDeadLetters", "unary"],
  ["/jq.v1.AdminService/RequeueDeadLetters", "unary"],
  ["/jq.v1.AdminService/PurgeDeadLetters", "unary"],
  ["/jq.v1.AdminService/CreateSchedule", "unary"],
  ["/jq.v1.AdminService/ListSchedules", "unary"],
  ["/jq.v1.AdminService/DeleteSchedule", "unary"],
  ["/jq.v1.AdminService/GetClusterStatus", "unary"],
];

interface MethodDefinition {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
}

function generatedRpcs(): Map<string, Shape> {
  const services: Record<string, MethodDefinition>[] = [JobServiceService, WorkerServiceService, AdminServiceService];
  const rpcs = new Map<string, Shape>();
  for (const service of services) {
    for (const method of Object.values(service)) {
      const shape: Shape = method.requestStream
        ? method.responseStream
          ? "bidi"
          : "client-stream"
        : method.responseStream
          ? "server-stream"
          : "unary";
      rpcs.set(method.path, shape);
    }
  }
  return rpcs;
}

/** The named members of a ts-proto numeric enum, without the reverse mapping. */
function enumMembers(enumObject: Record<string, string | number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(enumObject).filter((entry): entry is [string, number] => typeof entry[1] === "number"),
  );
}

/** The values a state machine can name: without UNSPECIFIED (0) and ts-proto's UNRECOGNIZED (-1). */
function namedValues(enumObject: Record<string, string | number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(enumMembers(enumObject)).filter(([name]) => name !== "UNSPECIFIED" && name !== "UNRECOGNIZED"),
  );
}

describe("gRPC services (SPEC §4)", () => {
  it("define exactly the RPCs of the spec, at their wire paths, with the right streaming shape", () => {
    expect(Object.fromEntries(generatedRpcs())).toEqual(Object.fromEntries(EXPECTED_RPCS));
  });

  it.each(EXPECTED_RPCS)("%s is %s", (path, shape) => {
    expect(generatedRpcs().get(path)).toBe(shape);
  });

  it("come with client constructors bound to the same definitions", () => {
    expect(JobServiceClient.service).toBe(JobServiceService);
    expect(WorkerServiceClient.service).toBe(WorkerServiceService);
    expect(AdminServiceClient.service).toBe(AdminServiceService);
    expect(JobServiceClient.serviceName).toBe("jq.v1.JobService");
  });

  it("are all described by the descriptor set served by reflection", () => {
    const set = fromBinary(FileDescriptorSetSchema, loadDescriptorSet());
    const services = set.file.flatMap((file) => file.service.map((service) => `${file.package}.${service.name}`));
    expect(services.sort()).toEqual([...JQ_SERVICE_NAMES].sort());
    // Imports are included so a reflection client can resolve every type.
    expect(set.file.map((file) => file.name)).toEqual(
      expect.arrayContaining(["google/protobuf/timestamp.proto", "google/protobuf/duration.proto", "jq/v1/job.proto"]),
    );
  });
});

describe("enums", () => {
  it("JobStatus has exactly the six states of SPEC §3 plus UNSPECIFIED", () => {
    expect(enumMembers(JobStatus)).toEqual({
      UNSPECIFIED: 0,
      PENDING: 1,
      ASSIGNED: 2,
      RUNNING: 3,
      DONE: 4,
      FAILED: 5,
      DEAD_LETTERED: 6,
      UNRECOGNIZED: -1, // ts-proto's stand-in for a value only a newer server knows; not a state
    });
  });

  it("JobStatus and TransitionReason names match the domain's (and the Postgres enum labels)", () => {
    expect(Object.keys(namedValues(JobStatus)).sort()).toEqual([...JOB_STATUSES].sort());
    expect(Object.keys(namedValues(TransitionReason)).sort()).toEqual([...TRANSITION_REASONS].sort());
  });

  it("JobEventType maps to the Kafka `type` headers of SPEC §6 and back", () => {
    const types = namedValues(JobEventType);
    const headers = Object.values(types).map((type) => jobEventTypeHeader(type));
    expect(headers.sort()).toEqual(
      [
        "job.submitted",
        "job.assigned",
        "job.started",
        "job.succeeded",
        "job.failed",
        "job.retry_scheduled",
        "job.dead_lettered",
        "job.cancelled",
        "job.expired",
        "job.requeued",
      ].sort(),
    );
    for (const type of Object.values(types)) expect(jobEventTypeFromHeader(jobEventTypeHeader(type))).toBe(type);
    expect(jobEventTypeFromHeader("job.unspecified")).toBeUndefined();
    expect(jobEventTypeFromHeader("job.SUBMITTED")).toBeUndefined();
    expect(jobEventTypeFromHeader("job.teleported")).toBeUndefined();
    expect(() => jobEventTypeHeader(JobEventType.UNSPECIFIED)).toThrow(RangeError);
  });
});

describe("messages", () => {
  it("JobEvent (the Kafka value) survives encode/decode, 64-bit event id included", () => {
    const event: JobEvent = {
      // Above 2^53: a JS number would lose it; forceLong=string keeps every digit.
      eventId: "9007199254740993",
      jobId: "0190f3a4-5b6c-7d8e-9f00-112233445566",
      queue: "emails",
      type: JobEventType.RETRY_SCHEDULED,
      fromStatus: JobStatus.FAILED,
      toStatus: JobStatus.PENDING,
      reason: TransitionReason.RETRY_SCHEDULED,
      attempt: 3,
      workerId: "0190f3a4-0000-7000-8000-000000000001",
      message: "smtp timeout",
      occurredAt: new Date("2025-06-01T12:34:56.789Z"),
    };
    const bytes = JobEvent.encode(event).finish();
    expect(JobEvent.decode(bytes)).toEqual(event);
    expect(JobEvent.toJSON(event)).toMatchObject({
      eventId: "9007199254740993",
      type: "JOB_EVENT_TYPE_RETRY_SCHEDULED",
      fromStatus: "JOB_STATUS_FAILED",
      occurredAt: "2025-06-01T12:34:56.789Z",
    });
  });

  it("the first event of a job has no from_status (UNSPECIFIED)", () => {
    const decoded = JobEvent.decode(JobEvent.encode(JobEvent.fromPartial({ toStatus: JobStatus.PENDING })).finish());
    expect(decoded.fromStatus).toBe(JobStatus.UNSPECIFIED);
    expect(decoded.occurredAt).toBeUndefined();
  });

  it("SubmitJobRequest survives encode/decode with a delay, and keeps max_retries = 0 apart from absent", () => {
    const request: SubmitJobRequest = {
      queue: "emails",
      payload: Buffer.from([0, 1, 2, 250, 255]),
      metadata: { tenant: "acme", trace: "abc" },
      priority: -5,
      start: { $case: "delay", value: { seconds: "90", nanos: 500_000_000 } },
      maxRetries: 0,
      timeout: { seconds: "30", nanos: 0 },
      idempotencyKey: "order-42",
    };
    const decoded = SubmitJobRequest.decode(SubmitJobRequest.encode(request).finish());
    expect(decoded).toEqual(request);
    expect(decoded.maxRetries).toBe(0);

    const defaults = SubmitJobRequest.decode(SubmitJobRequest.encode(SubmitJobRequest.fromPartial({ queue: "q" })).finish());
    expect(defaults.maxRetries).toBeUndefined();
    expect(defaults.start).toBeUndefined();
    expect(defaults.timeout).toBeUndefined();
  });

  it("SubmitJobRequest carries run_at as a Date in the same oneof", () => {
    const runAt = new Date("2030-01-02T03:04:05.000Z");
    const decoded = SubmitJobRequest.decode(
      SubmitJobRequest.encode(SubmitJobRequest.fromPartial({ queue: "q", start: { $case: "runAt", value: runAt } })).finish(),
    );
    expect(decoded.start).toEqual({ $case: "runAt", value: runAt });
  });
});
