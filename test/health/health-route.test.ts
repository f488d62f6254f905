/**
 * End to end through the worker: its scheduled handler probes the configured
 * upstream (vitest.config.ts: UPSTREAMS = `${upstreamBase}/honest`) into
 * region "local", and `GET /api/v1/health/gateways` shows it. The tests of
 * this file run in order and share region "local".
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { PROBE_CRON, runScheduled } from "../../src/cron/scheduled";
import { gatewayHealth } from "../../src/durable-objects/gateway-health";
import worker from "../../src/worker";

const base = inject("upstreamBase");
const honest = `${base}/honest`;
const broken = `${base}/status-500`;

const get = (path: string) => exports.default.fetch(new Request(`http://gateway.test${path}`));

const iso = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
const passedCheck = (kind: "raw" | "car") => ({ kind, ok: true, status: 200, ttfbMs: expect.any(Number), error: null });
const defaults = {
  counts: { ok: 0, notFound: 0, error: 0, timeout: 0, invalidBlock: 0, deviation: 0, aborted: 0 },
  successEwma: 1,
  ttfbEwmaMs: null,
  throughputEwmaBytesPerSecond: null,
  lastOkAt: null,
  lastErrorAt: null,
  hedgeDelayMs: null,
  score: 0.375,
  openUntil: null,
};

describe("GET /api/v1/health/gateways", () => {
  it("lists a configured upstream the region never heard of with default values", async () => {
    const res = await get("/api/v1/health/gateways?region=never-seen");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("application/json");
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(await res.json()).toEqual({
      region: "never-seen",
      takenAt: iso,
      upstreams: [
        {
          ...defaults,
          url: honest,
          configured: true,
          rank: 1,
          known: false,
          circuit: "closed",
          cooldownMs: null,
          consecutiveFailures: 0,
          successEwma: null,
          lastProbe: null,
        },
      ],
    });
  });

  it("shows the probe the cron trigger ran through the worker's scheduled handler", async () => {
    const ctx = createExecutionContext();
    // Resolves once the handler is done (a job that throws would reject here).
    await worker.scheduled(createScheduledController({ cron: PROBE_CRON, scheduledTime: Date.now() }), env, ctx);
    await waitOnExecutionContext(ctx);

    // No ?region: a request without cf data is served in region "local", where the cron files its probes.
    const res = await get("/api/v1/health/gateways");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      region: "local",
      takenAt: iso,
      upstreams: [
        {
          ...defaults,
          url: honest,
          configured: true,
          rank: 1,
          known: true,
          circuit: "closed",
          cooldownMs: 30_000,
          consecutiveFailures: 0,
          lastProbe: { at: iso, ok: true, checks: [passedCheck("raw"), passedCheck("car")] },
        },
      ],
    });
  });

  it("ranks from reported outcomes and lists upstreams no longer configured after the configured ones", async () => {
    // runScheduled with a fake controller and an env naming one more (broken) upstream.
    await runScheduled(
      { cron: PROBE_CRON, scheduledTime: Date.now(), noRetry() {} },
      { ...env, UPSTREAMS: `${honest},${broken}` },
      createExecutionContext(),
    );
    await gatewayHealth(env, "local").report([
      { upstream: honest, result: "ok", ttfbMs: 100, bytes: 262_144, durationMs: 250, at: Date.parse("2026-01-01T00:00:00Z") },
      { upstream: broken, result: "error", bytes: 0, durationMs: 5, at: Date.parse("2026-01-01T00:00:01Z") },
    ]);

    const body = (await (await get("/api/v1/health/gateways?region=local")).json()) as { upstreams: unknown[] };
    expect(body.upstreams).toEqual([
      {
        url: honest,
        configured: true,
        rank: 1,
        known: true,
        circuit: "closed",
        openUntil: null,
        cooldownMs: 30_000,
        // 500/600 × (1/2 + 1/2 × 1048576/(1048576 + 1048576)) = 5/6 × 3/4
        score: (500 / 600) * 0.75,
        hedgeDelayMs: 200,
        counts: { ok: 1, notFound: 0, error: 0, timeout: 0, invalidBlock: 0, deviation: 0, aborted: 0 },
        consecutiveFailures: 0,
        successEwma: 1,
        ttfbEwmaMs: 100,
        throughputEwmaBytesPerSecond: 1_048_576,
        lastOkAt: "2026-01-01T00:00:00.000Z",
        lastErrorAt: null,
        lastProbe: { at: iso, ok: true, checks: [passedCheck("raw"), passedCheck("car")] },
      },
      {
        url: broken,
        configured: false,
        rank: null,
        known: true,
        circuit: "closed",
        openUntil: null,
        cooldownMs: 30_000,
        score: 0.75 * 0.5 * 0.75,
        hedgeDelayMs: null,
        counts: { ok: 0, notFound: 0, error: 1, timeout: 0, invalidBlock: 0, deviation: 0, aborted: 0 },
        // The failed probe and the error.
        consecutiveFailures: 2,
        successEwma: 0.75,
        ttfbEwmaMs: null,
        throughputEwmaBytesPerSecond: null,
        lastOkAt: null,
        lastErrorAt: "2026-01-01T00:00:01.000Z",
        lastProbe: {
          at: iso,
          ok: false,
          checks: [
            { kind: "raw", ok: false, status: 500, ttfbMs: expect.any(Number), error: "expected status 200, got 500" },
            { kind: "car", ok: false, status: 500, ttfbMs: expect.any(Number), error: "expected status 200, got 500" },
          ],
        },
      },
    ]);
  });

  it("answers 400 to a region that is not a region name", async () => {
    const res = await get("/api/v1/health/gateways?region=no%20such%2Fregion");
    expect(res.status).toBe(400);
    expect(await res.text()).toBe("region must be 1 to 64 letters, digits, '-' or '_' (a colo code such as FRA, or local)\n");
  });
});

describe("runScheduled", () => {
  it("fails loudly on a cron expression it has no job for", async () => {
    await expect(
      runScheduled(
        { cron: "0 3 * * *", scheduledTime: Date.now(), noRetry() {} },
        env,
        createExecutionContext(),
      ),
    ).rejects.toThrow('scheduled: no job for cron "0 3 * * *"');
  });
});
