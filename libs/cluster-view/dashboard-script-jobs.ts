/**
 * Browser script, part 4: the job browser (`#/jobs?queue=…&status=…`, keyset pages from
 * `/api/jobs`) and the job page (`#/job/<id>` from `/api/job`: fields, payload and result
 * previews, attempts, the event timeline, and the actions the job's state allows). The job page
 * refreshes every 2 s while open, so a retried job is seen to run.
 */
export const SCRIPT_JOBS = String.raw`
const jobsState = { queue: "", status: "", pages: [null], page: 0, next: null };

async function loadQueues() {
  const select = $("filterQueue");
  try {
    const s = await getJson("status");
    const keep = jobsState.queue;
    select.replaceChildren(new Option("all queues", ""), ...s.queues.map((q) => new Option(q.name, q.name)));
    if (keep && !s.queues.some((q) => q.name === keep)) select.appendChild(new Option(keep, keep));
    select.value = keep;
  } catch (err) {
    notify("cannot list queues: " + err.message, "error");
  }
}

async function loadJobs() {
  const q = new URLSearchParams();
  if (jobsState.queue) q.set("queue", jobsState.queue);
  if (jobsState.status) q.set("status", jobsState.status);
  const after = jobsState.pages[jobsState.page];
  if (after) q.set("after", after);
  try {
    const page = await getJson("api/jobs?" + q.toString());
    jobsState.next = page.next;
    fill("jobList", ["job", "queue", "status", "reason", "attempt", "created", "error"], page.jobs.map((j) => [
      link(j.id, "#/job/" + j.id, "mono"), j.queue, j.status, j.statusReason, j.attempt, when(j.createdAt), j.errorMessage,
    ]));
  } catch (err) {
    jobsState.next = null;
    fill("jobList", ["job", "queue", "status", "reason", "attempt", "created", "error"], []);
    notify("cannot list jobs: " + err.message, "error");
  }
  $("nextPage").disabled = !jobsState.next;
  $("firstPage").disabled = jobsState.page === 0;
}

views.jobs = {
  enter(_arg, params) {
    jobsState.queue = params.get("queue") || "";
    jobsState.status = params.get("status") || "";
    jobsState.pages = [null];
    jobsState.page = 0;
    $("filterStatus").value = jobsState.status;
    void loadQueues();
    void loadJobs();
  },
  refresh() { return loadJobs(); },
};

function setupJobBrowser() {
  const status = $("filterStatus");
  for (const st of STATUSES) status.appendChild(new Option(st, st));
  $("jobFilter").addEventListener("submit", (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    if ($("filterQueue").value) q.set("queue", $("filterQueue").value);
    if ($("filterStatus").value) q.set("status", $("filterStatus").value);
    location.hash = "#/jobs" + (q.toString() ? "?" + q.toString() : "");
  });
  $("nextPage").addEventListener("click", () => {
    if (!jobsState.next) return;
    jobsState.pages[jobsState.page + 1] = jobsState.next;
    jobsState.page += 1;
    void loadJobs();
  });
  $("firstPage").addEventListener("click", () => {
    jobsState.page = 0;
    void loadJobs();
  });
}

let shownJob = null;
function preview(p, emptyText) {
  if (!p) return emptyText;
  if (p.kind === "empty") return "(empty)";
  return p.text + (p.truncated ? "\n… (" + p.size + " bytes in all; showing the first part)" : "");
}
function previewInfo(p) {
  return p ? "(" + p.size + " bytes" + (p.kind === "hex" ? ", binary, shown as hex" : p.kind === "json" ? ", JSON" : "") + ")" : "";
}
function jobActions(j) {
  const out = [];
  const reload = async (answer) => { if (answer) await jobPoll.now(); };
  if (["PENDING", "ASSIGNED", "RUNNING"].includes(j.status)) {
    out.push(button("Cancel", async () => reload(await act("/api/jobs/cancel", { jobId: j.id }, "Cancel job " + j.id, "Cancel job " + j.id + "?")), { name: "cancel", danger: true }));
  }
  if (["FAILED", "DEAD_LETTERED"].includes(j.status)) {
    out.push(button("Retry", async () => reload(await act("/api/jobs/retry", { jobId: j.id }, "Retry job " + j.id)), { name: "retry" }));
  }
  if (j.status === "DEAD_LETTERED") {
    out.push(button("Requeue dead letter", async () => reload(await deadLetters("requeue", j.queue, j.id)), { name: "requeue" }));
    out.push(button("Purge", async () => { if (await deadLetters("purge", j.queue, j.id)) location.hash = "#/jobs?queue=" + encodeURIComponent(j.queue); }, { name: "purge", danger: true }));
  }
  return out;
}
function renderJob(d) {
  const j = d.job;
  $("jobId").textContent = j.id;
  $("jobId").className = "mono";
  $("jobActions").replaceChildren(...jobActions(j));
  fill("jobFields", ["field", "value"], [
    ["queue", link(j.queue, "#/jobs?queue=" + encodeURIComponent(j.queue))], ["status", { text: j.status, cls: j.status === "DEAD_LETTERED" || j.status === "FAILED" ? "bad" : j.status === "DONE" ? "ok" : "" }],
    ["reason", j.statusReason], ["priority", j.priority], ["attempt", j.attempt],
    ["retries", j.retryCount + " of " + (j.maxRetries === null ? "the queue's limit" : j.maxRetries)], ["worker", j.workerId],
    ["idempotency key", j.idempotencyKey], ["metadata", JSON.stringify(j.metadata)], ["timeout", j.timeoutSeconds === null ? null : j.timeoutSeconds + " s"],
    ["created", when(j.createdAt)], ["not before", when(j.notBefore)], ["assigned", when(j.assignedAt)], ["started", when(j.startedAt)],
    ["completed", when(j.completedAt)], ["lease expires", when(j.leaseExpiresAt)], ["updated", when(j.updatedAt)],
  ]);
  $("payloadInfo").textContent = previewInfo(d.payload);
  $("payload").textContent = preview(d.payload, "(not readable)");
  $("resultInfo").textContent = d.result ? previewInfo(d.result) : j.errorMessage ? "(error)" : "";
  $("result").textContent = d.result ? preview(d.result, "") : j.errorMessage ? j.errorMessage : "(none yet)";
  fill("attempts", ["attempt", "worker", "assigned", "started", "ended", "outcome", "message"], d.attempts.map((a) => [
    a.attempt, a.workerId, when(a.assignedAt), when(a.startedAt), when(a.endedAt), a.outcome || "in progress", a.message,
  ]));
  $("eventsInfo").textContent = "(" + d.events.length + " events" + (d.eventsTruncated ? ", the first ones only" : "") + ")";
  fill("events", ["#", "at", "event", "from", "to", "reason", "attempt", "worker", "message"], d.events.map((e) => [
    e.id, when(e.at), e.type, e.fromStatus, e.toStatus, e.reason, e.attempt, e.workerId, e.message,
  ]));
}
const jobPoll = poller(async () => {
  if (!shownJob) return;
  try {
    renderJob(await getJson("api/job?id=" + encodeURIComponent(shownJob)));
  } catch (err) {
    notify("cannot read job " + shownJob + ": " + err.message, "error");
  }
}, 2000);
views.job = {
  enter(id) {
    shownJob = id;
    $("jobId").textContent = id;
    for (const t of ["jobFields", "attempts", "events"]) $(t).replaceChildren();
    $("jobActions").replaceChildren();
    jobPoll.start();
  },
  leave() { jobPoll.stop(); shownJob = null; },
  refresh() { return jobPoll.now(); },
};
`;
