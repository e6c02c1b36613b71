/**
 * Browser script, part 1 of the dashboard (served concatenated as /assets/dashboard.js, see
 * dashboard-assets.ts): DOM helpers that only ever set text, the JSON client (GET for reads, POST
 * with the admin key in `authorization` for actions), the notice line and the hash router.
 * The key lives in this page's memory only: never stored, never in a cookie or URL.
 */
export const SCRIPT_CORE = String.raw`
const STATUSES = ["PENDING", "ASSIGNED", "RUNNING", "DONE", "FAILED", "DEAD_LETTERED"];
const $ = (id) => document.getElementById(id);
const session = { actions: "read-only" };

function cell(tag, text, cls) {
  const c = document.createElement(tag);
  c.textContent = text === null || text === undefined || text === "" ? "—" : String(text);
  if (cls) c.className = cls;
  return c;
}
function link(text, href, cls) {
  const a = document.createElement("a");
  a.textContent = String(text);
  a.href = href;
  if (cls) a.className = cls;
  return a;
}
function button(text, onClick, opts) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  if (opts && opts.danger) b.className = "danger";
  if (opts && opts.name) b.dataset.action = opts.name;
  b.disabled = session.actions === "read-only";
  if (session.actions === "read-only") b.title = "read-only: no API keys are configured";
  b.addEventListener("click", () => void onClick(b));
  return b;
}
function td(content, cls) {
  if (content instanceof Node) {
    const c = document.createElement("td");
    c.appendChild(content);
    c.className = cls || (content.className === "num" ? "num" : "");
    return c;
  }
  if (Array.isArray(content)) {
    const c = document.createElement("td");
    for (const n of content) c.appendChild(n);
    if (cls) c.className = cls;
    return c;
  }
  if (content !== null && typeof content === "object") return cell("td", content.text, content.cls);
  return cell("td", content, cls || (typeof content === "number" ? "num" : ""));
}
function fill(id, header, rows) {
  const table = $(id);
  const head = document.createElement("tr");
  for (const h of header) head.appendChild(cell("th", h));
  const body = [head];
  for (const r of rows) {
    const tr = document.createElement("tr");
    for (const c of r) tr.appendChild(td(c));
    body.push(tr);
  }
  if (rows.length === 0) {
    const tr = document.createElement("tr");
    const c = cell("td", "none", "muted");
    c.colSpan = header.length;
    tr.appendChild(c);
    body.push(tr);
  }
  table.replaceChildren(...body);
}
function seconds(s) { return s === null || s === undefined ? null : s.toFixed(1) + " s"; }
function flag(ok, yes, no) { return { text: ok ? yes : no, cls: ok ? "ok" : "bad" }; }
function when(iso) { return iso ? iso.replace("T", " ").replace("Z", "") : null; }

function notify(text, kind) {
  const n = $("notice");
  n.textContent = text;
  n.className = kind || "";
}

async function getJson(path) {
  const res = await fetch(path, { cache: "no-store" });
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new Error(body && body.error ? body.error.message : "HTTP " + res.status);
  return body;
}

/** Runs one action; confirm() first when asked. Resolves with the JSON answer, or null when refused. */
async function act(path, body, what, confirmText) {
  if (confirmText && !window.confirm(confirmText)) return null;
  const headers = { "content-type": "application/json" };
  const key = $("apiKey").value.trim();
  if (key) headers.authorization = "Bearer " + key;
  try {
    const res = await fetch(path, { method: "POST", headers, body: JSON.stringify(body), cache: "no-store" });
    const answer = await res.json().catch(() => null);
    if (!res.ok) {
      notify(what + " refused: " + (answer && answer.error ? answer.error.message : "HTTP " + res.status), "error");
      return null;
    }
    notify(what + ": done", "success");
    return answer;
  } catch (err) {
    notify(what + " failed: " + err.message, "error");
    return null;
  }
}

const views = {};
let current = null;
function route() {
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, query] = hash.split("?");
  const params = new URLSearchParams(query || "");
  let name = "overview";
  let arg = null;
  if (path === "/jobs") name = "jobs";
  else if (path.startsWith("/job/")) { name = "job"; arg = decodeURIComponent(path.slice(5)); }
  else if (path === "/workers") name = "workers";
  for (const v of ["overview", "jobs", "job", "workers"]) $("view-" + v).hidden = v !== name;
  for (const v of ["overview", "jobs", "workers"]) $("nav-" + v).className = v === name || (v === "jobs" && name === "job") ? "current" : "";
  if (current && current !== views[name] && current.leave) current.leave();
  if (current && current !== views[name]) notify("");
  current = views[name];
  current.enter(arg, params);
}

/** A view's periodic refresh that stops when the view is left (so only the visible view polls). */
function poller(fn, everyMs) {
  let timer = null;
  let stopped = true;
  const loop = async () => {
    if (stopped) return;
    try { await fn(); } finally { if (!stopped) timer = setTimeout(loop, everyMs); }
  };
  return {
    start() { if (!stopped) return; stopped = false; void loop(); },
    stop() { stopped = true; clearTimeout(timer); },
    now() { return fn(); },
  };
}
`;
