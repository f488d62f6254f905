/**
 * The isolate-local side: the snapshot cache behind healthView(), the
 * batched outcome sink and regionOf(). The object behind them is the real
 * GatewayHealth (env.GATEWAY_HEALTH); each test uses its own region, so each
 * starts with an empty cache entry and an empty object.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { gatewayHealth } from "../../src/durable-objects/gateway-health";
import { HEALTH_FLUSH_INTERVAL_MS, healthView, outcomeSink, PROBE_REGION, regionOf, REFRESH_AFTER_MS } from "../../src/gateway/upstream/health";
import type { UpstreamOutcome } from "../../src/gateway/upstream/outcome";

const A = "https://a.example";
const B = "https://b.example";
const C = "https://c.example";
const configured = [A, B, C];

let regions = 0;
const freshRegion = () => `test-view-${++regions}-${crypto.randomUUID()}`;

const ok = (upstream: string, ttfbMs: number, at = 1000): UpstreamOutcome => ({
  upstream,
  result: "ok",
  ttfbMs,
  bytes: 1000,
  durationMs: ttfbMs + 10,
  at,
});
const lie = (upstream: string, at = 1000): UpstreamOutcome => ({ upstream, result: "invalid_block", bytes: 0, durationMs: 5, at });

/** Lets a background refresh (one RPC) run to completion; a refresh that was never started changes nothing. */
async function settle(region: string): Promise<void> {
  await gatewayHealth(env, region).snapshot();
  await new Promise((resolve) => setTimeout(resolve, 50));
}

describe("healthView", () => {
  it("answers the first call from an empty snapshot (configured order) without waiting, then from the refreshed one", async () => {
    const region = freshRegion();
    // The object knows A lies and B is fast: a fresh snapshot ranks B, C, A.
    await gatewayHealth(env, region).report([lie(A), ok(B, 100)]);
    const t0 = Date.now();

    const first = healthView(env, region, t0);
    expect(first.rank(configured)).toEqual([A, B, C]);
    expect(first.hedgeDelayMs!(B)).toBeUndefined();

    await vi.waitFor(() => expect(healthView(env, region, t0 + 1).rank(configured)).toEqual([B, C, A]), {
      timeout: 5000,
      interval: 10,
    });
    expect(healthView(env, region, t0 + 1).hedgeDelayMs!(B)).toBe(200);
  });

  it("refreshes only when the snapshot is older than REFRESH_AFTER_MS", async () => {
    const region = freshRegion();
    const t0 = Date.now();
    healthView(env, region, t0); // starts the first refresh (of an empty object)
    await settle(region);
    expect(healthView(env, region, t0 + 1).rank(configured)).toEqual([A, B, C]);

    await gatewayHealth(env, region).report([lie(A, t0)]);
    // Younger than 5 s: served from the cache, no refresh started.
    expect(healthView(env, region, t0 + REFRESH_AFTER_MS - 1).rank(configured)).toEqual([A, B, C]);
    await settle(region);
    expect(healthView(env, region, t0 + REFRESH_AFTER_MS - 1).rank(configured)).toEqual([A, B, C]);

    // 5 s old: this call still answers from the old snapshot and starts a refresh.
    expect(healthView(env, region, t0 + REFRESH_AFTER_MS).rank(configured)).toEqual([A, B, C]);
    await vi.waitFor(() => expect(healthView(env, region, t0 + REFRESH_AFTER_MS).rank(configured)).toEqual([B, C, A]), {
      timeout: 5000,
      interval: 10,
    });
  });

  it("re-evaluates an open circuit at the time of the view: half-open after the cool-down ranks before open", async () => {
    const region = freshRegion();
    const t0 = Date.now();
    await gatewayHealth(env, region).report([lie(A, t0), lie(B, t0 + 1000)]);
    healthView(env, region, t0 + 2000);
    await vi.waitFor(() => expect(healthView(env, region, t0 + 2000).rank(configured)).toEqual([C, A, B]), {
      timeout: 5000,
      interval: 10,
    });
    // Same cached snapshot, 30 s later: A (opened first) is half-open, B still open.
    const later = t0 + 30_500;
    expect(healthView(env, region, later).rank([B, A, C])).toEqual([C, A, B]);
    // Both half-open: equal, so configured order.
    expect(healthView(env, region, t0 + 31_000).rank([B, A, C])).toEqual([C, B, A]);
  });

  it("suggests twice the TTFB EWMA as hedge delay, clamped to [50, 2000] ms", async () => {
    const region = freshRegion();
    await gatewayHealth(env, region).report([ok(A, 10), ok(B, 333), ok(C, 5000)]);
    const t0 = Date.now();
    healthView(env, region, t0);
    await vi.waitFor(() => expect(healthView(env, region, t0).hedgeDelayMs!(A)).toBe(50), { timeout: 5000, interval: 10 });
    const view = healthView(env, region, t0);
    expect([view.hedgeDelayMs!(B), view.hedgeDelayMs!(C), view.hedgeDelayMs!("https://unknown.example")]).toEqual([
      666,
      2000,
      undefined,
    ]);
  });
});

describe("outcomeSink", () => {
  it("sends the collected outcomes in one report on flush, and nothing when empty", async () => {
    const region = freshRegion();
    const sink = outcomeSink(env, region);
    await sink.flush(); // nothing collected: no call, the object stays empty
    expect((await gatewayHealth(env, region).snapshot()).upstreams).toEqual([]);

    sink.report(ok(A, 100));
    sink.report({ upstream: B, result: "not_found", bytes: 0, durationMs: 30, at: 1000 });
    expect((await gatewayHealth(env, region).snapshot()).upstreams).toEqual([]); // not before flush
    await sink.flush();
    const snap = await gatewayHealth(env, region).snapshot();
    expect(snap.upstreams.map((u) => [u.upstream, u.counts.ok, u.counts.notFound])).toEqual([
      [A, 1, 0],
      [B, 0, 1],
    ]);
    await sink.flush(); // already sent: not sent twice
    expect((await gatewayHealth(env, region).snapshot()).upstreams.map((u) => u.counts.ok)).toEqual([1, 0]);
  });

  it("never rejects: a failed report is logged and dropped", async () => {
    // A strict stub of the binding whose object fails (a rejecting real RPC leaks an
    // unhandled rejection under the vitest pool, workers-sdk#14736).
    const failing = {
      GATEWAY_HEALTH: { getByName: () => ({ report: () => Promise.reject(new Error("object overloaded")) }) },
    } as unknown as Env;
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const sink = outcomeSink(failing, "anywhere");
    sink.report(ok(A, 1));
    await expect(sink.flush()).resolves.toBeUndefined();
    expect(errors).toHaveBeenCalledWith("gateway health: report failed", "anywhere", "object overloaded");
    errors.mockRestore();
  });
});

/**
 * The real GATEWAY_HEALTH binding, with every report() call's batch size
 * recorded; with `hold`, a report reaches the object only once `hold` resolves.
 */
function countingHealth(hold?: Promise<void>): { env: Env; reports: number[] } {
  const reports: number[] = [];
  const real = env.GATEWAY_HEALTH as unknown as DurableObjectNamespace<import("../../src/durable-objects/gateway-health").GatewayHealth>;
  const GATEWAY_HEALTH = {
    getByName(name: string) {
      const stub = real.getByName(name);
      return {
        report: (batch: UpstreamOutcome[]) => (reports.push(batch.length), hold ? hold.then(() => stub.report(batch)) : stub.report(batch)),
        snapshot: () => stub.snapshot(),
      };
    },
  };
  return { env: { ...env, GATEWAY_HEALTH } as unknown as Env, reports };
}

describe("outcomeSink batches across requests", () => {
  it("sends the outcomes of many requests in one report, and every one of them arrives", async () => {
    const region = freshRegion();
    const { env: counting, reports } = countingHealth();
    // Eight requests, each with its own sink, report before any of them flushes.
    const sinks = Array.from({ length: 8 }, () => outcomeSink(counting, region));
    sinks.forEach((sink, i) => sink.report(ok(i % 2 === 0 ? A : B, 10 + i, 1000 + i)));
    await Promise.all(sinks.map((sink) => sink.flush()));
    expect(reports).toEqual([8]);
    const snap = await gatewayHealth(env, region).snapshot();
    expect(snap.upstreams.map((u) => [u.upstream, u.counts.ok])).toEqual([
      [A, 4],
      [B, 4],
    ]);
  });

  it("a flush within the interval of the last one waits it out, then takes what every request collected meanwhile", async () => {
    const region = freshRegion();
    const { env: counting, reports } = countingHealth();
    const first = outcomeSink(counting, region);
    first.report(ok(A, 10));
    await first.flush(); // the region's first batch leaves at once
    expect(reports).toEqual([1]);

    const waits: number[] = [];
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const wait = (ms: number) => (waits.push(ms), held);
    const second = outcomeSink(counting, region, wait);
    const third = outcomeSink(counting, region, wait);
    second.report(ok(A, 20));
    const flushing = second.flush();
    third.report(lie(B));
    const flushing3 = third.flush();
    await Promise.resolve();
    expect(reports).toEqual([1]); // both are waiting out the interval
    expect(waits).toHaveLength(2);
    for (const ms of waits) expect(ms).toBeGreaterThan(0);
    expect(Math.max(...waits)).toBeLessThanOrEqual(HEALTH_FLUSH_INTERVAL_MS);
    release();
    await Promise.all([flushing, flushing3]);
    expect(reports).toEqual([1, 2]); // one report with both requests' outcomes
    const snap = await gatewayHealth(env, region).snapshot();
    expect(snap.upstreams.map((u) => [u.upstream, u.counts.ok, u.counts.invalidBlock])).toEqual([
      [A, 2, 0],
      [B, 0, 1],
    ]);
  });

  it("a sink that reported nothing sends nothing, even when other requests' outcomes are waiting", async () => {
    const region = freshRegion();
    const { env: counting, reports } = countingHealth();
    const busy = outcomeSink(counting, region);
    busy.report(ok(A, 10));
    await outcomeSink(counting, region).flush();
    expect(reports).toEqual([]);
    await busy.flush();
    expect(reports).toEqual([1]);
  });
});

describe("a snapshot refresh keeps what the isolate learned from outcomes the object has not seen", () => {
  // The refresh replaces the isolate's view with the object's; outcomes still batched here, or in a report()
  // still in flight, are not in it yet and are applied again (health.ts refresh). Without that, the isolate
  // forgets a liar it just met and asks it again (a race's loser asked twice).
  const upstreams = () => ["liar", "other", "fast"].map((name) => `https://${name}-${crypto.randomUUID()}.example`) as [string, string, string];

  /** Waits for the refresh `healthView` started to land: the object knows `fast` (fast), the isolate did not. */
  async function refreshed(view: () => string[], fast: string): Promise<void> {
    await vi.waitFor(() => expect(view()[0]).toBe(fast), { timeout: 5000, interval: 10 });
  }

  /** What the region's object holds: [upstream, ok, invalidBlock, circuit] each. */
  async function objectView(region: string): Promise<unknown[][]> {
    return (await gatewayHealth(env, region).snapshot()).upstreams.map((u) => [u.upstream, u.counts.ok, u.counts.invalidBlock, u.circuit]);
  }

  it("outcomes still batched (not flushed): the refreshed view keeps them, then the flush brings them to the object", async () => {
    const region = freshRegion();
    const [liar, other, fast] = upstreams();
    const now = Date.now();
    await gatewayHealth(env, region).report([ok(fast, 5, now)]);
    const sink = outcomeSink(env, region);
    sink.report(lie(liar, now)); // one lie opens liar's circuit in this isolate's view
    const view = () => healthView(env, region, now).rank([liar, other, fast]);
    expect(view()).toEqual([other, fast, liar]); // the isolate's view; this first call starts a refresh
    await refreshed(view, fast);
    expect(view()).toEqual([fast, other, liar]);
    expect(await objectView(region)).toEqual([[fast, 1, 0, "closed"]]); // the object has not seen the lie

    await sink.flush();
    expect(await objectView(region)).toEqual([
      [fast, 1, 0, "closed"],
      [liar, 0, 1, "open"],
    ]);
  });

  it("a batch whose report() is in flight: the refreshed view keeps it, and it reaches the object once, when the call completes", async () => {
    const region = freshRegion();
    const [liar, other, fast] = upstreams();
    const now = Date.now();
    await gatewayHealth(env, region).report([ok(fast, 5, now)]);
    let release: () => void = () => {};
    const { env: holding, reports } = countingHealth(new Promise<void>((resolve) => (release = resolve)));
    const sink = outcomeSink(holding, region);
    sink.report(lie(liar, now));
    const flushing = sink.flush(); // the region's first batch leaves at once: its report() is held
    expect(reports).toEqual([1]);
    const view = () => healthView(holding, region, now).rank([liar, other, fast]);
    expect(view()).toEqual([other, fast, liar]);
    await refreshed(view, fast);
    expect(view()).toEqual([fast, other, liar]);
    expect(await objectView(region)).toEqual([[fast, 1, 0, "closed"]]); // the object has not seen the lie

    release();
    await flushing;
    expect(reports).toEqual([1]);
    expect(await objectView(region)).toEqual([
      [fast, 1, 0, "closed"],
      [liar, 0, 1, "open"],
    ]);
  });
});

describe("regionOf", () => {
  it("is the request's colo, or local without one", () => {
    expect(regionOf(new Request("https://gw.example/ipfs/bafkqaaa"))).toBe("local");
    expect(regionOf(new Request("https://gw.example/ipfs/bafkqaaa", { cf: { colo: "FRA" } }))).toBe("FRA");
  });
});

describe("probes reach every region's view", () => {
  it("an upstream the cron probe found down ranks last in a colo that never used it; the colo's own stats stay first-hand", async () => {
    const down = `https://down-${crypto.randomUUID()}.example`;
    const up = `https://up-${crypto.randomUUID()}.example`;
    const now = Date.now();
    const failed = (at: number) => ({ upstream: down, at, ok: false, checks: [{ kind: "raw" as const, ok: false, status: 500, ttfbMs: 3, error: "HTTP 500" }] });
    // Cron probes are filed under PROBE_REGION ("local"): three failures open the circuit there.
    await gatewayHealth(env, PROBE_REGION).recordProbe([failed(now - 3), failed(now - 2), failed(now - 1)]);

    const colo = freshRegion();
    healthView(env, colo, now); // first call: configured order, refresh started
    await vi.waitFor(() => expect(healthView(env, colo, now + 1).rank([down, up])).toEqual([up, down]), { timeout: 5000, interval: 10 });

    // The colo's own statistics win over the probe region's: it reported the "down" upstream fast and fine.
    const colo2 = freshRegion();
    await gatewayHealth(env, colo2).report([ok(down, 5, now), ok(up, 400, now)]);
    healthView(env, colo2, now);
    await vi.waitFor(() => expect(healthView(env, colo2, now + 1).rank([up, down])).toEqual([down, up]), { timeout: 5000, interval: 10 });
  });
});
