/**
 * The cron probe against the local upstream server of test/global-setup.ts
 * (`${base}/{personality}`): honest and broken trustless gateways answering
 * `GET /ipfs/bafkqaaa` as raw block and as CAR.
 */
import { env } from "cloudflare:workers";
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import { describe, expect, inject, it } from "vitest";
import { probeUpstreams } from "../../src/cron/probe-upstreams";
import { gatewayHealth } from "../../src/durable-objects/gateway-health";
import type { ProbeCheck } from "../../src/gateway/upstream/health-snapshot";

const base = inject("upstreamBase");
const up = (personality: string) => `${base}/${personality}`;

let regions = 0;
const freshRegion = () => `test-probe-${++regions}-${crypto.randomUUID()}`;

const passed = (kind: "raw" | "car"): ProbeCheck => ({ kind, ok: true, status: 200, ttfbMs: expect.any(Number), error: null });
const failed = (kind: "raw" | "car", status: number | null, error: string): ProbeCheck => ({
  kind,
  ok: false,
  status,
  ttfbMs: status === null ? null : expect.any(Number),
  error,
});

describe("probeUpstreams", () => {
  it("checks bafkqaaa as raw block and CAR on every upstream and records the results in the region's object", async () => {
    const region = freshRegion();
    // The block the extra-block personality appends (test/servers/personalities.ts).
    const extra = CID.createV1(
      0x55,
      await sha256.digest(new TextEncoder().encode("extra-block personality: a valid block appended to the CAR\n")),
    );
    const upstreams = ["honest", "status-500", "not-found", "flip-byte", "no-car", "extra-block", "truncate-10", "slow-6000", "stall-12"];
    const before = Date.now();
    const results = await probeUpstreams({ ...env, UPSTREAMS: upstreams.map(up).join(", ") + "," }, region, { timeoutMs: 1500 });

    expect(results).toEqual([
      { upstream: up("honest"), at: expect.any(Number), ok: true, checks: [passed("raw"), passed("car")] },
      {
        upstream: up("status-500"),
        at: expect.any(Number),
        ok: false,
        checks: [failed("raw", 500, "expected status 200, got 500"), failed("car", 500, "expected status 200, got 500")],
      },
      {
        upstream: up("not-found"),
        at: expect.any(Number),
        ok: false,
        checks: [failed("raw", 404, "expected status 200, got 404"), failed("car", 404, "expected status 200, got 404")],
      },
      {
        // Answers the raw block of zero bytes with one byte.
        upstream: up("flip-byte"),
        at: expect.any(Number),
        ok: false,
        checks: [failed("raw", 200, "expected an empty body (bafkqaaa is zero bytes), got 1 bytes"), passed("car")],
      },
      {
        upstream: up("no-car"),
        at: expect.any(Number),
        ok: false,
        checks: [passed("raw"), failed("car", 406, "expected status 200, got 406")],
      },
      {
        upstream: up("extra-block"),
        at: expect.any(Number),
        ok: false,
        checks: [passed("raw"), failed("car", 200, `unexpected block ${extra} in the CAR`)],
      },
      {
        upstream: up("truncate-10"),
        at: expect.any(Number),
        ok: false,
        checks: [passed("raw"), failed("car", 200, "not a valid CAR: Unexpected end of data")],
      },
      {
        upstream: up("slow-6000"),
        at: expect.any(Number),
        ok: false,
        checks: [failed("raw", null, "no response within 1500 ms"), failed("car", null, "no response within 1500 ms")],
      },
      {
        upstream: up("stall-12"),
        at: expect.any(Number),
        ok: false,
        checks: [passed("raw"), failed("car", 200, "body not complete within 1500 ms")],
      },
    ]);
    for (const r of results) expect(r.at).toBeGreaterThanOrEqual(before);

    // Recorded: every upstream has its last probe; a failed probe weighs 1 toward opening the circuit.
    const snap = await gatewayHealth(env, region).snapshot();
    expect(snap.upstreams.map((u) => [u.upstream, u.lastProbe, u.consecutiveFailures, u.circuit])).toEqual(
      [...results]
        .sort((a, b) => (a.upstream < b.upstream ? -1 : 1))
        .map((r) => [r.upstream, r, r.ok ? 0 : 1, "closed"]),
    );
  });

  it("closes a half-open circuit when the probe passes", async () => {
    const region = freshRegion();
    const honest = up("honest");
    const stub = gatewayHealth(env, region);
    // A lie 31 s ago opened the circuit for 30 s: it is half-open now.
    await stub.report([{ upstream: honest, result: "invalid_block", bytes: 0, durationMs: 3, at: Date.now() - 31_000 }]);
    expect((await stub.snapshot()).upstreams[0]!.circuit).toBe("half_open");

    const [result] = await probeUpstreams({ ...env, UPSTREAMS: honest }, region);
    expect(result!.ok).toBe(true);
    expect((await stub.snapshot()).upstreams[0]).toMatchObject({
      circuit: "closed",
      consecutiveFailures: 0,
      circuitChangedAt: result!.at,
      counts: { invalidBlock: 1, ok: 0 },
    });
  });

  it("probes nothing and records nothing when UPSTREAMS is empty", async () => {
    const region = freshRegion();
    expect(await probeUpstreams({ ...env, UPSTREAMS: " , " }, region)).toEqual([]);
    expect((await gatewayHealth(env, region).snapshot()).upstreams).toEqual([]);
  });
});
