import type pg from "pg";
import { createKafka } from "./kafka.js";
import { checkDelivery, readWholeTopic, storedEvents, type DeliveryReport } from "./outbox-topic.js";

// What must hold after a chaos run, each as a list of violations (empty = holds), so a failing
// run names the jobs and events that broke it rather than a count.

export interface Execution {
  readonly job: string;
  readonly attempt: number;
}

export interface ChaosVerdict {
  readonly jobs: number;
  readonly notDone: string[];
  readonly outcomes: string[];
  readonly executions: string[];
  readonly events: string[];
  readonly delivery: DeliveryReport;
}

/**
 * Every job of `jobIds` DONE, none ASSIGNED/RUNNING; exactly one success and at most one outcome
 * per attempt in job_events; each (job, attempt) started at most once by any worker and the final
 * attempt started; each job's stored events begin with SUBMITTED and end with SUCCEEDED.
 */
export async function checkJobs(pool: pg.Pool, jobIds: readonly string[], starts: readonly Execution[]): Promise<Omit<ChaosVerdict, "delivery">> {
  const { rows: jobs } = await pool.query<{ id: string; status: string; attempt: number }>("SELECT id, status::text, attempt FROM jobs");
  const wanted = new Set(jobIds);
  const notDone = [
    ...jobs.filter((j) => j.status !== "DONE").map((j) => `${j.id} ${j.status}`),
    ...jobs.filter((j) => !wanted.has(j.id)).map((j) => `${j.id} was never submitted by the load`),
    ...jobIds.filter((id) => !jobs.some((j) => j.id === id)).map((id) => `${id} missing`),
  ];

  const { rows: outcomeRows } = await pool.query<{ job_id: string; attempt: number; n: number }>(
    "SELECT job_id, attempt, count(*)::int AS n FROM job_events WHERE from_status = 'RUNNING' GROUP BY job_id, attempt HAVING count(*) > 1",
  );
  const { rows: successRows } = await pool.query<{ job_id: string; n: number }>(
    "SELECT j.id AS job_id, count(e.id)::int AS n FROM jobs j LEFT JOIN job_events e ON e.job_id = j.id AND e.reason = 'SUCCEEDED' GROUP BY j.id HAVING count(e.id) <> 1",
  );
  const outcomes = [
    ...outcomeRows.map((r) => `${r.job_id} attempt ${r.attempt}: ${r.n} outcomes`),
    ...successRows.map((r) => `${r.job_id}: ${r.n} successes`),
  ];

  const startsOf = new Map<string, number>();
  for (const s of starts) startsOf.set(`${s.job}#${s.attempt}`, (startsOf.get(`${s.job}#${s.attempt}`) ?? 0) + 1);
  const executions = [
    ...[...startsOf].filter(([, n]) => n > 1).map(([key, n]) => `${key} executed ${n} times`),
    ...jobs.filter((j) => !startsOf.has(`${j.id}#${j.attempt}`)).map((j) => `${j.id}: its final attempt ${j.attempt} never started on a worker`),
  ];

  const { rows: ends } = await pool.query<{ job_id: string; first: string; last: string }>(
    `SELECT job_id, (array_agg(reason ORDER BY id))[1] AS first, (array_agg(reason ORDER BY id DESC))[1] AS last FROM job_events GROUP BY job_id`,
  );
  const events = ends.filter((e) => e.first !== "SUBMITTED" || e.last !== "SUCCEEDED").map((e) => `${e.job_id}: events from ${e.first} to ${e.last}`);
  if (ends.length !== jobs.length) events.push(`${jobs.length - ends.length} jobs have no events`);
  return { jobs: jobs.length, notDone, outcomes, executions, events };
}

/** Reads the whole event topic and compares it with job_events (SPEC §6: complete, in order per job). */
export async function checkTopic(brokers: readonly string[], topic: string, pool: pg.Pool): Promise<DeliveryReport> {
  const kafka = createKafka("jq-chaos-check", undefined, { brokers: [...brokers] }); // the chaos cluster's own broker
  return checkDelivery(await readWholeTopic(kafka, topic, 120_000), await storedEvents(pool));
}
