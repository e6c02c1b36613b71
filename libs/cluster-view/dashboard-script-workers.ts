/**
 * Browser script, part 5: the workers view (`#/workers`, keyset pages from `/api/workers`, a
 * Drain button per live worker), then the start-up: read `/api/session` to learn whether actions
 * are possible, and follow the URL's hash.
 */
export const SCRIPT_WORKERS = String.raw`
const workersState = { pages: [null], page: 0, next: null };

async function loadWorkers() {
  const q = new URLSearchParams();
  const after = workersState.pages[workersState.page];
  if (after) q.set("after", after);
  try {
    const page = await getJson("api/workers?" + q.toString());
    workersState.next = page.next;
    fill("workerList", ["worker", "host", "status", "queues", "concurrency", "active jobs", "last heartbeat", "actions"], page.workers.map((w) => [
      { text: w.workerId, cls: "mono" }, w.hostname, { text: w.status, cls: w.status === "ONLINE" ? "ok" : w.status === "OFFLINE" ? "muted" : "" },
      w.queues.join(", "), w.concurrency, w.activeJobs, when(w.lastHeartbeat),
      w.status === "ONLINE" ? [button("Drain", async () => { if (await act("/api/workers/drain", { workerId: w.workerId }, "Drain worker " + w.workerId, "Drain worker " + w.workerId + "? It finishes its jobs and takes no new ones.")) await loadWorkers(); }, { name: "drain" })] : "",
    ]));
  } catch (err) {
    workersState.next = null;
    notify("cannot list workers: " + err.message, "error");
  }
  $("nextWorkers").disabled = !workersState.next;
  $("firstWorkers").disabled = workersState.page === 0;
}
const workersPoll = poller(loadWorkers, 5000);
views.workers = {
  enter() { workersState.pages = [null]; workersState.page = 0; workersPoll.start(); },
  leave() { workersPoll.stop(); },
  refresh() { return loadWorkers(); },
};

async function start() {
  setupJobBrowser();
  $("nextWorkers").addEventListener("click", () => {
    if (!workersState.next) return;
    workersState.pages[workersState.page + 1] = workersState.next;
    workersState.page += 1;
    void loadWorkers();
  });
  $("firstWorkers").addEventListener("click", () => { workersState.page = 0; void loadWorkers(); });
  $("keyForm").addEventListener("submit", (e) => e.preventDefault());
  try {
    Object.assign(session, await getJson("api/session"));
  } catch (err) {
    notify("cannot read api/session: " + err.message + "; actions are off", "error");
  }
  const modes = { "api-keys": "actions need an admin key", open: "actions open (no keys configured)", "read-only": "read-only (no keys configured)" };
  $("mode").textContent = modes[session.actions] || session.actions;
  $("apiKey").disabled = session.actions !== "api-keys";
  window.addEventListener("hashchange", route);
  route();
}
void start();
`;
