/**
 * The metadata headers of the WorkerService contract (worker_service.proto names them in its
 * comments). apps/api and the worker SDK both read them from here, so the two ends cannot drift.
 */

/** On every call about a registered worker: the secret RegisterWorker returned. */
export const WORKER_SECRET_HEADER = "jq-worker-secret";
/** ReportResults response header: how many results one message may carry (several per message). */
export const MAX_RESULTS_PER_MESSAGE_HEADER = "jq-max-results-per-message";
/** ReportResults response header: the most bytes of one message the server accepts. */
export const MAX_MESSAGE_BYTES_HEADER = "jq-max-message-bytes";
