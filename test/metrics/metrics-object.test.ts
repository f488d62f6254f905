/**
 * The Metrics Durable Object (src/durable-objects/metrics.ts) and the
 * isolate batcher (src/metrics/recorder.ts): what a batch does to the
 * region's totals, what is refused, and that a gateway response never
 * waits for the object.
 */
import { env } from "cloudflare:workers";
import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/worker";
import { metricsObject, type Metrics } from "../../src/durable-objects/metrics";
import { labelKey, MAX_SERIES_PER_METRIC, TTFB_BUCKETS } from "../../src/metrics/catalog";
import type { MetricsDelta } from "../../src/metrics/delta";
import { countMetric, FLUSH_INTERVAL_MS, flushIntervalMs, flushMetrics } from "../../src/metrics/recorder";
import { GATEWAY_ORIGIN } from "../helpers/worker";

const region = () => `test-${crypto.randomUUID()}`;
const empty = (): MetricsDelta => ({ counters: [], histograms: [], served: [] });

describe("Metrics object", () => {
  it("adds counters and histogram buckets across batches; series() reports them with their bounds", async () => {
    const stub = metricsObject(env, region());
    const labels = labelKey({ upstream: "https://a.example" });
    const ttfb = (i: number) => Object.assign(new Array<number>(TTFB_BUCKETS.length + 1).fill(0), { [i]: 1 });
    await stub.record({ ...empty(), counters: [{ name: "ipfs_edge_upstream_wins_total", labels, value: 2 }], histograms: [{ name: "ipfs_edge_upstream_ttfb_seconds", labels, buckets: ttfb(0), sum: 0.005, count: 1 }] });
    await stub.record({ ...empty(), counters: [{ name: "ipfs_edge_upstream_wins_total", labels, value: 3 }], histograms: [{ name: "ipfs_edge_upstream_ttfb_seconds", labels, buckets: ttfb(3), sum: 0.07, count: 1 }] });
    const series = await stub.series();
    expect(series.counters).toEqual([{ name: "ipfs_edge_upstream_wins_total", labels: { upstream: "https://a.example" }, value: 5 }]);
    expect(series.histograms).toEqual([
      { name: "ipfs_edge_upstream_ttfb_seconds", labels: { upstream: "https://a.example" }, bounds: [...TTFB_BUCKETS], counts: ttfb(0).map((n, i) => n + ttfb(3)[i]!), sum: expect.closeTo(0.075, 9), count: 2 },
    ]);
    const [stats] = await stub.upstreamStats();
    expect(stats).toMatchObject({ upstream: "https://a.example", wins: 5, resumes: 0 });
    expect(stats!.ttfb.count).toBe(2);
  });

  it("refuses malformed batches whole: unknown metric, wrong labels, negative value, wrong bucket count", async () => {
    const stub = metricsObject(env, region());
    const bad: unknown[] = [
      { ...empty(), counters: [{ name: "no_such_metric", labels: "[]", value: 1 }] },
      { ...empty(), counters: [{ name: "ipfs_http_gw_responses_total", labels: labelKey({ nope: "1" }), value: 1 }] },
      { ...empty(), counters: [{ name: "ipfs_http_gw_responses_total", labels: labelKey({ code: "200" }), value: -1 }] },
      { ...empty(), histograms: [{ name: "ipfs_edge_upstream_ttfb_seconds", labels: labelKey({ upstream: "u" }), buckets: [1], sum: 1, count: 1 }] },
      { ...empty(), served: [{ minute: 123, requests: 1, bytes: 1, errors: 0 }] },
    ];
    await runInDurableObject(stub, (instance: Metrics) => {
      for (const delta of bad) expect(() => instance.record(delta as MetricsDelta)).toThrow(/^record: /);
    });
    expect((await stub.series()).counters).toEqual([]);
  });

  it("caps the label sets of one metric and counts what it dropped", async () => {
    const stub = metricsObject(env, region());
    const counters = Array.from({ length: MAX_SERIES_PER_METRIC + 3 }, (_, i) => ({
      name: "ipfs_edge_upstream_wins_total" as const, labels: labelKey({ upstream: `https://u${i}.example` }), value: 1,
    }));
    await stub.record({ ...empty(), counters });
    const series = await stub.series();
    expect(series.counters.filter((c) => c.name === "ipfs_edge_upstream_wins_total")).toHaveLength(MAX_SERIES_PER_METRIC);
    expect(series.counters.find((c) => c.name === "ipfs_edge_metrics_dropped_series_total")).toEqual({
      name: "ipfs_edge_metrics_dropped_series_total", labels: { metric: "ipfs_edge_upstream_wins_total" }, value: 3,
    });
  });

  it("servedOverTime: per-minute rows summed into steps, empty steps as zeros; the in-flight gauge forgets silent isolates", async () => {
    const stub = metricsObject(env, region());
    const now = Date.now();
    const minute = Math.floor(now / 60_000) * 60_000;
    await stub.record({
      ...empty(),
      served: [
        { minute: minute - 120_000, requests: 2, bytes: 100, errors: 1 },
        { minute, requests: 3, bytes: 50, errors: 0 },
      ],
      isolate: { id: "a", inFlight: 4, at: now },
    });
    await stub.record({ ...empty(), served: [{ minute, requests: 1, bytes: 1, errors: 0 }], isolate: { id: "b", inFlight: 2, at: now - 61_000 } });
    const points = await stub.servedOverTime(minute - 120_000, 60_000, now);
    expect(points).toEqual([
      { start: minute - 120_000, requests: 2, bytes: 100, errors: 1 },
      { start: minute - 60_000, requests: 0, bytes: 0, errors: 0 },
      { start: minute, requests: 4, bytes: 51, errors: 0 },
    ]);
    expect((await stub.series(now)).concurrentRequests).toBe(4);
  });

  it("a gateway response is complete while the Metrics object has not answered", async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let recorded = 0;
    const blocking = {
      getByName: () => ({
        record: async () => {
          recorded++;
          await held;
        },
      }),
    } as unknown as DurableObjectNamespace<Metrics>;
    const testEnv = { ...env, METRICS: blocking } as Env;
    const ctx = createExecutionContext();
    const res = await worker.fetch!(new Request(`${GATEWAY_ORIGIN}/ipfs/bafkqabtimvwgy3yk?format=raw`), testEnv, ctx);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("hello\n");
    // The batch left (or waits out its interval) after the response; the object has still not answered.
    const settled = waitOnExecutionContext(ctx);
    await new Promise((r) => setTimeout(r, 400));
    expect(recorded).toBe(1);
    release();
    await settled;
  });

  it("METRICS_FLUSH_MS: the interval between two record() of an isolate, 1 s unless set", async () => {
    const r = region();
    const testEnv = { ...env, METRICS_FLUSH_MS: "5000" } as Env;
    countMetric(r, "ipfs_http_gw_responses_total", { code: "200" });
    await flushMetrics(testEnv, r);
    countMetric(r, "ipfs_http_gw_responses_total", { code: "200" });
    const waited: number[] = [];
    await flushMetrics(testEnv, r, async (ms) => void waited.push(ms));
    expect(waited).toHaveLength(1);
    expect(waited[0]).toBeGreaterThan(4000);
    expect(waited[0]).toBeLessThanOrEqual(5000);
    expect((await metricsObject(env, r).series()).counters).toEqual([{ name: "ipfs_http_gw_responses_total", labels: { code: "200" }, value: 2 }]);
    expect(FLUSH_INTERVAL_MS).toBe(1000);
    expect([flushIntervalMs("250"), flushIntervalMs("0"), flushIntervalMs(" 5000 ")]).toEqual([250, 0, 5000]);
    expect([flushIntervalMs(undefined), flushIntervalMs(""), flushIntervalMs("soon"), flushIntervalMs("-1"), flushIntervalMs("1.5")]).toEqual(Array(5).fill(1000));
  });

  it("requests that ask for a flush while one is scheduled do not wait on it (no request awaits another's I/O): one record() carries every count", async () => {
    const r = region();
    let records = 0;
    const counting = {
      getByName: (name: string) => {
        const real = env.METRICS.getByName(name);
        return { record: async (delta: MetricsDelta) => (records++, await real.record(delta)) };
      },
    } as unknown as DurableObjectNamespace<Metrics>;
    const testEnv = { ...env, METRICS: counting } as Env;
    // A first flush goes at once (nothing was sent yet); the next one must wait out the interval.
    countMetric(r, "ipfs_http_gw_responses_total", { code: "200" });
    await flushMetrics(testEnv, r);
    expect(records).toBe(1);
    let release!: () => void;
    const interval = new Promise<void>((resolve) => (release = resolve));
    const flushes: Promise<void>[] = [];
    for (let i = 0; i < 6; i++) {
      countMetric(r, "ipfs_http_gw_responses_total", { code: "200" });
      flushes.push(flushMetrics(testEnv, r, () => interval));
    }
    // The five later requests are done at once, nothing sent yet; the first one's flush, still waiting, sends all six.
    let firstDone = false;
    void flushes[0]!.then(() => (firstDone = true));
    await Promise.all(flushes.slice(1));
    expect(records).toBe(1);
    expect(firstDone).toBe(false);
    release();
    await flushes[0];
    expect(records).toBe(2);
    // Nothing left: a flush now sends nothing.
    await flushMetrics(testEnv, r);
    expect(records).toBe(2);
    const series = await metricsObject(env, r).series();
    expect(series.counters).toEqual([{ name: "ipfs_http_gw_responses_total", labels: { code: "200" }, value: 7 }]);
  });

  it("every one of N concurrent gateway requests is counted once its request's waitUntil is done", async () => {
    const r = `T${crypto.randomUUID().slice(0, 8)}`;
    const n = 12;
    const ctxs = Array.from({ length: n }, () => createExecutionContext());
    const responses = await Promise.all(
      ctxs.map((ctx) => worker.fetch!(new Request(`${GATEWAY_ORIGIN}/ipfs/bafkqabtimvwgy3yk?format=raw`, { cf: { colo: r } } as RequestInit), env, ctx)),
    );
    for (const res of responses) expect(new TextDecoder().decode(await res.arrayBuffer())).toBe("hello\n");
    await Promise.all(ctxs.map((ctx) => waitOnExecutionContext(ctx)));
    const counters = (await metricsObject(env, r).series()).counters;
    expect(counters.find((c) => c.name === "ipfs_http_gw_responses_total")).toEqual({ name: "ipfs_http_gw_responses_total", labels: { code: "200" }, value: n });
    expect(counters.find((c) => c.name === "ipfs_edge_served_bytes_total")!.value).toBe(n * "hello\n".length);
  });
});
