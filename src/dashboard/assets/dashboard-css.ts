/**
 * The dashboard's one stylesheet, served at /dashboard/assets/dashboard.css.
 * Colours meet WCAG AA contrast on their backgrounds (text ≥ 4.5:1); tables
 * scroll sideways inside their own box on a phone-width screen.
 */
export const DASHBOARD_CSS = `
:root { color-scheme: light; --fg: #1b1f24; --muted: #4d5661; --bg: #ffffff; --panel: #f5f7f9; --line: #c9d1d9;
  --accent: #0b5cad; --ok: #146c2e; --warn: #7a4d00; --bad: #a40e26; --warn-bg: #fff4d6; --bad-bg: #ffe6ea; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--accent); }
header.top { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1rem; padding: .6rem 1rem; background: #102a43; color: #fff; }
header.top a, header.top .who { color: #fff; }
header.top h1 { font-size: 1.1rem; margin: 0; }
header.top nav ul { display: flex; flex-wrap: wrap; gap: .25rem .9rem; list-style: none; margin: 0; padding: 0; }
header.top nav a[aria-current="page"] { font-weight: 700; text-decoration-thickness: 3px; }
header.top form { margin: 0 0 0 auto; }
main { padding: 1rem; max-width: 90rem; margin: 0 auto; }
h2 { font-size: 1.35rem; margin: .2rem 0 .8rem; }
h3 { font-size: 1.05rem; margin: 1.2rem 0 .5rem; }
section.card { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: .8rem 1rem; margin: 0 0 1rem; }
form.inline.spaced { margin-top: .8rem; }
form.inline { display: flex; flex-wrap: wrap; gap: .5rem .8rem; align-items: end; }
label { display: flex; flex-direction: column; min-width: 0; font-size: .9rem; color: var(--muted); gap: .15rem; }
input, select, button { max-width: 100%; font: inherit; padding: .35rem .5rem; border: 1px solid #8a96a3; border-radius: 4px; background: #fff; color: var(--fg); min-height: 2.2rem; }
input[type="file"] { padding: .2rem; }
button { background: var(--accent); color: #fff; border-color: var(--accent); cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }
button.danger { background: #fff; color: var(--bad); border-color: var(--bad); }
:focus-visible { outline: 3px solid #f9a825; outline-offset: 2px; }
.table-wrap { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #e1e6eb; vertical-align: top; }
th { background: #eef2f6; white-space: nowrap; }
th[scope="row"] { white-space: normal; min-width: 10rem; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td time { white-space: nowrap; }
code, .cid { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .85rem; word-break: break-all; }
.status { display: inline-block; padding: 0 .45rem; border-radius: 999px; font-size: .85rem; font-weight: 600; border: 1px solid currentColor; white-space: nowrap; }
.status-pinned, .status-closed, .status-yes { color: var(--ok); }
.status-queued, .status-pinning, .status-half_open { color: var(--warn); }
.status-failed, .status-open, .status-no { color: var(--bad); }
.status-stored { color: var(--ok); }
.status-replicating, .status-at_risk, .status-removing, .status-under_replicated { color: var(--warn); }
.status-lost { color: var(--bad); }
.status-removed { color: var(--muted); }
.replicas ul { margin: .3rem 0; padding-left: 1.1rem; }
tr.failed td { background: var(--bad-bg); }
tr.stuck td { background: var(--warn-bg); }
.alert { border: 2px solid var(--bad); background: var(--bad-bg); color: #5c0011; padding: .6rem .9rem; border-radius: 6px; margin: 0 0 1rem; }
.notice { border: 2px solid var(--ok); background: #e6f4ea; padding: .6rem .9rem; border-radius: 6px; margin: 0 0 1rem; }
.missing { border: 1px dashed #8a96a3; padding: .6rem .9rem; border-radius: 6px; color: var(--muted); background: #fff; }
.muted { color: var(--muted); font-size: .9rem; }
.actions { display: flex; gap: .4rem; flex-wrap: wrap; }
.actions form { margin: 0; }
svg.chart { display: block; width: 160px; height: 40px; margin-top: .25rem; }
svg.chart polyline { fill: none; stroke: var(--accent); stroke-width: 1.5; }
.charts { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; }
.charts figure { margin: .25rem 0; }
.charts figcaption { font-size: .85rem; color: var(--muted); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; margin: 0; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; }
meter { width: 10rem; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
@media (max-width: 40rem) {
  main { padding: .6rem; }
  header.top form { margin-left: 0; }
  dl.facts { grid-template-columns: 1fr; }
  dl.facts dd { margin-bottom: .4rem; }
  form.inline > * { flex: 1 1 100%; }
  /* Tables marked .stack become one card per row, each cell labelled by its column. */
  table.stack thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  table.stack tr { display: block; border-bottom: 2px solid var(--line); padding: .3rem 0; }
  table.stack td, table.stack th[scope="row"] { display: flex; flex-wrap: wrap; align-items: baseline; gap: .2rem .5rem; border: 0; padding: .2rem .6rem; text-align: left; white-space: normal; background: none; }
  table.stack td::before, table.stack th[scope="row"]::before { content: attr(data-label); flex: 0 0 6.5rem; font-weight: 600; color: var(--muted); }
}
`;
