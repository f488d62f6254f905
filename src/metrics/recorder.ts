/**
 * The request path's side of the Metrics objects (STYLE.md #8: a gateway
 * request never waits on a Durable Object). Outcomes are added to a batch
 * kept in this isolate, one per region; `flushMetrics()` — always called
 * from `ctx.waitUntil`, after the response — sends the batch in one
 * `record()` RPC, at most once per `METRICS_FLUSH_MS` per isolate and region:
 * the first flush asked for waits out the rest of the interval (one timer per
 * isolate and region, not one per request) and takes everything collected
 * until it wakes; a request that asks meanwhile returns at once, its counts
 * already in that batch. It does not wait on the scheduled flush: workerd
 * cancels a request's wait on a promise another request's I/O settles once
 * that request is done ("Promise will never complete", logged for every
 * such request under load); the request that scheduled the flush holds it
 * in its own `waitUntil`. Counts added while its RPC is in flight go with
 * the next one. Losing a batch (the object unreachable) loses those counts, never a
 * request.
 */
import { metricsObject } from "../durable-objects/metrics";
import { bucketIndex, bucketsOf, labelKey, type CounterName, type HistogramName } from "./catalog";
import type { MetricsDelta } from "./delta";

/** `METRICS_FLUSH_MS` when unset or malformed. */
export const FLUSH_INTERVAL_MS = 1000;

/**
 * `METRICS_FLUSH_MS`: at most one `record()` per isolate and region in
 * this window (ms). Every isolate of a colo writes to that colo's one
 * object, each write a SQLite commit: at 250 ms, 4 commits a second per
 * isolate, which under load on `wrangler dev` (the object on the worker's
 * own thread) was ~7 % of a cached block's CPU. Prometheus scrapes every
 * 15 s or more; a second of delay is not seen.
 */
export function flushIntervalMs(value: string | undefined): number {
  const n = Number(value);
  return value !== undefined && value.trim() !== "" && Number.isSafeInteger(n) && n >= 0 ? n : FLUSH_INTERVAL_MS;
}

/**
 * A random name for this isolate (its in-flight count is kept per isolate by
 * the object), made on first use: workerd forbids generating random values
 * in global scope, and the worker would not start under wrangler dev.
 */
let isolateId: string | undefined;
const ISOLATE_ID = (): string => (isolateId ??= crypto.randomUUID());

interface Pending {
  counters: Map<string, { name: CounterName; labels: string; value: number }>;
  histograms: Map<string, { name: HistogramName; labels: string; buckets: number[]; sum: number; count: number }>;
  served: Map<number, { minute: number; requests: number; bytes: number; errors: number }>;
  lastFlushAt: number;
  /** The flush scheduled for this region (held by the waitUntil of the request that scheduled it). */
  scheduled: Promise<void> | undefined;
}

const pending = new Map<string, Pending>();
let inFlight = 0;

function batch(region: string): Pending {
  let p = pending.get(region);
  if (p === undefined) {
    p = { counters: new Map(), histograms: new Map(), served: new Map(), lastFlushAt: 0, scheduled: undefined };
    pending.set(region, p);
  }
  return p;
}

/** Adds `value` to a counter of `region`. */
export function countMetric(region: string, name: CounterName, labels: Record<string, string> = {}, value = 1): void {
  if (!(value > 0) || !Number.isFinite(value)) return;
  const key = labelKey(labels);
  const p = batch(region);
  const entry = p.counters.get(name + key);
  if (entry) entry.value += value;
  else p.counters.set(name + key, { name, labels: key, value });
}

/** Records one observation (seconds) into a histogram of `region`. */
export function observeMetric(region: string, name: HistogramName, labels: Record<string, string>, seconds: number): void {
  if (!Number.isFinite(seconds) || seconds < 0) return;
  const buckets = bucketsOf(name);
  const key = labelKey(labels);
  const p = batch(region);
  let entry = p.histograms.get(name + key);
  if (!entry) {
    entry = { name, labels: key, buckets: new Array<number>(buckets.length + 1).fill(0), sum: 0, count: 0 };
    p.histograms.set(name + key, entry);
  }
  entry.buckets[bucketIndex(buckets, seconds)]! += 1;
  entry.sum += seconds;
  entry.count += 1;
}

/** One gateway response for the per-minute traffic series. */
export function recordServed(region: string, at: number, bytes: number, error: boolean): void {
  const minute = Math.floor(at / 60_000) * 60_000;
  const p = batch(region);
  const entry = p.served.get(minute) ?? { minute, requests: 0, bytes: 0, errors: 0 };
  entry.requests += 1;
  entry.bytes += bytes;
  entry.errors += error ? 1 : 0;
  p.served.set(minute, entry);
}

/** Gateway requests this isolate is serving (`ipfs_http_gw_concurrent_requests`). */
export function requestStarted(): void {
  inFlight++;
}
export function requestEnded(): void {
  inFlight = Math.max(0, inFlight - 1);
}
export function isolateInFlight(): number {
  return inFlight;
}

/**
 * Sends what this isolate collected for `region`. Never rejects; meant for
 * `ctx.waitUntil`. Resolves at once when a flush is already scheduled (that
 * flush takes these counts; its own request's waitUntil keeps the isolate
 * up until it is sent). `wait` replaces the timer (tests).
 */
export function flushMetrics(env: Env, region: string, wait: (ms: number) => Promise<void> = sleep): Promise<void> {
  const p = pending.get(region);
  if (p === undefined) return Promise.resolve();
  if (p.scheduled !== undefined) return Promise.resolve();
  if (empty(p)) return Promise.resolve();
  const delay = p.lastFlushAt + flushIntervalMs(env.METRICS_FLUSH_MS) - Date.now();
  // `.then` runs after this assignment even with no delay: later requests find it scheduled until it sends.
  const scheduled = (delay > 0 ? wait(delay) : Promise.resolve())
    .catch(() => undefined)
    .then(() => {
      // From here on, a new outcome schedules the next flush.
      p.scheduled = undefined;
      return send(env, region, p);
    });
  p.scheduled = scheduled;
  return scheduled;
}

async function send(env: Env, region: string, p: Pending): Promise<void> {
  if (empty(p)) return;
  p.lastFlushAt = Date.now();
  const delta: MetricsDelta = {
    counters: [...p.counters.values()],
    histograms: [...p.histograms.values()],
    served: [...p.served.values()],
    isolate: { id: ISOLATE_ID(), inFlight, at: Date.now() },
  };
  p.counters = new Map();
  p.histograms = new Map();
  p.served = new Map();
  try {
    await metricsObject(env, region).record(delta);
  } catch (err) {
    console.error(JSON.stringify({ msg: "metrics: record failed", region, error: err instanceof Error ? err.message : String(err) }));
  }
}

function empty(p: Pending): boolean {
  return p.counters.size === 0 && p.histograms.size === 0 && p.served.size === 0;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
