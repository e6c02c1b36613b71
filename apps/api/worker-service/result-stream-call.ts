import * as grpc from "@grpc/grpc-js";
import type { FinishVerdict } from "../../../libs/attempts/index.js";
import { statusToProto } from "../../../libs/wire/index.js";
import { JobStatus, ResultAckCode, type ReportResultsRequest, type ReportResultsResponse } from "../../../libs/proto/index.js";
import { ResultStream, type ReportedResult, type ResultAck } from "../../../libs/worker-results/index.js";
import { isMalformed, malformedRefusal, type Edge } from "../edge/handlers.js";

type ResultsCall = grpc.ServerDuplexStream<ReportResultsRequest, ReportResultsResponse>;

/**
 * The transport side of ReportResults: binds a bidirectional call to a ResultStream (the rules,
 * libs/worker-results), parses each message, and maps the stream's end to a status at the edge.
 * `open` holds the closers of this replica's result streams, run at shutdown.
 */
export function serveResultStream(call: ResultsCall, edge: Edge, open: Set<() => void>, record: (msg: ReportResultsRequest) => Promise<FinishVerdict>): void {
  const done = edge.begin("ReportResults");
  try {
    edge.admit(call.metadata, {});
  } catch (err) {
    endWithError(call, edge, done, err);
    return;
  }
  call.sendMetadata(new grpc.Metadata());
  const shutdown = () => stream.shutdown();
  const stream = new ResultStream({
    ack: (a) => {
      if (!call.cancelled) call.write(ackMessage(a));
    },
    end: (error) => {
      open.delete(shutdown);
      if (error) return endWithError(call, edge, done, error);
      done(grpc.status.OK);
      call.end();
    },
  });
  open.add(shutdown);
  call.on("cancelled", () => {
    open.delete(shutdown);
    stream.cancelled();
  });
  call.on("data", (msg: ReportResultsRequest) => void stream.receive(reportedResult(msg, record)));
  call.on("end", () => stream.clientEnded());
  call.on("error", () => {});
}

/**
 * A message as the stream sees it. One refused for a bad value still decodes (it has no repeated
 * fields) and is acked INVALID by its sequence; one that does not decode at all has no sequence.
 */
function reportedResult(msg: ReportResultsRequest, record: (msg: ReportResultsRequest) => Promise<FinishVerdict>): ReportedResult {
  const refusal = isMalformed(msg) ? malformedRefusal(msg, "jq.v1.ReportResultsRequest") : undefined;
  const decoded = (refusal ? refusal.partial : msg) as ReportResultsRequest | undefined;
  return {
    sequence: decoded?.sequence ?? "0",
    undecodable: refusal !== undefined && decoded === undefined,
    record: () => (refusal ? Promise.reject(refusal.error) : record(msg)),
  };
}

function endWithError(call: ResultsCall, edge: Edge, done: (code: grpc.status) => void, err: unknown): void {
  const s = edge.fail("ReportResults", err);
  done(s.code);
  call.emit("error", { code: s.code, details: s.details });
}

function ackMessage(a: ResultAck): ReportResultsResponse {
  return {
    sequence: a.sequence,
    code: ResultAckCode[a.code],
    message: a.message,
    jobStatus: a.jobStatus === undefined ? JobStatus.UNSPECIFIED : statusToProto(a.jobStatus),
  };
}
