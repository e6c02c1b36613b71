/**
 * The dashboard served at `/`: one self-contained page (inline CSS and script, no external
 * resources, no framework) that polls `/status` every 2 s and redraws its tables. Data reaches the
 * DOM only through textContent, never as markup.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>jq cluster</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1d232a; background: #f7f8fa; }
  h1 { font-size: 1.3rem; margin: 0 0 .25rem; }
  h2 { font-size: 1rem; margin: 1.5rem 0 .5rem; }
  table { border-collapse: collapse; background: #fff; min-width: 24rem; }
  th, td { border: 1px solid #d8dde3; padding: .25rem .6rem; text-align: left; }
  th { background: #eef1f4; font-weight: 600; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  .ok { color: #17803d; } .bad { color: #b42318; font-weight: 600; } .muted { color: #6b7480; }
  #meta { color: #6b7480; }
</style>
</head>
<body>
<h1>jq cluster</h1>
<div id="meta">loading…</div>
<h2>Dependencies</h2><table id="dependencies"></table>
<h2>Leader and nodes</h2><div id="leader"></div><table id="nodes"></table>
<h2>Queues</h2><table id="queues"></table>
<h2>Workers</h2><table id="workers"></table>
<h2>Outbox</h2><table id="outbox"></table>
<h2>Recent dead letters</h2><table id="deadLetters"></table>
<script>
"use strict";
const STATUSES = ["PENDING", "ASSIGNED", "RUNNING", "DONE", "FAILED", "DEAD_LETTERED"];
function cell(tag, text, cls) {
  const c = document.createElement(tag);
  c.textContent = text === null || text === undefined ? "—" : String(text);
  if (cls) c.className = cls;
  return c;
}
function fill(id, header, rows) {
  const table = document.getElementById(id);
  const head = document.createElement("tr");
  for (const h of header) head.appendChild(cell("th", h));
  const body = [head];
  for (const r of rows) {
    const tr = document.createElement("tr");
    for (const c of r) tr.appendChild(typeof c === "object" && c !== null ? cell("td", c.text, c.cls) : cell("td", c, typeof c === "number" ? "num" : ""));
    body.push(tr);
  }
  if (rows.length === 0) {
    const tr = document.createElement("tr");
    const td = cell("td", "none", "muted");
    td.colSpan = header.length;
    tr.appendChild(td);
    body.push(tr);
  }
  table.replaceChildren(...body);
}
function seconds(s) { return s === null || s === undefined ? null : s.toFixed(1) + " s"; }
function flag(ok, yes, no) { return { text: ok ? yes : no, cls: ok ? "ok" : "bad" }; }
function render(s) {
  document.getElementById("meta").textContent = "updated " + s.generatedAt;
  fill("dependencies", ["dependency", "state"], Object.entries(s.dependencies).map(([k, v]) => [k, v === "not configured" ? { text: v, cls: "muted" } : flag(v === "ok", "ok", v)]));
  document.getElementById("leader").textContent = s.leader ? "Scheduler leader: " + s.leader.nodeId + " (term " + s.leader.term + ")" : "No scheduler leader";
  document.getElementById("leader").className = s.leader ? "ok" : "bad";
  fill("nodes", ["node", "role", "version", "host", "leader", "alive", "last seen"], s.nodes.map((n) => [n.nodeId, n.role, n.version, n.hostname, n.leader ? "yes" : "", flag(n.alive, "alive", "not alive"), n.lastSeenAt]));
  fill("queues", ["queue", "paused"].concat(STATUSES, ["scheduled", "oldest pending"]), s.queues.map((q) => [q.name, q.paused ? "paused" : ""].concat(STATUSES.map((st) => q.depth[st] || 0), [q.scheduled, { text: seconds(q.oldestPendingAgeSeconds), cls: "num" }])));
  fill("workers", ["online", "draining", "offline"], [[s.workers.online, s.workers.draining, s.workers.offline]]);
  fill("outbox", ["events waiting", "oldest"], s.outbox ? [[s.outbox.events, { text: seconds(s.outbox.oldestAgeSeconds), cls: "num" }]] : []);
  fill("deadLetters", ["job", "queue", "reason", "error", "dead-lettered at"], s.recentDeadLetters.map((d) => [d.id, d.queue, d.reason, d.errorMessage, d.completedAt]));
}
async function refresh() {
  try {
    const res = await fetch("status", { cache: "no-store" });
    if (!res.ok) throw new Error("HTTP " + res.status);
    render(await res.json());
  } catch (err) {
    const meta = document.getElementById("meta");
    meta.textContent = "cannot reach /status: " + err.message + " (retrying)";
  } finally {
    setTimeout(refresh, 2000);
  }
}
refresh();
</script>
</body>
</html>
`;
