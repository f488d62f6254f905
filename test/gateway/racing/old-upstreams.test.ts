/**
 * Old gateways (Kubo before 0.22 and others) ignore `dag-scope` and
 * `entity-bytes` and answer a CAR request with the whole DAG under the
 * path, in their own order: valid blocks, more of them, elsewhere than the
 * traversal expects them. The `old-gateway` personality (test/servers/
 * personalities.ts) plays one: path blocks, then everything below the
 * terminal breadth first, whatever was asked; `?format=raw` honest.
 *
 * With only such an upstream, each request must still answer exactly what
 * an honest upstream would make it answer; the upstream's stream is given
 * up at the first misplaced block (never read to its end), the rest comes
 * block by block from it, and health records a deviation, not an invalid
 * block.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { gatewayHealth } from "../../../src/durable-objects/gateway-health";
import { importDirectory, importFile, parseCar, requestLog, uniquePersonality, upstreamUrl, withUpstreams, type RequestLogEntry } from "../../helpers/upstream";
import { pseudoRandomBytes } from "../../helpers/pseudo-random";
import { honestCar } from "./dag-fixture";

const enc = new TextEncoder();
const CHUNK = 256 * 1024;
/** Files of this many leaves (24 MiB): far more than loopback socket buffers hold, so a stream given up is seen short in `bytesSent`. */
const LEAVES = 96;

async function countsOf(personality: string) {
  const snap = await gatewayHealth(env, "local").snapshot();
  return snap.upstreams.find((u) => u.upstream === upstreamUrl(personality))?.counts;
}

/** The old upstream's CAR requests. */
function carRequests(log: RequestLogEntry[]): RequestLogEntry[] {
  return log.filter((e) => e.url.includes("format=car"));
}

function rawRequests(log: RequestLogEntry[]): string[] {
  return log.filter((e) => e.url.endsWith("?format=raw")).map((e) => e.url.split("/ipfs/")[1]!.replace("?format=raw", ""));
}

/** A fresh old-gateway upstream, alone in UPSTREAMS. */
function oldUpstream() {
  const old = uniquePersonality("old-gateway");
  return { old, w: withUpstreams([old]) };
}

describe("an upstream that ignores dag-scope and entity-bytes (old-gateway)", () => {
  it("a directory with index.html: the index is served; the directory's whole-DAG stream is given up at the first misplaced block", async () => {
    // Other entries first (breadth first, the old upstream sends their roots before index.html's leaves).
    const big = pseudoRandomBytes(LEAVES * CHUNK, 41);
    const index = enc.encode("<h1>old but valid</h1>\n".repeat(2000));
    const dir = await importDirectory(
      [
        { path: "site/a-big.bin", content: big },
        { path: "site/b.txt", content: enc.encode("b") },
        { path: "site/index.html", content: index },
      ],
      { chunkSize: CHUNK },
    );
    const { old, w } = oldUpstream();
    const res = await w.fetch(`/ipfs/${dir.cid}/site/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("text/html; charset=utf-8");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(index);
    await w.settle();

    const log = await requestLog(old);
    // The index's own CAR request deviated (breadth first: both leaves' parents are fine, but the site's
    // entries come before index.html's leaves): from the first deviation on, raw requests only.
    const cars = carRequests(log);
    expect(cars.length).toBeGreaterThanOrEqual(1);
    // Given up at the first misplaced block: far from the whole DAG the old upstream wanted to send (the socket buffers hold a few MB).
    for (const car of cars) expect(car.bytesSent).toBeLessThan(big.length / 2);
    const counts = await countsOf(old);
    expect(counts).toMatchObject({ invalidBlock: 0, error: 0 });
    expect(counts!.deviation).toBeGreaterThanOrEqual(1);
  });

  it("a HAMT directory listing: every entry listed once, shards fetched block by block after the deviation", async () => {
    const n = 300;
    const entries = Array.from({ length: n }, (_, i) => ({ path: `h/${String(i).padStart(4, "0")}.txt`, content: enc.encode(`entry ${i}\n`) }));
    const dir = await importDirectory(entries, { shardSplitThresholdBytes: 1000 });
    const h = String(dir.paths.get("h"));
    const { old, w } = oldUpstream();
    const res = await w.fetch(`/ipfs/${dir.cid}/h/`);
    expect(res.status).toBe(200);
    const html = await res.text();
    const names = [...html.matchAll(/<a href="\/ipfs\/[^"]+\/h\/(\d{4}\.txt)">/g)].map((m) => m[1]);
    expect(names.sort()).toEqual(entries.map((e) => e.path.slice(2)).sort());
    await w.settle();

    const log = await requestLog(old);
    expect(log[0]!.url).toBe(`/${old}/ipfs/${dir.cid}/h?format=car&dag-scope=entity&car-version=1&car-order=dfs&car-dups=y`);
    // Every shard block (and nothing else: no file of the directory) came once, each by itself after the deviation.
    const shards = rawRequests(log);
    expect(new Set(shards).size).toBe(shards.length);
    const files = new Set(entries.map((e) => String(dir.paths.get(e.path))));
    expect(shards.some((cid) => files.has(cid))).toBe(false);
    expect(shards.length).toBeGreaterThan(0);
    expect(shards).not.toContain(h);
    const counts = await countsOf(old);
    expect(counts).toMatchObject({ invalidBlock: 0, error: 0, deviation: 1 });
  });

  it("a Range at the end of a file: exact bytes; the leaves before it are not downloaded", async () => {
    const bytes = pseudoRandomBytes(LEAVES * CHUNK + 123, 42);
    const file = await importFile(bytes, { chunkSize: CHUNK, rawLeaves: true, cidVersion: 1, maxChildrenPerNode: 8 });
    const { old, w } = oldUpstream();
    const from = bytes.length - 3000;
    // A name with a type: no sniffing of the first bytes (a request of its own).
    const res = await w.fetch(`/ipfs/${file.cid}?filename=x.mp4`, { headers: { Range: `bytes=${from}-` } });
    expect(res.status).toBe(206);
    expect(res.headers.get("Content-Range")).toBe(`bytes ${from}-${bytes.length - 1}/${bytes.length}`);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes.slice(from));
    await w.settle();

    const log = await requestLog(old);
    expect(log[0]!.url).toBe(`/${old}/ipfs/${file.cid}?format=car&dag-scope=entity&entity-bytes=${from}:*&car-version=1&car-order=dfs&car-dups=y`);
    expect(carRequests(log)).toHaveLength(1);
    // The CAR stream was stopped at the misplaced block, long before the whole file the old upstream wanted to send.
    expect(log[0]!.bytesSent).toBeLessThan(bytes.length / 2);
    // Then the rest of what the range needs (the path to its leaves, and the leaves), one block at a time, in order:
    // exactly the tail of the spec's selection for these entity-bytes, nothing before the range.
    const want = (await honestCar(`/ipfs/${file.cid}?dag-scope=entity&entity-bytes=${from}:*`)).blocks.map((b) => String(b.cid));
    const raw = rawRequests(log);
    expect(raw.length).toBeGreaterThan(0);
    expect(raw.length).toBeLessThan(want.length);
    expect(raw).toEqual(want.slice(want.length - raw.length));
    expect(await countsOf(old)).toMatchObject({ invalidBlock: 0, error: 0, deviation: 1 });
  });

  it("a CAR with entity-bytes: exactly the blocks the spec selects, in DFS order", async () => {
    const bytes = pseudoRandomBytes(LEAVES * CHUNK, 43);
    const file = await importFile(bytes, { chunkSize: CHUNK, rawLeaves: true, cidVersion: 1, maxChildrenPerNode: 6 });
    const { old, w } = oldUpstream();
    const query = `dag-scope=entity&entity-bytes=${50 * CHUNK}:${52 * CHUNK - 1}`;
    const res = await w.fetch(`/ipfs/${file.cid}?format=car&${query}`);
    expect(res.status).toBe(200);
    const got = await parseCar(new Uint8Array(await res.arrayBuffer()));
    const want = await honestCar(`/ipfs/${file.cid}?${query}`);
    expect(got.blocks).toEqual(want.blocks);
    await w.settle();

    const log = await requestLog(old);
    expect(carRequests(log)).toHaveLength(1);
    expect(log[0]!.bytesSent).toBeLessThan(bytes.length / 2);
    // After the deviation: the remaining selected blocks by themselves, each once.
    const raw = rawRequests(log);
    expect(new Set(raw).size).toBe(raw.length);
    expect(raw.every((cid) => want.blocks.some((b) => String(b.cid) === cid))).toBe(true);
    expect(await countsOf(old)).toMatchObject({ invalidBlock: 0, error: 0, deviation: 1 });
  });

  it("an honest upstream next to it takes over with a CAR: the old one is not asked per block", async () => {
    const bytes = pseudoRandomBytes(LEAVES * CHUNK, 44);
    const file = await importFile(bytes, { chunkSize: CHUNK, rawLeaves: true, cidVersion: 1, maxChildrenPerNode: 6 });
    const old = uniquePersonality("old-gateway");
    const honest = uniquePersonality("honest");
    // No hedging within the test's time: each race asks its first candidate alone (the old one first, the honest one
    // first once the old one deviated), so what each was asked does not depend on the machine's speed.
    const w = withUpstreams([old, honest], { HEDGE_DELAY_MS: "20000" });
    const from = (LEAVES - 10) * CHUNK;
    const res = await w.fetch(`/ipfs/${file.cid}?format=car&dag-scope=entity&entity-bytes=${from}:*`);
    const got = await parseCar(new Uint8Array(await res.arrayBuffer()));
    expect(got.blocks).toEqual((await honestCar(`/ipfs/${file.cid}?dag-scope=entity&entity-bytes=${from}:*`)).blocks);
    await w.settle();
    expect(rawRequests(await requestLog(old))).toEqual([]);
    expect(await requestLog(honest)).toHaveLength(1);
    expect(await countsOf(old)).toMatchObject({ invalidBlock: 0, deviation: 1 });
    expect(await countsOf(honest)).toMatchObject({ ok: 1, invalidBlock: 0 });
  });
});
