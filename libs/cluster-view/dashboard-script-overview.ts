/**
 * Browser script, part 2: the overview. It polls `/status` every 2 s and redraws the cluster
 * tables (each queue with links into the job browser and its pause/resume and dead-letter
 * actions), and polls `/api/series` for the three charts (dashboard-script-charts.ts).
 */
export const SCRIPT_OVERVIEW = String.raw`
function queueActions(q) {
  const out = [];
  if (q.paused) out.push(button("Resume", () => queueAction("/api/queues/resume", q.name, "Resume " + q.name), { name: "resume" }));
  else out.push(button("Pause", () => queueAction("/api/queues/pause", q.name, "Pause " + q.name), { name: "pause" }));
  if ((q.depth.DEAD_LETTERED || 0) > 0) {
    out.push(button("Requeue dead letters", () => deadLetters("requeue", q.name, null), { name: "requeue-all" }));
    out.push(button("Purge dead letters", () => deadLetters("purge", q.name, null), { name: "purge-all", danger: true }));
  }
  return out;
}
async function queueAction(path, queue, what) {
  if (await act(path, { queue }, what)) await overviewPoll.now();
}
/** Requeue or purge dead letters of a queue: one job (jobId) or all of them (null). */
async function deadLetters(verb, queue, jobId) {
  const body = jobId ? { queue, jobIds: [jobId] } : { queue, all: true };
  const what = (verb === "requeue" ? "Requeue " : "Purge ") + (jobId ? "dead letter " + jobId : "every dead letter of " + queue);
  const ask = verb === "purge" || !jobId ? what + "?" : null;
  const answer = await act("/api/dead-letters/" + verb, body, what, ask);
  if (answer) {
    notify(what + ": " + (verb === "requeue" ? answer.requeued + " requeued" : answer.purged + " purged"), "success");
    if (current && current.refresh) await current.refresh();
  }
  return answer;
}

function renderStatus(s) {
  $("meta").textContent = "updated " + s.generatedAt;
  fill("dependencies", ["dependency", "state"], Object.entries(s.dependencies).map(([k, v]) => [k, v === "not configured" ? { text: v, cls: "muted" } : flag(v === "ok", "ok", v)]));
  $("leader").textContent = s.leader ? "Scheduler leader: " + s.leader.nodeId + " (term " + s.leader.term + ")" : "No scheduler leader";
  $("leader").className = s.leader ? "ok" : "bad";
  fill("nodes", ["node", "role", "version", "host", "leader", "alive", "last seen"], s.nodes.map((n) => [n.nodeId, n.role, n.version, n.hostname, n.leader ? "yes" : "", flag(n.alive, "alive", "not alive"), n.lastSeenAt]));
  fill("queues", ["queue", "paused"].concat(STATUSES, ["scheduled", "oldest pending", "actions"]), s.queues.map((q) => {
    const counts = STATUSES.map((st) => {
      const n = q.depth[st] || 0;
      return n > 0 ? link(n, "#/jobs?queue=" + encodeURIComponent(q.name) + "&status=" + st, "num") : n;
    });
    return [link(q.name, "#/jobs?queue=" + encodeURIComponent(q.name)), q.paused ? "paused" : ""].concat(counts, [q.scheduled, { text: seconds(q.oldestPendingAgeSeconds), cls: "num" }, queueActions(q)]);
  }));
  fill("workers", ["online", "draining", "offline", "workers"], [[s.workers.online, s.workers.draining, s.workers.offline, link("list and drain", "#/workers")]]);
  fill("outbox", ["events waiting", "oldest"], s.outbox ? [[s.outbox.events, { text: seconds(s.outbox.oldestAgeSeconds), cls: "num" }]] : []);
  fill("deadLetters", ["job", "queue", "reason", "error", "dead-lettered at", "actions"], s.recentDeadLetters.map((d) => [
    link(d.id, "#/job/" + d.id, "mono"), d.queue, d.reason, d.errorMessage, d.completedAt,
    [button("Requeue", () => deadLetters("requeue", d.queue, d.id), { name: "requeue" }), button("Purge", () => deadLetters("purge", d.queue, d.id), { name: "purge", danger: true })],
  ]));
}

const overviewPoll = poller(async () => {
  try {
    const res = await fetch("status", { cache: "no-store" });
    if (!res.ok) throw new Error("HTTP " + res.status);
    renderStatus(await res.json());
  } catch (err) {
    $("meta").textContent = "cannot reach /status: " + err.message + " (retrying)";
  }
}, 2000);
const seriesPoll = poller(async () => {
  try {
    drawCharts(await getJson("api/series"));
  } catch (err) {
    $("meta").textContent = "cannot read api/series: " + err.message + " (retrying)";
  }
}, 5000);

views.overview = {
  enter() { overviewPoll.start(); seriesPoll.start(); },
  leave() { overviewPoll.stop(); seriesPoll.stop(); },
  refresh() { return overviewPoll.now(); },
};
`;
