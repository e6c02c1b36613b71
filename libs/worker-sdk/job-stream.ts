import type * as grpc from "@grpc/grpc-js";
import type { DrainNotice, JobAssignment, JobCancellation, StreamJobsResponse, WorkerServiceClient } from "../proto/index.js";
import { watchStream } from "./stream-watch.js";

/**
 * Asked for in every StreamJobs request: above 1 the server may send one claim's jobs together in
 * an `assignments` message (an older server ignores the field and sends each one alone). The
 * proto's cap; the server also keeps each message near 1 MiB.
 */
export const MAX_ASSIGNMENTS_PER_MESSAGE = 1000;

export interface JobStreamHooks {
  onAssignment(assignment: JobAssignment): void;
  onCancellation(cancellation: JobCancellation): void;
  onDrain(notice: DrainNotice): void;
  /** The open stream ended on its own: the error, or undefined when the server ended it with OK. */
  onEnd(error: grpc.ServiceError | undefined): void;
}

/**
 * The worker's StreamJobs call: assignments and control messages in, nothing out. At most one
 * call is current; events of a call the worker replaced or cancelled are ignored, so our own
 * cancel (or the FAILED_PRECONDITION "replaced" that the server sends an older stream) never
 * looks like a failure.
 */
export class JobStream {
  private call: grpc.ClientReadableStream<StreamJobsResponse> | undefined;

  constructor(
    private readonly rpc: { readonly workers: WorkerServiceClient; metadata(): grpc.Metadata },
    private readonly hooks: JobStreamHooks,
    private readonly readyGraceMs: number,
  ) {}

  get isOpen(): boolean {
    return this.call !== undefined;
  }

  /** Opens a new stream (cancelling the current one); resolves when it is open, rejects if it ends first. */
  open(workerId: string): Promise<void> {
    this.cancel();
    const call = this.rpc.workers.streamJobs({ workerId, maxAssignmentsPerMessage: MAX_ASSIGNMENTS_PER_MESSAGE }, this.rpc.metadata());
    this.call = call;
    const ready = watchStream(call, this.readyGraceMs, (error) => {
      if (this.call !== call) return;
      this.call = undefined;
      this.hooks.onEnd(error);
    });
    call.once("status", () => {
      if (this.call === call) this.call = undefined;
    });
    call.on("data", (message: StreamJobsResponse) => {
      if (this.call === call) this.dispatch(message);
    });
    return ready;
  }

  /** Stops the current stream; no event of it is reported any more. */
  cancel(): void {
    const call = this.call;
    this.call = undefined;
    call?.cancel();
  }

  private dispatch(message: StreamJobsResponse): void {
    const kind = message.kind;
    switch (kind?.$case) {
      case "assignment":
        return this.hooks.onAssignment(kind.value);
      case "assignments":
        // Each is a delivery of its own, as if it came alone; claim order is kept.
        for (const assignment of kind.value.assignments) this.hooks.onAssignment(assignment);
        return;
      case "cancellation":
        return this.hooks.onCancellation(kind.value);
      case "drain":
        return this.hooks.onDrain(kind.value);
      default:
        // A newer server's control message: the contract says to ignore it.
        return;
    }
  }
}
