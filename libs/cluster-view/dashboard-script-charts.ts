/**
 * Browser script, part 3: the three charts of the overview, drawn by uPlot (served by this process
 * as /assets/uplot.js) from `/api/series`. A chart is rebuilt when its set of lines changes (a new
 * queue enters the backlog top list) and otherwise only given new data.
 */
export const SCRIPT_CHARTS = String.raw`
const PALETTE = ["#2f6fdf", "#d9480f", "#2b8a3e", "#ae3ec9", "#e8590c", "#1098ad", "#5c940d", "#c2255c", "#495057"];
const charts = {};

function chartSpec(series) {
  const x = series.t;
  return {
    throughput: {
      lines: [{ label: "succeeded/s", stroke: "#2b8a3e" }, { label: "failed/s", stroke: "#c92a2a" }],
      data: [x, series.succeededPerSecond, series.failedPerSecond],
      unit: "jobs/s",
    },
    backlog: {
      lines: series.backlog.map((b, i) => ({ label: b.queue, stroke: PALETTE[i % PALETTE.length] })),
      data: [x].concat(series.backlog.map((b) => b.pending)),
      unit: "jobs",
    },
    latency: {
      lines: [{ label: "p50", stroke: "#2f6fdf" }, { label: "p90", stroke: "#e8590c" }, { label: "p99", stroke: "#c92a2a" }],
      data: [x, series.latencyMs.p50, series.latencyMs.p90, series.latencyMs.p99],
      unit: "ms",
    },
  };
}

function drawCharts(series) {
  const specs = chartSpec(series);
  for (const name of Object.keys(specs)) drawChart(name, specs[name], series);
}

function drawChart(name, spec, series) {
  const el = $("chart-" + name);
  el.dataset.points = String(series.t.length);
  if (typeof uPlot !== "function") {
    el.replaceChildren(cell("div", "chart library did not load", "empty bad"));
    return;
  }
  if (series.t.length === 0 || spec.lines.length === 0) {
    if (charts[name]) { charts[name].plot.destroy(); delete charts[name]; }
    el.replaceChildren(cell("div", series.t.length === 0 ? "collecting samples (every " + series.intervalSeconds + " s)…" : "no backlog in the last 15 minutes", "empty"));
    return;
  }
  const key = spec.lines.map((l) => l.label).join("\u0000");
  const existing = charts[name];
  if (existing && existing.key === key) {
    existing.plot.setData(spec.data);
    return;
  }
  if (existing) existing.plot.destroy();
  el.replaceChildren();
  const opts = {
    width: el.clientWidth || 460,
    height: 220,
    scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(1, max * 1.1)] } },
    axes: [{}, { label: spec.unit, size: 60 }],
    legend: { live: false },
    series: [{}].concat(spec.lines.map((l) => ({ label: l.label, stroke: l.stroke, width: 2, points: { show: series.t.length < 3 } }))),
  };
  charts[name] = { key, plot: new uPlot(opts, spec.data, el) };
}
`;
