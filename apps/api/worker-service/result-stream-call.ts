import * as grpc from "@grpc/grpc-js";
import type { FinishVerdict } from "../../../libs/attempts/index.js";
import type { JqError } from "../../../libs/errors/index.js";
import { statusToProto } from "../../../libs/wire/index.js";
import { JobStatus, MAX_MESSAGE_BYTES_HEADER, MAX_RESULTS_PER_MESSAGE_HEADER, ResultAckCode, type JobResult, type ReportResultsRequest, type ReportResultsResponse } from "../../../libs/proto/index.js";
import { ResultStream, type ReportedResult, type ResultAck } from "../../../libs/worker-results/index.js";
import { isMalformed, malformedRefusal, refusedItems, type Edge } from "../edge/handlers.js";
import { MAX_RESULTS_PER_MESSAGE } from "../edge/request-limits.js";

type ResultsCall = grpc.ServerDuplexStream<ReportResultsRequest, ReportResultsResponse>;
type WireAck = Omit<ReportResultsResponse, "acks">;

/** Records one result of the reporting worker (the message's worker_id) and decides it. */
export type RecordResult = (workerId: string, result: JobResult | undefined) => Promise<FinishVerdict>;

/**
 * The transport side of ReportResults: binds a bidirectional call to a ResultStream (the rules,
 * libs/worker-results), parses each message, and maps the stream's end to a status at the edge.
 * `open` holds the closers of this replica's result streams, run at shutdown.
 */
export function serveResultStream(call: ResultsCall, edge: Edge, open: Set<() => void>, maxMessageBytes: number, record: RecordResult): void {
  const done = edge.begin("ReportResults");
  try {
    edge.admit(call.metadata, {});
  } catch (err) {
    endWithError(call, edge, done, err);
    return;
  }
  // The headers tell the worker it may send several results per message (ReportResultsRequest).
  const headers = new grpc.Metadata();
  headers.set(MAX_RESULTS_PER_MESSAGE_HEADER, String(MAX_RESULTS_PER_MESSAGE));
  headers.set(MAX_MESSAGE_BYTES_HEADER, String(maxMessageBytes));
  call.sendMetadata(headers);
  const shutdown = () => stream.shutdown();
  const stream = new ResultStream({
    ack: (a) => {
      if (!call.cancelled) call.write({ ...ackMessage(a), acks: [] });
    },
    acks: (acks) => {
      if (!call.cancelled) call.write({ sequence: "0", code: ResultAckCode.UNSPECIFIED, message: "", jobStatus: JobStatus.UNSPECIFIED, acks: acks.map(ackMessage) });
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
  call.on("data", (msg: ReportResultsRequest) => {
    const message = parsed(msg);
    void (message.decoded && message.decoded.results.length > 0
      ? stream.receiveGroup(severalResults(message.decoded, message.refusal, record))
      : stream.receive(oneResult(message, record)));
  });
  call.on("end", () => stream.clientEnded());
  call.on("error", () => {});
}

/**
 * A message as the edge handed it over: decoded, and the refusal of the whole message if the edge
 * refused it. One refused for a bad value still decodes (once its `results` are counted within
 * their cap, request-guard.ts), so its results are acked INVALID by their sequences; one that does
 * not decode at all has no sequence.
 */
function parsed(msg: ReportResultsRequest): { readonly decoded: ReportResultsRequest | undefined; readonly refusal: JqError | undefined } {
  if (!isMalformed(msg)) return { decoded: msg, refusal: undefined };
  const { error, partial } = malformedRefusal(msg, "jq.v1.ReportResultsRequest");
  return { decoded: partial as ReportResultsRequest | undefined, refusal: error };
}

/** The message's single result (`sequence` and `result`). */
function oneResult({ decoded, refusal }: ReturnType<typeof parsed>, record: RecordResult): ReportedResult {
  return {
    sequence: decoded?.sequence ?? "0",
    undecodable: refusal !== undefined && decoded === undefined,
    // Not refused means decoded (parsed): only a refused message can lack its decoded form.
    record: () => (refusal ? Promise.reject(refusal) : record(decoded!.workerId, decoded!.result)),
  };
}

/**
 * The results of a message that carries several (`results`), each to be decided alone: one the
 * edge refused (request-guard.ts isolates them) is acked INVALID, and a message refused whole
 * refuses each of them.
 */
function severalResults(decoded: ReportResultsRequest, refusal: JqError | undefined, record: RecordResult): ReportedResult[] {
  const refused = refusal ? undefined : refusedItems(decoded);
  const items: ReportedResult[] = decoded.results.map((item, i) => {
    const error = refusal ?? refused?.get(i);
    return { sequence: item.sequence, undecodable: false, record: () => (error ? Promise.reject(error) : record(decoded.workerId, item.result)) };
  });
  // A result in the single-result fields as well is decided with them.
  if (decoded.result !== undefined) items.unshift(oneResult({ decoded, refusal }, record));
  return items;
}

function endWithError(call: ResultsCall, edge: Edge, done: (code: grpc.status) => void, err: unknown): void {
  const s = edge.fail("ReportResults", err);
  done(s.code);
  call.emit("error", { code: s.code, details: s.details });
}

function ackMessage(a: ResultAck): WireAck {
  return {
    sequence: a.sequence,
    code: ResultAckCode[a.code],
    message: a.message,
    jobStatus: a.jobStatus === undefined ? JobStatus.UNSPECIFIED : statusToProto(a.jobStatus),
  };
}
