import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { gatewayHealth } from "../../../src/durable-objects/gateway-health";
import { parseCar, requestLog, uniquePersonality, upstreamUrl, withUpstreams } from "../../helpers/upstream";
import { upstreamBase } from "../../helpers/upstream-url";
import { CHUNK, fiveLeafFile, honestCar } from "./dag-fixture";

const CAR = { Accept: "application/vnd.ipld.car" };

async function healthOf(upstream: string) {
  const snap = await gatewayHealth(env, "local").snapshot();
  return snap.upstreams.find((u) => u.upstream === upstream);
}

/**
 * Each hostile upstream comes first in UPSTREAMS, an honest one second: the
 * client must get exactly the bytes the honest upstream would have given,
 * the liar must be penalised, and the honest one must only be asked for
 * the rest of the file (a narrow entity-bytes request), not the whole DAG.
 */
describe("a lying or dying upstream is dropped mid-stream and the response resumes from another", () => {
  const cases: { name: string; fault: string; result: "invalidBlock" | "deviation" | "error" | "timeout"; resumeFrom: number }[] = [
    // sections: 0 = file root, 1..5 = leaves at offsets 0, 64Ki, 128Ki, ...
    { name: "a flipped byte in a leaf", fault: "flip-byte-2", result: "invalidBlock", resumeFrom: CHUNK },
    // A valid block out of place is a protocol deviation (old gateways), not a lie: the stream is given up all the same.
    { name: "a valid block where another was expected", fault: "wrong-block-3", result: "deviation", resumeFrom: 2 * CHUNK },
    { name: "the right bytes under another CID", fault: "wrong-cid-2", result: "invalidBlock", resumeFrom: CHUNK },
    { name: "an extra block in the middle", fault: "extra-block-4", result: "deviation", resumeFrom: 3 * CHUNK },
    { name: "an oversized (3 MiB) block", fault: "oversized-2", result: "invalidBlock", resumeFrom: CHUNK },
    { name: "a stream cut mid-block", fault: `truncate-${CHUNK + 2000}`, result: "error", resumeFrom: CHUNK },
    { name: "a connection reset mid-stream", fault: `die-${2 * CHUNK + 500}`, result: "error", resumeFrom: 2 * CHUNK },
    { name: "a stream that stalls (idle timeout)", fault: `stall-${CHUNK + 2000}`, result: "timeout", resumeFrom: CHUNK },
    { name: "a stream that trickles a few bytes at a time (block deadline)", fault: `trickle-${CHUNK + 2000}`, result: "timeout", resumeFrom: CHUNK },
  ];

  for (const [i, c] of cases.entries()) {
    it(`${c.name} (${c.fault})`, async () => {
      const file = await fiveLeafFile(100 + i);
      const liar = uniquePersonality(c.fault);
      const honest = uniquePersonality("honest");
      const w = withUpstreams([liar, honest]);
      const res = await w.fetch(`/ipfs/${file.cid}`, { headers: CAR });
      expect(res.status).toBe(200);
      const got = await parseCar(new Uint8Array(await res.arrayBuffer()));
      const want = await honestCar(`/ipfs/${file.cid}`);
      expect(got.blocks.map((b) => b.cid)).toEqual(want.blocks.map((b) => b.cid));
      expect(got.blocks).toEqual(want.blocks);
      expect(got.blocks).toHaveLength(6);
      await w.settle();

      // The honest upstream was asked only for the rest of the file.
      const log = await requestLog(honest);
      expect(log.map((e) => e.url)).toEqual([
        `/${honest}/ipfs/${file.cid}?format=car&dag-scope=entity&entity-bytes=${c.resumeFrom}:*&car-version=1&car-order=dfs&car-dups=y`,
      ]);
      const liarHealth = await healthOf(upstreamUrl(liar));
      expect(liarHealth?.counts[c.result]).toBe(1);
      expect((await healthOf(upstreamUrl(honest)))?.counts.ok).toBe(1);
    });
  }

  it("an extra (valid) block after the end: the response is complete and the deviation is recorded afterwards", async () => {
    const file = await fiveLeafFile(200);
    const liar = uniquePersonality("extra-block");
    const w = withUpstreams([liar]);
    const res = await w.fetch(`/ipfs/${file.cid}?format=car`);
    const got = await parseCar(new Uint8Array(await res.arrayBuffer()));
    expect(got.blocks).toEqual((await honestCar(`/ipfs/${file.cid}`)).blocks);
    await w.settle();
    expect((await healthOf(upstreamUrl(liar)))?.counts).toMatchObject({ deviation: 1, invalidBlock: 0 });
  });

  it("when no upstream can finish, the body errors instead of ending short", async () => {
    const file = await fiveLeafFile(201);
    const w = withUpstreams([uniquePersonality("flip-byte-3")]);
    const res = await w.fetch(`/ipfs/${file.cid}?format=car`);
    expect(res.status).toBe(200); // committed after the root block verified
    await expect(res.arrayBuffer()).rejects.toThrow();
  });
});

describe("racing", () => {
  it("a slow upstream loses to a fast one and is aborted", async () => {
    const file = await fiveLeafFile(300);
    const slow = uniquePersonality("slow-2500");
    const fast = uniquePersonality("honest");
    const w = withUpstreams([slow, fast], { HEDGE_DELAY_MS: "100" });
    const res = await w.fetch(`/ipfs/${file.cid}?format=car`);
    const got = await parseCar(new Uint8Array(await res.arrayBuffer()));
    expect(got.blocks).toHaveLength(6);
    await w.settle();
    expect((await requestLog(fast)).length).toBe(1);
    const slowLog = await requestLog(slow);
    expect(slowLog).toHaveLength(1);
    expect(slowLog[0]!.aborted).toBe(true);
    expect((await healthOf(upstreamUrl(slow)))?.counts.aborted).toBe(1);
  });

  it("a race loser stays usable: when the winner lies later, the response resumes from the upstream it beat", async () => {
    const file = await fiveLeafFile(304);
    // The liar answers at once and wins the race; the slow (honest) one was started by the 1 ms hedge and loses.
    const liar = uniquePersonality("flip-byte-2");
    const slow = uniquePersonality("slow-2000");
    const w = withUpstreams([liar, slow], { HEDGE_DELAY_MS: "1" });
    const res = await w.fetch(`/ipfs/${file.cid}?format=car`);
    expect(res.status).toBe(200);
    const got = await parseCar(new Uint8Array(await res.arrayBuffer()));
    expect(got.blocks).toEqual((await honestCar(`/ipfs/${file.cid}`)).blocks);
    await w.settle();
    const slowLog = await requestLog(slow);
    expect(slowLog.map((e) => [e.url, e.aborted])).toEqual([
      [`/${slow}/ipfs/${file.cid}?format=car&dag-scope=all&car-version=1&car-order=dfs&car-dups=y`, true],
      [`/${slow}/ipfs/${file.cid}?format=car&dag-scope=entity&entity-bytes=${CHUNK}:*&car-version=1&car-order=dfs&car-dups=y`, false],
    ]);
    expect((await healthOf(upstreamUrl(liar)))?.counts).toMatchObject({ invalidBlock: 1, ok: 0 });
    expect((await healthOf(upstreamUrl(slow)))?.counts).toMatchObject({ aborted: 1, ok: 1, error: 0 });
  });

  it("the isolate learns from its first race: the next request starts with the winner and never asks the slow one", async () => {
    const slow = uniquePersonality("slow-2500");
    const fast = uniquePersonality("honest");
    const w = withUpstreams([slow, fast], { HEDGE_DELAY_MS: "100" });
    const roots: string[] = [];
    for (const seed of [310, 311, 312]) {
      const file = await fiveLeafFile(seed);
      roots.push(file.cid.toString());
      const res = await w.fetch(`/ipfs/${file.cid}?format=car`);
      expect((await parseCar(new Uint8Array(await res.arrayBuffer()))).blocks).toHaveLength(6);
    }
    await w.settle();
    expect(await requestLog(fast)).toHaveLength(3);
    // Both upstreams' requests in the order the server received them (one log for every personality).
    const all = (await (await fetch(`${upstreamBase()}/__log`)).json()) as { personality: string; url: string; aborted: boolean }[];
    const ours = all.filter((e) => e.personality === slow || e.personality === fast);
    // After the first race every request starts with the winner. The slow one may still be asked later, but only
    // as a hedge once the fast one is slower than its learned hedge delay (a loaded machine), and cancelled when
    // the fast one wins.
    for (const root of roots.slice(1)) expect(ours.find((e) => e.url.includes(root))?.personality).toBe(fast);
    const slowOnes = ours.filter((e) => e.personality === slow);
    expect(slowOnes[0]!.url).toContain(roots[0]);
    for (const hedge of slowOnes.slice(1)) expect(hedge.aborted).toBe(true);
  });

  it("500s and 429s are skipped at once, without waiting for the hedge delay", async () => {
    const file = await fiveLeafFile(301);
    const names = [uniquePersonality("status-500"), uniquePersonality("status-429"), uniquePersonality("honest")];
    const w = withUpstreams(names, { HEDGE_DELAY_MS: "10000" });
    const res = await w.fetch(`/ipfs/${file.cid}`, { headers: CAR });
    expect(res.status).toBe(200);
    expect((await parseCar(new Uint8Array(await res.arrayBuffer()))).blocks).toHaveLength(6);
    await w.settle();
    expect((await healthOf(upstreamUrl(names[0]!)))?.counts.error).toBe(1);
    expect((await healthOf(upstreamUrl(names[1]!)))?.counts.error).toBe(1);
  });

  it("an upstream that refuses CARs is used block by block with ?format=raw", async () => {
    const file = await fiveLeafFile(302);
    const noCar = uniquePersonality("no-car");
    const w = withUpstreams([noCar]);
    const res = await w.fetch(`/ipfs/${file.cid}?format=car`);
    const got = await parseCar(new Uint8Array(await res.arrayBuffer()));
    expect(got.blocks).toEqual((await honestCar(`/ipfs/${file.cid}`)).blocks);
    const urls = (await requestLog(noCar)).map((e) => e.url);
    expect(urls[0]).toContain("format=car");
    expect(urls.slice(1)).toEqual(got.blocks.map((b) => `/${noCar}/ipfs/${b.cid}?format=raw`));
  });

  it("a raw block with a flipped byte is refused and fetched from the next upstream", async () => {
    const file = await fiveLeafFile(303);
    const w = withUpstreams([uniquePersonality("flip-byte-0"), uniquePersonality("honest")]);
    const leaf = (await honestCar(`/ipfs/${file.cid}`)).blocks[1]!;
    const res = await w.fetch(`/ipfs/${leaf.cid}?format=raw`);
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(leaf.bytes);
  });
});

describe("when nobody can deliver", () => {
  it("404 when every upstream says not found", async () => {
    const file = await fiveLeafFile(400);
    const w = withUpstreams([uniquePersonality("not-found"), uniquePersonality("not-found")]);
    const res = await w.fetch(`/ipfs/${file.cid}?format=car`);
    expect(res.status).toBe(404);
    expect(await res.text()).toBe(`${file.cid} not found on any upstream\n`);
  });

  it("502 with Retry-After when upstreams fail or lie", async () => {
    const file = await fiveLeafFile(401);
    const a = uniquePersonality("status-500");
    const b = uniquePersonality("flip-byte-0");
    const w = withUpstreams([a, b]);
    const res = await w.fetch(`/ipfs/${file.cid}?format=raw`);
    expect(res.status).toBe(502);
    expect(res.headers.get("Retry-After")).toBe("30");
    const text = await res.text();
    expect(text).toContain(`${upstreamUrl(a)}: error (${file.cid}: HTTP 500)`);
    expect(text).toContain(`${upstreamUrl(b)}: invalid_block (block ${file.cid} failed hash verification)`);
  });

  it("504 with Retry-After when upstreams are too slow", async () => {
    const file = await fiveLeafFile(402);
    const w = withUpstreams([uniquePersonality("slow-3000")], { TTFB_TIMEOUT_MS: "300" });
    const res = await w.fetch(`/ipfs/${file.cid}?format=car`);
    expect(res.status).toBe(504);
    expect(res.headers.get("Retry-After")).toBe("30");
    expect(await res.text()).toMatch(/^upstreams too slow for \S+: .*timeout \(no verified block within 300 ms\)\n$/);
  });
});
