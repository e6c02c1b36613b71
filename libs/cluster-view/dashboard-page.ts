/**
 * The dashboard served at `/`: an HTML shell whose script and styles are served by this process
 * (`/assets/…`, see dashboard-assets.ts), so the Content-Security-Policy can allow scripts and
 * styles from this origin only and nothing inline. The views (overview, job browser, job page,
 * workers) are drawn by the script from the JSON endpoints; data reaches the DOM only as text.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>jq cluster</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="assets/uplot.css">
<link rel="stylesheet" href="assets/dashboard.css">
</head>
<body>
<header>
  <h1>jq cluster</h1>
  <nav>
    <a href="#/" id="nav-overview">Overview</a>
    <a href="#/jobs" id="nav-jobs">Jobs</a>
    <a href="#/workers" id="nav-workers">Workers</a>
  </nav>
  <form id="keyForm" autocomplete="off">
    <label for="apiKey">Admin API key</label>
    <input id="apiKey" type="password" placeholder="needed for actions" spellcheck="false">
    <span id="mode" class="muted"></span>
  </form>
</header>
<div id="notice" role="status" aria-live="polite"></div>
<main>
  <section id="view-overview" hidden>
    <div id="meta" class="muted">loading…</div>
    <div class="charts">
      <figure><figcaption>Throughput (jobs/s, last 15 min)</figcaption><div id="chart-throughput" class="chart"></div></figure>
      <figure><figcaption>Backlog (PENDING jobs per queue)</figcaption><div id="chart-backlog" class="chart"></div></figure>
      <figure><figcaption>Submit → start latency (ms)</figcaption><div id="chart-latency" class="chart"></div></figure>
    </div>
    <h2>Dependencies</h2><table id="dependencies"></table>
    <h2>Leader and nodes</h2><div id="leader"></div><table id="nodes"></table>
    <h2>Queues</h2><table id="queues"></table>
    <h2>Workers</h2><table id="workers"></table>
    <h2>Outbox</h2><table id="outbox"></table>
    <h2>Recent dead letters</h2><table id="deadLetters"></table>
  </section>
  <section id="view-jobs" hidden>
    <h2>Jobs</h2>
    <form id="jobFilter" class="filters">
      <label>Queue <select id="filterQueue"><option value="">all queues</option></select></label>
      <label>Status <select id="filterStatus"><option value="">any status</option></select></label>
      <button type="submit">Show</button>
    </form>
    <table id="jobList"></table>
    <div class="pager"><button type="button" id="firstPage">First page</button> <button type="button" id="nextPage">Next page</button></div>
  </section>
  <section id="view-job" hidden>
    <h2>Job <span id="jobId"></span></h2>
    <div id="jobActions" class="actions"></div>
    <table id="jobFields"></table>
    <h3>Payload <span id="payloadInfo" class="muted"></span></h3><pre id="payload"></pre>
    <h3>Result or error <span id="resultInfo" class="muted"></span></h3><pre id="result"></pre>
    <h3>Attempts</h3><table id="attempts"></table>
    <h3>Event timeline <span id="eventsInfo" class="muted"></span></h3><table id="events"></table>
  </section>
  <section id="view-workers" hidden>
    <h2>Workers</h2>
    <table id="workerList"></table>
    <div class="pager"><button type="button" id="firstWorkers">First page</button> <button type="button" id="nextWorkers">Next page</button></div>
  </section>
</main>
<script src="assets/uplot.js"></script>
<script src="assets/dashboard.js"></script>
</body>
</html>
`;
