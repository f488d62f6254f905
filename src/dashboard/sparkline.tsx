/**
 * A small inline SVG line chart (no script, no external asset): the points
 * scaled into a 160×40 box, x by time over `[from, to]`, y from 0 to the
 * series' maximum (or `max`). Points with a null value leave a gap. The chart
 * has a text alternative naming the range it shows.
 */
const W = 160;
const H = 40;
const PAD = 2;

export function Sparkline(props: { label: string; points: { at: number; value: number | null }[]; from: number; to: number; max?: number; unit: string }) {
  const values = props.points.map((p) => p.value).filter((v): v is number => v !== null);
  if (values.length === 0) return <span class="muted">no samples yet</span>;
  const max = props.max ?? Math.max(...values);
  const span = Math.max(1, props.to - props.from);
  const x = (at: number) => PAD + ((at - props.from) / span) * (W - 2 * PAD);
  const y = (v: number) => H - PAD - (max === 0 ? 0 : (v / max) * (H - 2 * PAD));
  // Consecutive non-null points form one polyline; a null breaks the line.
  const runs: string[] = [];
  let run: string[] = [];
  for (const p of props.points) {
    if (p.value === null) {
      if (run.length > 0) runs.push(run.join(" "));
      run = [];
      continue;
    }
    run.push(`${x(p.at).toFixed(1)},${y(p.value).toFixed(1)}`);
  }
  if (run.length > 0) runs.push(run.join(" "));
  const min = Math.min(...values);
  const last = values[values.length - 1]!;
  const text = `${props.label}: ${values.length} sample${values.length === 1 ? "" : "s"}, from ${fmt(min)} to ${fmt(Math.max(...values))} ${props.unit}, latest ${fmt(last)} ${props.unit}`;
  return (
    <svg class="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={text}>
      <title>{text}</title>
      <rect x="0" y="0" width={W} height={H} fill="#fff" stroke="#c9d1d9" />
      {runs.map((r) => (r.includes(" ") ? <polyline points={r} /> : <circle cx={r.split(",")[0]} cy={r.split(",")[1]} r="2" fill="#0b5cad" />))}
    </svg>
  );
}

function fmt(n: number): string {
  return n >= 100 ? n.toFixed(0) : n >= 1 ? n.toFixed(1) : n.toFixed(2);
}
