/**
 * libs/events — what a job event looks like outside Postgres: the JobEventRecord → proto
 * `JobEvent` mapping that GetJobLogs, WatchJob and the Kafka outbox relay share.
 *
 * Owns the mapping only; reading events is libs/jobs', relaying them is libs/outbox's.
 */
export { eventToProto, reasonToProto, statusToProto } from "./job-event-message.js";
