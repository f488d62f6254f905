/**
 * GatewayHealth through its RPC methods, with real SQLite storage
 * (env.GATEWAY_HEALTH). Time is the outcomes' own `at`, so every expected
 * value below is exact. Each test uses its own region (its own object).
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { gatewayHealth, type GatewayHealth, type UpstreamHealth } from "../../src/durable-objects/gateway-health";
import type { UpstreamOutcome } from "../../src/gateway/upstream/outcome";
import type { ProbeResult } from "../../src/gateway/upstream/health-snapshot";
import { byUpstream, rankUpstreams } from "../../src/gateway/upstream/health-score";

const A = "https://a.example";
const B = "https://b.example";

let regions = 0;
const freshRegion = () => `test-do-${++regions}-${crypto.randomUUID()}`;

function outcome(result: UpstreamOutcome["result"], at: number, extra: Partial<UpstreamOutcome> = {}): UpstreamOutcome {
  return { upstream: A, result, bytes: 0, durationMs: 0, at, ...extra };
}

function probe(ok: boolean, at: number, upstream = A): ProbeResult {
  return {
    upstream,
    at,
    ok,
    checks: [
      { kind: "raw", ok, status: ok ? 200 : 500, ttfbMs: 7, error: ok ? null : "expected status 200, got 500" },
      { kind: "car", ok: true, status: 200, ttfbMs: 9, error: null },
    ],
  };
}

const fresh: Omit<UpstreamHealth, "upstream"> = {
  counts: { ok: 0, notFound: 0, error: 0, timeout: 0, invalidBlock: 0, deviation: 0, aborted: 0 },
  successEwma: 1,
  ttfbEwmaMs: null,
  throughputEwmaBps: null,
  lastOkAt: null,
  lastErrorAt: null,
  consecutiveFailures: 0,
  circuit: "closed",
  openUntil: null,
  cooldownMs: 30_000,
  circuitChangedAt: null,
  lastProbe: null,
};

async function stateOf(region: string, now: number, upstream = A): Promise<UpstreamHealth | undefined> {
  const snap = await gatewayHealth(env, region).snapshot(now);
  return snap.upstreams.find((u) => u.upstream === upstream);
}

describe("GatewayHealth statistics", () => {
  it("keeps EWMAs of TTFB, throughput (only from ok outcomes of at least 64 KiB) and success with exact values", async () => {
    const region = freshRegion();
    const stub = gatewayHealth(env, region);
    await stub.report([
      // Deliberately out of order: the object applies them oldest first.
      outcome("ok", 2000, { ttfbMs: 200, bytes: 65_536, durationMs: 250 }), // 262144 B/s
      outcome("ok", 1000, { ttfbMs: 100, bytes: 131_072, durationMs: 1000 }), // 131072 B/s, first sample
      outcome("ok", 3000, { ttfbMs: 300, bytes: 65_535, durationMs: 1 }), // too small for throughput
      outcome("error", 4000),
      outcome("not_found", 5000, { ttfbMs: 40 }),
      outcome("aborted", 6000, { bytes: 1_000_000, durationMs: 1 }),
    ]);
    const snap = await stub.snapshot(10_000);
    expect(snap).toEqual({
      region,
      takenAt: 10_000,
      upstreams: [
        {
          ...fresh,
          upstream: A,
          counts: { ok: 3, notFound: 1, error: 1, timeout: 0, invalidBlock: 0, deviation: 0, aborted: 1 },
          // 100 → 100 + (200 - 100)/4 = 125 → 125 + (300 - 125)/4 = 168.75 → 168.75 + (40 - 168.75)/4 = 136.5625
          ttfbEwmaMs: 136.5625,
          // 131072 → 131072 + (262144 - 131072)/4 = 163840
          throughputEwmaBps: 163_840,
          // 1, 1, 1, then an error: 1 + (0 - 1)/4
          successEwma: 0.75,
          lastOkAt: 3000,
          lastErrorAt: 4000,
          consecutiveFailures: 1,
        },
      ],
    });
  });

  it("counts an aborted outcome and nothing else", async () => {
    const region = freshRegion();
    await gatewayHealth(env, region).report([outcome("aborted", 1000, { bytes: 200_000, durationMs: 10 })]);
    expect(await stateOf(region, 2000)).toEqual({
      ...fresh,
      upstream: A,
      counts: { ...fresh.counts, aborted: 1 },
    });
  });

  it("counts a deviation (valid blocks, not those asked for) apart from invalid blocks, and moves nothing else", async () => {
    const region = freshRegion();
    await gatewayHealth(env, region).report([outcome("deviation", 1000, { ttfbMs: 20, bytes: 300_000, durationMs: 10 })]);
    expect(await stateOf(region, 2000)).toEqual({
      ...fresh,
      upstream: A,
      counts: { ...fresh.counts, deviation: 1 },
      ttfbEwmaMs: 20,
    });
  });

  it("takes a race loser's TTFB lower bound into the TTFB average, and nothing else", async () => {
    const region = freshRegion();
    // The session sets ttfbMs on a loser only when it had at least the winner's time without a block.
    await gatewayHealth(env, region).report([outcome("aborted", 1000, { ttfbMs: 300, bytes: 0, durationMs: 300 })]);
    expect(await stateOf(region, 2000)).toEqual({
      ...fresh,
      upstream: A,
      counts: { ...fresh.counts, aborted: 1 },
      ttfbEwmaMs: 300,
    });
  });

  it("rejects a malformed batch as a whole and applies nothing", async () => {
    const region = freshRegion();
    const stub = gatewayHealth(env, region);
    const bad = { upstream: A, result: "great", bytes: 0, durationMs: 0, at: 1 } as unknown as UpstreamOutcome;
    // Called on the instance: a rejecting RPC leaks an unhandled rejection under the vitest pool (workers-sdk#14736).
    await runInDurableObject(stub, (instance: GatewayHealth) => {
      expect(() => instance.report([outcome("ok", 1), bad])).toThrow("report: outcome 1 is malformed");
      expect(() => instance.report([outcome("ok", Number.NaN)])).toThrow("report: outcome 0 is malformed");
      expect(() => instance.report([outcome("ok", 1, { upstream: "" })])).toThrow("report: outcome 0 is malformed");
    });
    expect((await stub.snapshot(5)).upstreams).toEqual([]);
  });

  it("persists across eviction, with the schema migrated once", async () => {
    const region = freshRegion();
    const stub = gatewayHealth(env, region);
    await stub.report([outcome("ok", 1000, { ttfbMs: 80 }), outcome("timeout", 2000, { upstream: B })]);
    await stub.recordProbe([probe(true, 3000)]);
    const before = await stub.snapshot(4000);
    expect(before.upstreams.map((u) => u.upstream)).toEqual([A, B]);

    await evictDurableObject(stub);
    const after = await gatewayHealth(env, region).snapshot(4000);
    expect(after).toEqual(before);
    const versions = await runInDurableObject(gatewayHealth(env, region), (_instance, state) =>
      state.storage.sql.exec<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version").toArray(),
    );
    expect(versions.map((v) => v.version)).toEqual([1, 2, 3, 4]);
  });
});

describe("GatewayHealth circuit", () => {
  it("opens after 3 consecutive failures, goes half-open after 30 s, re-opens for 60 s on a failure, closes on a success", async () => {
    const region = freshRegion();
    const stub = gatewayHealth(env, region);
    await stub.report([outcome("error", 1000), outcome("timeout", 2000)]);
    expect(await stateOf(region, 2000)).toMatchObject({ circuit: "closed", consecutiveFailures: 2 });

    // A success resets the run of failures.
    await stub.report([outcome("ok", 2500), outcome("error", 2600), outcome("error", 2700)]);
    expect(await stateOf(region, 2700)).toMatchObject({ circuit: "closed", consecutiveFailures: 2 });

    // not_found is not the upstream's failure.
    await stub.report([outcome("not_found", 2800), outcome("not_found", 2900), outcome("not_found", 2950)]);
    expect(await stateOf(region, 2950)).toMatchObject({ circuit: "closed", consecutiveFailures: 2 });

    await stub.report([outcome("timeout", 3000)]);
    expect(await stateOf(region, 3000)).toMatchObject({
      circuit: "open",
      consecutiveFailures: 3,
      openUntil: 33_000,
      cooldownMs: 30_000,
      circuitChangedAt: 3000,
    });
    expect((await stateOf(region, 32_999))!.circuit).toBe("open");
    expect((await stateOf(region, 33_000))!.circuit).toBe("half_open");

    // While cooling down, a last-resort success counts but does not close.
    await stub.report([outcome("ok", 10_000)]);
    expect(await stateOf(region, 10_000)).toMatchObject({ circuit: "open", counts: { ok: 2 }, lastOkAt: 10_000 });

    // Half-open, then a failure: open again, cool-down doubled.
    await stub.report([outcome("error", 40_000)]);
    expect(await stateOf(region, 40_000)).toMatchObject({
      circuit: "open",
      openUntil: 100_000,
      cooldownMs: 60_000,
      circuitChangedAt: 40_000,
    });

    // Half-open again at 100 s; a success closes it and resets the cool-down.
    await stub.report([outcome("ok", 100_000, { ttfbMs: 50 })]);
    expect(await stateOf(region, 100_000)).toMatchObject({
      circuit: "closed",
      openUntil: null,
      cooldownMs: 30_000,
      consecutiveFailures: 0,
      circuitChangedAt: 100_000,
    });

    // Reports that were observed before the circuit last changed do not move it.
    await stub.report([outcome("invalid_block", 99_000), outcome("error", 99_500)]);
    expect(await stateOf(region, 100_000)).toMatchObject({
      circuit: "closed",
      consecutiveFailures: 0,
      counts: { invalidBlock: 1, error: 5 },
      lastErrorAt: 99_500,
    });
  });

  it("opens on a single invalid block (a lying upstream)", async () => {
    const region = freshRegion();
    await gatewayHealth(env, region).report([outcome("invalid_block", 5000, { ttfbMs: 20, bytes: 100 })]);
    expect(await stateOf(region, 5000)).toEqual({
      ...fresh,
      upstream: A,
      counts: { ...fresh.counts, invalidBlock: 1 },
      successEwma: 0.75,
      ttfbEwmaMs: 20,
      lastErrorAt: 5000,
      consecutiveFailures: 3,
      circuit: "open",
      openUntil: 35_000,
      circuitChangedAt: 5000,
    });
  });

  it("doubles the cool-down on each half-open failure up to 10 minutes", async () => {
    const region = freshRegion();
    const stub = gatewayHealth(env, region);
    await stub.report([outcome("invalid_block", 0)]);
    const cooldowns: number[] = [];
    let at = 0;
    for (let i = 0; i < 6; i++) {
      const s = await stateOf(region, at);
      at = s!.openUntil!; // the moment it turns half-open
      await stub.report([outcome("timeout", at)]);
      cooldowns.push((await stateOf(region, at))!.cooldownMs);
    }
    expect(cooldowns).toEqual([60_000, 120_000, 240_000, 480_000, 600_000, 600_000]);
  });

  it("takes cron probes into the circuit: a pass closes half-open, a failure counts like an error, the last probe is kept", async () => {
    const region = freshRegion();
    const stub = gatewayHealth(env, region);
    await stub.recordProbe([probe(false, 1000), probe(true, 1000, B)]);
    expect(await stateOf(region, 1000)).toMatchObject({ circuit: "closed", consecutiveFailures: 1, lastErrorAt: null });
    await stub.report([outcome("error", 2000), outcome("error", 3000)]);
    expect((await stateOf(region, 3000))!.circuit).toBe("open");

    // A pass during the cool-down changes nothing; after it, it closes the half-open circuit.
    await stub.recordProbe([probe(true, 20_000)]);
    expect((await stateOf(region, 20_000))!.circuit).toBe("open");
    await stub.recordProbe([probe(true, 33_000)]);
    const a = await stateOf(region, 33_000);
    expect(a).toMatchObject({ circuit: "closed", circuitChangedAt: 33_000, consecutiveFailures: 0 });
    // Probes stay out of the traffic statistics (the two errors are the reported ones).
    expect(a!.counts).toEqual({ ...fresh.counts, error: 2 });
    expect(a!.ttfbEwmaMs).toBeNull();
    expect(a!.lastProbe).toEqual(probe(true, 33_000));
    expect((await stateOf(region, 33_000, B))!.lastProbe).toEqual(probe(true, 1000, B));

    // Called on the instance: a rejecting RPC leaks an unhandled rejection under the vitest pool (workers-sdk#14736).
    await runInDurableObject(stub, (instance: GatewayHealth) => {
      expect(() => instance.recordProbe([{ ...probe(true, 1), ok: false }])).toThrow("recordProbe: result 0 is malformed");
    });
  });
});

describe("rank from a GatewayHealth snapshot", () => {
  it("orders closed by score, then half-open, then open; unknown upstreams keep their configured order", async () => {
    const region = freshRegion();
    const stub = gatewayHealth(env, region);
    const fast = "https://fast.example";
    const slow = "https://slow.example";
    const lying = "https://lying.example";
    const recovering = "https://recovering.example";
    await stub.report([
      { upstream: fast, result: "ok", ttfbMs: 100, bytes: 10, durationMs: 120, at: 1000 }, // score 500/600 × 3/4 = 0.625
      { upstream: slow, result: "ok", ttfbMs: 2000, bytes: 10, durationMs: 2100, at: 1000 }, // score 500/2500 × 3/4 = 0.15
      { upstream: lying, result: "invalid_block", bytes: 0, durationMs: 10, at: 1000 },
      { upstream: recovering, result: "invalid_block", bytes: 0, durationMs: 10, at: 0 },
    ]);
    const configured = [lying, "https://new-1.example", slow, recovering, fast, "https://new-2.example"];
    const known = byUpstream(await stub.snapshot(30_500));
    // At 30.5 s "recovering" (opened at 0) is half-open, "lying" (opened at 1 s) still open.
    expect(rankUpstreams(known, configured, 30_500)).toEqual([
      fast,
      "https://new-1.example", // unknown: 0.375
      "https://new-2.example",
      slow,
      recovering,
      lying,
    ]);
  });
});

describe("GatewayHealth stays bounded (providers and pin origins are upstreams too)", () => {
  const DAY = 86_400_000;
  const names = async (region: string) => (await gatewayHealth(env, region).snapshot(0)).upstreams.map((u) => u.upstream);

  it("an upstream not seen for HEALTH_MAX_AGE_MS (7 days) before the newest observation is dropped, with its probe; a configured one never", async () => {
    const region = freshRegion();
    const stub = gatewayHealth(env, region);
    const configured = env.UPSTREAMS.split(",")[0]!;
    const t0 = 1_000 * DAY;
    await stub.report([
      outcome("ok", t0, { upstream: "https://provider-old.example" }),
      outcome("ok", t0, { upstream: configured }),
      outcome("ok", t0 + 2 * DAY, { upstream: "https://provider-mid.example" }),
    ]);
    await stub.recordProbe([probe(true, t0, "https://provider-old.example")]);
    expect(await names(region)).toEqual([configured, "https://provider-mid.example", "https://provider-old.example"].sort());

    // Newest observation 7 days + 1 ms after provider-old was last seen: it goes; mid (5 days) stays.
    await stub.report([outcome("not_found", t0 + 7 * DAY + 1, { upstream: "https://provider-new.example" })]);
    expect(await names(region)).toEqual([configured, "https://provider-mid.example", "https://provider-new.example"].sort());
    const probes = await runInDurableObject(stub, (_i, state) => state.storage.sql.exec("SELECT upstream FROM probe_checks").toArray());
    expect(probes).toEqual([]);

    // Seen again (a late report of an older time does not make it older): kept.
    await stub.report([outcome("ok", t0 + 8 * DAY, { upstream: "https://provider-mid.example" }), outcome("ok", t0 + DAY, { upstream: "https://provider-mid.example" })]);
    await stub.report([outcome("ok", t0 + 13 * DAY, { upstream: "https://provider-new.example" })]);
    expect(await names(region)).toEqual([configured, "https://provider-mid.example", "https://provider-new.example"].sort());
    await stub.report([outcome("ok", t0 + 15 * DAY + 1, { upstream: "https://provider-new.example" })]);
    expect(await names(region)).toEqual([configured, "https://provider-new.example"].sort());
  });

  it("past HEALTH_MAX_UPSTREAMS (1000) rows a region keeps the most recently seen; the configured upstream stays however old", async () => {
    const region = freshRegion();
    const stub = gatewayHealth(env, region);
    const configured = env.UPSTREAMS.split(",")[0]!;
    const t0 = 2_000 * DAY;
    await stub.report([outcome("ok", t0, { upstream: configured })]);
    const provider = (i: number) => `https://provider-${String(i).padStart(4, "0")}.example`;
    // 1200 distinct providers (an IPNI answer stream), seen one second apart.
    for (let batch = 0; batch < 1200; batch += 400) {
      await stub.report(Array.from({ length: 400 }, (_, k) => outcome("not_found", t0 + (batch + k + 1) * 1000, { upstream: provider(batch + k) })));
    }
    const kept = await names(region);
    expect(kept).toHaveLength(1000);
    expect(kept).toContain(configured);
    // The 999 most recently seen providers: 201..1199.
    expect(kept.filter((u) => u !== configured)).toEqual(Array.from({ length: 999 }, (_, i) => provider(201 + i)));
  });
});
