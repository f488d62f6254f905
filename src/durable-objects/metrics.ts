/**
 * Metrics: the totals of one region (Cloudflare colo), so that a scrape of
 * `/metrics` sees what every isolate of the region counted, not one
 * isolate's share. One object per region, addressed by name
 * (`metricsObject(env, region)`); isolates send batches off the hot path
 * (src/metrics/recorder.ts) and never wait on it while serving. Pin work,
 * which runs in Durable Object alarms with no colo, files its counters under
 * the region PIN_WORK_REGION.
 *
 * Typed RPC methods (docs/operations.md "Metrics"):
 * - `record(delta)`: add an isolate's batch (counters, histogram buckets,
 *   per-minute traffic, its in-flight count);
 * - `series()`: every counter and histogram with its labels, and the
 *   region's in-flight gateway requests (what `/metrics` renders);
 * - `servedOverTime(sinceMs, stepMs)`: gateway requests, bytes and 5xx per
 *   step, from per-minute rows kept SERVED_RETENTION_MS (the dashboard's
 *   "requests and bytes served over time");
 * - `upstreamStats()`: per upstream, wins, resumes, invalid blocks, bytes,
 *   outcomes by result and the TTFB histogram (the dashboard's gateway panel).
 *
 * Storage (SQLite, docs/operations.md): `counters(name, labels, value)`,
 * `histograms(name, labels, buckets JSON, sum, count)`, `served(minute, …)`,
 * `isolates(id, in_flight, at)`. A metric holds at most
 * MAX_SERIES_PER_METRIC label sets; more are counted as dropped.
 */
import { DurableObject } from "cloudflare:workers";
import { bucketsOf, labelKey, MAX_SERIES_PER_METRIC, METRICS, parseLabelKey, TTFB_BUCKETS, type MetricDef, type MetricName } from "../metrics/catalog";
import type { MetricsDelta } from "../metrics/delta";
import { migrate } from "./sql-migrations";

/** The region pin work (alarms of PinRegistry objects) records its counters under. */
export const PIN_WORK_REGION = "pins";
/** Per-minute traffic rows are kept this long (7 days). */
export const SERVED_RETENTION_MS = 7 * 24 * 3_600_000;
/** An isolate that has not reported for this long no longer counts towards the in-flight gauge. */
export const ISOLATE_STALE_MS = 60_000;
/** A batch larger than this is a bug in the sender. */
const MAX_DELTA_ENTRIES = 10_000;

/** Numbered, append-only (src/durable-objects/sql-migrations.ts). */
const MIGRATIONS: readonly string[] = [
  /* 1 */ `
  CREATE TABLE counters (name TEXT NOT NULL, labels TEXT NOT NULL, value REAL NOT NULL, PRIMARY KEY (name, labels));
  CREATE TABLE histograms (name TEXT NOT NULL, labels TEXT NOT NULL, buckets TEXT NOT NULL, sum REAL NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY (name, labels));
  CREATE TABLE served (minute INTEGER PRIMARY KEY NOT NULL, requests INTEGER NOT NULL, bytes INTEGER NOT NULL, errors INTEGER NOT NULL);
  CREATE TABLE isolates (id TEXT PRIMARY KEY NOT NULL, in_flight INTEGER NOT NULL, at INTEGER NOT NULL);`,
];

export interface CounterSeries {
  name: MetricName;
  labels: Record<string, string>;
  value: number;
}

export interface HistogramSeries {
  name: MetricName;
  labels: Record<string, string>;
  /** Upper bounds (seconds), as in the catalog; counts has one more entry (+Inf). */
  bounds: number[];
  /** Observations per bucket, not cumulative. */
  counts: number[];
  sum: number;
  count: number;
}

export interface RegionSeries {
  region: string;
  counters: CounterSeries[];
  histograms: HistogramSeries[];
  /** Gateway requests in flight, summed over isolates heard from in the last ISOLATE_STALE_MS. */
  concurrentRequests: number;
}

export interface ServedPoint {
  /** Epoch ms of the step's start. */
  start: number;
  requests: number;
  bytes: number;
  errors: number;
}

export interface UpstreamStats {
  upstream: string;
  wins: number;
  resumes: number;
  invalidBlocks: number;
  verifiedBytes: number;
  /** Attempts by result (ok, not_found, error, timeout, invalid_block, aborted). */
  outcomes: Record<string, number>;
  ttfb: { bounds: number[]; counts: number[]; sum: number; count: number };
}

/** The stub of a region's Metrics object. */
export function metricsObject(env: Env, region: string): DurableObjectStub<Metrics> {
  return (env.METRICS as unknown as DurableObjectNamespace<Metrics>).getByName(region);
}

export class Metrics extends DurableObject<Env> {
  readonly #sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    void ctx.blockConcurrencyWhile(async () => migrate(ctx.storage, MIGRATIONS));
  }

  /** Adds an isolate's batch. Throws TypeError (and applies nothing) when it is malformed. */
  record(delta: MetricsDelta): void {
    checkDelta(delta);
    this.ctx.storage.transactionSync(() => {
      for (const c of delta.counters) {
        if (!this.#admit(c.name, c.labels)) continue;
        this.#sql.exec(
          "INSERT INTO counters (name, labels, value) VALUES (?, ?, ?) ON CONFLICT (name, labels) DO UPDATE SET value = value + excluded.value",
          c.name, c.labels, c.value,
        );
      }
      for (const h of delta.histograms) {
        if (!this.#admit(h.name, h.labels)) continue;
        const row = this.#sql.exec<{ buckets: string; sum: number; count: number }>(
          "SELECT buckets, sum, count FROM histograms WHERE name = ? AND labels = ?", h.name, h.labels,
        ).toArray()[0];
        const buckets = row ? (JSON.parse(row.buckets) as number[]) : new Array<number>(h.buckets.length).fill(0);
        h.buckets.forEach((n, i) => (buckets[i] = (buckets[i] ?? 0) + n));
        this.#sql.exec(
          "INSERT OR REPLACE INTO histograms (name, labels, buckets, sum, count) VALUES (?, ?, ?, ?, ?)",
          h.name, h.labels, JSON.stringify(buckets), (row?.sum ?? 0) + h.sum, (row?.count ?? 0) + h.count,
        );
      }
      for (const s of delta.served) {
        this.#sql.exec(
          `INSERT INTO served (minute, requests, bytes, errors) VALUES (?, ?, ?, ?) ON CONFLICT (minute) DO UPDATE SET
             requests = requests + excluded.requests, bytes = bytes + excluded.bytes, errors = errors + excluded.errors`,
          s.minute, s.requests, s.bytes, s.errors,
        );
      }
      if (delta.isolate) {
        this.#sql.exec("INSERT OR REPLACE INTO isolates (id, in_flight, at) VALUES (?, ?, ?)", delta.isolate.id, delta.isolate.inFlight, delta.isolate.at);
      }
      const now = Date.now();
      this.#sql.exec("DELETE FROM served WHERE minute < ?", now - SERVED_RETENTION_MS);
      this.#sql.exec("DELETE FROM isolates WHERE at < ?", now - 10 * ISOLATE_STALE_MS);
    });
  }

  /** Every series of this region, sorted by name then labels. */
  series(now: number = Date.now()): RegionSeries {
    const counters = this.#sql
      .exec<{ name: MetricName; labels: string; value: number }>("SELECT name, labels, value FROM counters ORDER BY name, labels")
      .toArray()
      .map((r) => ({ name: r.name, labels: parseLabelKey(r.labels), value: r.value }));
    const histograms = this.#sql
      .exec<{ name: MetricName; labels: string; buckets: string; sum: number; count: number }>("SELECT * FROM histograms ORDER BY name, labels")
      .toArray()
      .map((r) => ({
        name: r.name,
        labels: parseLabelKey(r.labels),
        bounds: [...bucketsOf(r.name)],
        counts: JSON.parse(r.buckets) as number[],
        sum: r.sum,
        count: r.count,
      }));
    const concurrentRequests =
      this.#sql.exec<{ n: number | null }>("SELECT SUM(in_flight) AS n FROM isolates WHERE at >= ?", now - ISOLATE_STALE_MS).one().n ?? 0;
    return { region: this.ctx.id.name ?? "", counters, histograms, concurrentRequests };
  }

  /** Gateway traffic since `sinceMs` in steps of `stepMs` (a multiple of a minute), oldest first; steps without traffic are zeros. */
  servedOverTime(sinceMs: number, stepMs: number = 60_000, now: number = Date.now()): ServedPoint[] {
    const step = Math.max(60_000, Math.round(stepMs / 60_000) * 60_000);
    const from = Math.floor(Math.max(sinceMs, now - SERVED_RETENTION_MS) / step) * step;
    if (!(now >= from) || (now - from) / step > 10_080) throw new RangeError("servedOverTime: at most 10080 steps");
    const points = new Map<number, ServedPoint>();
    for (let t = from; t <= now; t += step) points.set(t, { start: t, requests: 0, bytes: 0, errors: 0 });
    for (const r of this.#sql.exec<{ minute: number; requests: number; bytes: number; errors: number }>(
      "SELECT * FROM served WHERE minute >= ? ORDER BY minute", from,
    )) {
      const p = points.get(Math.floor(r.minute / step) * step);
      if (!p) continue;
      p.requests += r.requests;
      p.bytes += r.bytes;
      p.errors += r.errors;
    }
    return [...points.values()];
  }

  /** What this region counted per upstream, sorted by URL. */
  upstreamStats(): UpstreamStats[] {
    const stats = new Map<string, UpstreamStats>();
    const of = (upstream: string): UpstreamStats => {
      let s = stats.get(upstream);
      if (!s) {
        s = {
          upstream, wins: 0, resumes: 0, invalidBlocks: 0, verifiedBytes: 0, outcomes: {},
          ttfb: { bounds: [...TTFB_BUCKETS], counts: new Array<number>(TTFB_BUCKETS.length + 1).fill(0), sum: 0, count: 0 },
        };
        stats.set(upstream, s);
      }
      return s;
    };
    for (const r of this.#sql.exec<{ name: string; labels: string; value: number }>(
      "SELECT name, labels, value FROM counters WHERE name LIKE 'ipfs_edge_upstream_%'",
    )) {
      const labels = parseLabelKey(r.labels);
      if (!labels.upstream) continue;
      const s = of(labels.upstream);
      if (r.name === "ipfs_edge_upstream_wins_total") s.wins = r.value;
      else if (r.name === "ipfs_edge_upstream_resumes_total") s.resumes = r.value;
      else if (r.name === "ipfs_edge_upstream_invalid_blocks_total") s.invalidBlocks = r.value;
      else if (r.name === "ipfs_edge_upstream_verified_bytes_total") s.verifiedBytes = r.value;
      else if (r.name === "ipfs_edge_upstream_outcomes_total" && labels.result) s.outcomes[labels.result] = r.value;
    }
    for (const r of this.#sql.exec<{ labels: string; buckets: string; sum: number; count: number }>(
      "SELECT labels, buckets, sum, count FROM histograms WHERE name = 'ipfs_edge_upstream_ttfb_seconds'",
    )) {
      const upstream = parseLabelKey(r.labels).upstream;
      if (!upstream) continue;
      of(upstream).ttfb = { bounds: [...TTFB_BUCKETS], counts: JSON.parse(r.buckets) as number[], sum: r.sum, count: r.count };
    }
    return [...stats.values()].sort((a, b) => (a.upstream < b.upstream ? -1 : a.upstream > b.upstream ? 1 : 0));
  }

  /** Whether a (name, labels) series exists or may be created; a refused one is counted. */
  #admit(name: MetricName, labels: string): boolean {
    const table = METRICS[name].type === "histogram" ? "histograms" : "counters";
    if (this.#sql.exec(`SELECT 1 FROM ${table} WHERE name = ? AND labels = ?`, name, labels).toArray().length > 0) return true;
    const n = this.#sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table} WHERE name = ?`, name).one().n;
    if (n < MAX_SERIES_PER_METRIC) return true;
    this.#sql.exec(
      "INSERT INTO counters (name, labels, value) VALUES ('ipfs_edge_metrics_dropped_series_total', ?, 1) ON CONFLICT (name, labels) DO UPDATE SET value = value + 1",
      labelKey({ metric: name }),
    );
    return false;
  }
}

function checkDelta(d: MetricsDelta): void {
  const fail = (what: string) => {
    throw new TypeError(`record: ${what}`);
  };
  if (typeof d !== "object" || d === null || !Array.isArray(d.counters) || !Array.isArray(d.histograms) || !Array.isArray(d.served)) fail("not a delta");
  if (d.counters.length + d.histograms.length + d.served.length > MAX_DELTA_ENTRIES) fail("batch too large");
  const labelsOk = (labels: unknown, names: readonly string[]) => {
    if (typeof labels !== "string" || labels.length > 4096) return false;
    try {
      const parsed = JSON.parse(labels) as unknown;
      return Array.isArray(parsed) && parsed.every((p) => Array.isArray(p) && p.length === 2 && names.includes(p[0]) && typeof p[1] === "string");
    } catch {
      return false;
    }
  };
  const count = (n: unknown) => typeof n === "number" && Number.isFinite(n) && n >= 0;
  for (const c of d.counters) {
    const def = METRICS[c.name] as MetricDef | undefined;
    if (def?.type !== "counter" || !labelsOk(c.labels, def.labels) || !count(c.value)) fail(`bad counter ${String(c.name)}`);
  }
  for (const h of d.histograms) {
    const def = METRICS[h.name] as MetricDef | undefined;
    const ok = def?.type === "histogram" && labelsOk(h.labels, def.labels) && Array.isArray(h.buckets) &&
      h.buckets.length === (def.buckets?.length ?? -2) + 1 && h.buckets.every(count) && count(h.count) && typeof h.sum === "number" && Number.isFinite(h.sum);
    if (!ok) fail(`bad histogram ${String(h.name)}`);
  }
  for (const s of d.served) {
    if (!count(s.minute) || s.minute % 60_000 !== 0 || !count(s.requests) || !count(s.bytes) || !count(s.errors)) fail("bad served entry");
  }
  if (d.isolate !== undefined && (typeof d.isolate.id !== "string" || d.isolate.id.length > 64 || !count(d.isolate.inFlight) || !count(d.isolate.at))) fail("bad isolate");
}
