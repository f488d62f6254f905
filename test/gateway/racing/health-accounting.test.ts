/**
 * Health accounting under concurrent requests: outcomes leave each isolate
 * in batches (src/gateway/upstream/health.ts, docs/health.md "Batching"),
 * and none of them may be lost or counted twice. N requests in flight at
 * once, then the region's GatewayHealth (what the health API serves) shows
 * exactly N outcomes per upstream, a liar's included.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { gatewayHealth } from "../../../src/durable-objects/gateway-health";
import { parseCar, requestLog, uniquePersonality, upstreamUrl, withUpstreams } from "../../helpers/upstream";
import { fiveLeafFile, honestCar } from "./dag-fixture";

const N = 8;

async function countsOf(upstream: string) {
  const snap = await gatewayHealth(env, "local").snapshot();
  return snap.upstreams.find((u) => u.upstream === upstream)?.counts;
}

function total(counts: object | undefined): number {
  return Object.values(counts ?? {}).reduce((n: number, c: number) => n + c, 0);
}

/** N CAR requests for `cid` in flight at once: each 200 with the honest CAR's exact blocks; then the outcomes settled. */
async function concurrentCars(w: ReturnType<typeof withUpstreams>, cid: string): Promise<void> {
  const want = await honestCar(`/ipfs/${cid}`);
  const bodies = await Promise.all(
    Array.from({ length: N }, async () => {
      const res = await w.fetch(`/ipfs/${cid}?format=car`);
      expect(res.status).toBe(200);
      return parseCar(new Uint8Array(await res.arrayBuffer()));
    }),
  );
  for (const got of bodies) expect(got.blocks).toEqual(want.blocks);
  await w.settle();
}

describe("health records one outcome per upstream attempt, with requests in flight at once", () => {
  it(`${N} concurrent CARs from one honest upstream: ${N} ok outcomes, exact bytes each`, async () => {
    const file = await fiveLeafFile(300);
    const honest = uniquePersonality("honest");
    const w = withUpstreams([honest]);
    await concurrentCars(w, file.cid.toString());
    expect(await requestLog(honest)).toHaveLength(N);
    expect(await countsOf(upstreamUrl(honest))).toMatchObject({ ok: N, error: 0, invalidBlock: 0, aborted: 0 });
  });

  it(`${N} concurrent CARs, a liar first: every attempt of either upstream is one outcome, every response exact`, async () => {
    const file = await fiveLeafFile(301);
    const liar = uniquePersonality("flip-byte-2");
    const honest = uniquePersonality("honest");
    const w = withUpstreams([liar, honest]);
    await concurrentCars(w, file.cid.toString());
    // The isolate learns from the first lie (its circuit opens), so later requests may rank the liar
    // last and never ask it: what must hold is one outcome per request it received, none lost.
    const liarAsked = (await requestLog(liar)).length;
    const liarCounts = await countsOf(upstreamUrl(liar));
    expect(liarAsked).toBeGreaterThanOrEqual(1);
    expect(liarCounts?.ok).toBe(0);
    expect(liarCounts?.invalidBlock).toBeGreaterThanOrEqual(1);
    expect(total(liarCounts)).toBe(liarAsked);
    expect(liarCounts!.invalidBlock + liarCounts!.aborted).toBe(liarAsked);
    // The honest upstream finished every response: N ok, plus one aborted race per extra request it received.
    const honestCounts = await countsOf(upstreamUrl(honest));
    expect(honestCounts?.ok).toBe(N);
    expect(total(honestCounts)).toBe((await requestLog(honest)).length);
  });
});
