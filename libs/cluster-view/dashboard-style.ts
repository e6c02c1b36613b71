/** The dashboard's stylesheet, served as /assets/dashboard.css (no inline styles: the CSP allows none). */
export const DASHBOARD_CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d232a; background: #f7f8fa; }
header { display: flex; flex-wrap: wrap; gap: 1rem 2rem; align-items: center; padding: .75rem 1.5rem; background: #1d232a; color: #fff; }
header h1 { font-size: 1.2rem; margin: 0; }
header nav a { color: #cfe3ff; margin-right: 1rem; text-decoration: none; }
header nav a.current { color: #fff; font-weight: 600; text-decoration: underline; }
header form { margin-left: auto; display: flex; gap: .5rem; align-items: center; }
header input { width: 16rem; padding: .2rem .4rem; }
header .muted { color: #aab3bd; }
main { padding: 0 1.5rem 2rem; }
h2 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; }
h3 { font-size: .95rem; margin: 1.2rem 0 .4rem; }
table { border-collapse: collapse; background: #fff; min-width: 24rem; }
th, td { border: 1px solid #d8dde3; padding: .25rem .6rem; text-align: left; vertical-align: top; }
th { background: #eef1f4; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.mono, span.mono { font-family: ui-monospace, monospace; font-size: 12px; }
pre { background: #fff; border: 1px solid #d8dde3; padding: .5rem; max-height: 24rem; overflow: auto; white-space: pre-wrap; word-break: break-all; font-size: 12px; }
button { font: inherit; padding: .15rem .6rem; cursor: pointer; }
button:disabled { cursor: not-allowed; opacity: .5; }
button.danger { color: #b42318; }
.actions { display: flex; gap: .5rem; margin: .5rem 0; }
.filters { display: flex; gap: 1rem; align-items: center; margin-bottom: .75rem; }
.pager { margin-top: .5rem; }
.ok { color: #17803d; } .bad { color: #b42318; font-weight: 600; } .muted { color: #6b7480; }
#meta { margin-top: 1rem; }
#notice { padding: .4rem 1.5rem; min-height: 1.4em; }
#notice.error { background: #fde8e7; color: #b42318; }
#notice.success { background: #e6f4ea; color: #17803d; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; margin-top: 1rem; }
figure { margin: 0; background: #fff; border: 1px solid #d8dde3; padding: .5rem; }
figcaption { font-weight: 600; margin-bottom: .25rem; }
.chart { width: 460px; min-height: 220px; }
.chart .empty { color: #6b7480; padding: 2rem 0; }
`;
