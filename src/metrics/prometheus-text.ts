/**
 * Renders series in the Prometheus text exposition format 0.0.4
 * (prometheus.io/docs/instrumenting/exposition_formats: `# HELP`, `# TYPE`,
 * one sample per line, label values escaped, histograms as cumulative
 * `_bucket{le=…}` plus `_sum` and `_count`).
 */
import { METRICS, type MetricName } from "./catalog";
import type { CounterSeries, HistogramSeries } from "../durable-objects/metrics";

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export interface Exposition {
  counters: CounterSeries[];
  histograms: HistogramSeries[];
  /** Gauges computed at scrape time. */
  gauges: { name: MetricName; labels: Record<string, string>; value: number }[];
}

export function renderPrometheus(e: Exposition): string {
  const lines: string[] = [];
  for (const [name, def] of Object.entries(METRICS) as [MetricName, (typeof METRICS)[MetricName]][]) {
    lines.push(`# HELP ${name} ${escapeHelp(def.help)}`, `# TYPE ${name} ${def.type}`);
    if (def.type === "histogram") {
      for (const h of e.histograms.filter((s) => s.name === name)) {
        let cumulative = 0;
        h.bounds.forEach((le, i) => {
          cumulative += h.counts[i] ?? 0;
          lines.push(sample(`${name}_bucket`, { ...h.labels, le: formatNumber(le) }, cumulative));
        });
        lines.push(sample(`${name}_bucket`, { ...h.labels, le: "+Inf" }, h.count));
        lines.push(sample(`${name}_sum`, h.labels, h.sum), sample(`${name}_count`, h.labels, h.count));
      }
      continue;
    }
    const series = def.type === "counter" ? e.counters.filter((s) => s.name === name) : e.gauges.filter((s) => s.name === name);
    // A metric without labels always has its one sample, 0 until counted.
    if (series.length === 0 && def.labels.length === 0) lines.push(sample(name, {}, 0));
    for (const s of series) lines.push(sample(name, s.labels, s.value));
  }
  return lines.join("\n") + "\n";
}

function sample(name: string, labels: Record<string, string>, value: number): string {
  const entries = Object.entries(labels);
  const set = entries.length === 0 ? "" : `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}`;
  return `${name}${set} ${formatNumber(value)}`;
}

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  return String(n);
}

const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
const escapeHelp = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
