/**
 * Verified CARs in the edge cache (src/gateway/cache/edge-cache.ts
 * `storeCar`, cache/car-copy.ts): a CAR whose body ended normally is stored
 * and answers the next identical request (GET, HEAD, If-None-Match, with or
 * without Range) with the same bytes and headers and no upstream request;
 * every parameter of a CAR's bytes separates keys; a body that died, lied
 * or was cut, a client that went away, or a CAR over EDGE_CACHE_CAR_MAX_BYTES
 * is never stored. The upstream's request log is the witness, the
 * gateway_source metric says where each answer came from.
 */
import { describe, expect, it } from "vitest";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { GATEWAY_ORIGIN, importDirectory, importFile, parseCar, requestLog, uniquePersonality, withUpstreams } from "../../helpers/upstream";
import { pathGateway, pseudoRandomBytes } from "../path/helpers";
import { honestCar } from "../racing/dag-fixture";
import { edgeCacheKey } from "../../../src/gateway/cache/cache-key";
import { parseGatewayRequest } from "../../../src/gateway/request/gateway-request";
import { ADMIN, call } from "../../pinning/helpers";

const CAR = "application/vnd.ipld.car";
const CHUNK = 64 * 1024;

/** A fresh 5-leaf file (random seed: no other test asks for the same CID). */
async function freshFile(length = 4 * CHUNK + 1000) {
  const bytes = pseudoRandomBytes(length, crypto.getRandomValues(new Uint32Array(1))[0]! | 1);
  const { cid, blocks } = await importFile(bytes, { chunkSize: CHUNK });
  return { cid, bytes, blocks };
}

function headerList(res: Response): Record<string, string> {
  return Object.fromEntries(res.headers);
}

async function body(res: Response): Promise<Uint8Array> {
  return new Uint8Array(await res.arrayBuffer());
}

/** The edge-cache key the worker uses for `path` (+ headers). */
function keyOf(path: string, headers: Record<string, string> = {}): Request {
  const request = new Request(`${GATEWAY_ORIGIN}${path}`, { headers });
  return edgeCacheKey(parseGatewayRequest(request), request)!;
}

/** Requests from a region of their own, so the gateway_source counters of that region count only this test's answers. */
const from = (region: string, init: RequestInit = {}): RequestInit => ({ ...init, cf: { colo: region } }) as RequestInit;

async function sourceCounts(region: string): Promise<Record<string, number>> {
  const res = await call("GET", `/metrics?region=${region}`, { token: ADMIN });
  expect(res.status).toBe(200);
  const families = parsePrometheusTextFormat(await res.text()) as { name: string; metrics: { labels?: Record<string, string>; value?: string }[] }[];
  const family = families.find((f) => f.name === "ipfs_edge_gateway_source_total");
  return Object.fromEntries((family?.metrics ?? []).map((m) => [m.labels?.source ?? "", Number(m.value)]));
}

describe("verified CARs in the edge cache", () => {
  it("a complete CAR is answered from the cache the second time: the same bytes and headers, no upstream request, source edge_cache", async () => {
    const files = [
      { path: "a/one.bin", content: pseudoRandomBytes(3 * CHUNK + 5, crypto.getRandomValues(new Uint32Array(1))[0]! | 1) },
      { path: "b.txt", content: new TextEncoder().encode("b") },
    ];
    const dir = await importDirectory(files, { chunkSize: CHUNK });
    const root = dir.cid.toString();
    const gw = pathGateway();
    const region = `T${crypto.randomUUID().slice(0, 8)}`;
    // Format from Accept with dups=y (Content-Location, the Content-Type's dups), a path (X-Ipfs-Roots of three CIDs), a filename.
    const path = `/ipfs/${root}/a/one.bin?filename=one.car`;
    const init = from(region, { headers: { Accept: `${CAR}; version=1; order=dfs; dups=y` } });

    const first = await gw.fetch(path, init);
    expect(first.status).toBe(200);
    const bytes = await body(first);
    await gw.settle();
    const asked = (await gw.asked()).length;
    expect(asked).toBeGreaterThan(0);
    const car = await parseCar(bytes);
    const want = await honestCar(`/ipfs/${root}/a/one.bin`);
    expect(car.roots).toEqual([root]);
    // The path's blocks (root, a/) then the file's: what the honest upstream sends (dups=y changes nothing here: no duplicate blocks).
    expect(car.blocks.map((b) => b.cid)).toEqual(want.blocks.map((b) => b.cid));
    expect(car.blocks).toEqual(want.blocks);
    expect(car.blocks).toHaveLength(2 + 1 + 4);
    expect(first.headers.get("Content-Type")).toBe(`${CAR}; version=1; order=dfs; dups=y`);
    expect(first.headers.get("Content-Location")).toBe(`/ipfs/${root}/a/one.bin?filename=one.car&format=car&car-version=1&car-order=dfs&car-dups=y`);
    expect(first.headers.get("Content-Disposition")).toBe('attachment; filename="one.car"');
    expect(first.headers.get("X-Ipfs-Roots")).toBe([root, dir.paths.get("a")!.toString(), dir.paths.get("a/one.bin")!.toString()].join(","));
    expect(first.headers.get("Cache-Control")).toBe("public, max-age=29030400, immutable");
    expect(first.headers.get("Accept-Ranges")).toBe("none");
    expect(first.headers.get("ETag")).toMatch(/^W\/"/);
    // The miss streams: its length is unknown up front.
    expect(first.headers.get("Content-Length")).toBeNull();

    const stored = await caches.default.match(keyOf(path, { Accept: `${CAR}; version=1; order=dfs; dups=y` }));
    expect(stored?.headers.get("X-Edge-Length")).toBe(String(bytes.length));
    expect(new Uint8Array(await stored!.arrayBuffer())).toEqual(bytes);

    const second = await gw.fetch(path, init);
    expect(second.status).toBe(200);
    // Exactly the miss's headers; the runtime adds the length it now knows.
    expect(headerList(second)).toEqual({ ...headerList(first), "content-length": String(bytes.length) });
    expect(await body(second)).toEqual(bytes);
    // Another spelling of the same Accept is the same answer.
    const third = await gw.fetch(path, from(region, { headers: { Accept: `${CAR};dups=y, */*;q=0.1` } }));
    expect(headerList(third)).toEqual(headerList(second));
    expect(await body(third)).toEqual(bytes);
    await gw.settle();
    expect((await gw.asked()).length).toBe(asked);
    const sources = await sourceCounts(region);
    expect(sources.edge_cache).toBe(2);
    expect(sources.upstream).toBe(1);
  });

  it("HEAD, If-None-Match and Range on a cached CAR are answered from the cache as the handler answers them", async () => {
    const file = await freshFile();
    const dir = await importDirectory([{ path: "f.bin", content: file.bytes }], { chunkSize: CHUNK });
    const path = `/ipfs/${dir.cid}/f.bin?format=car`;
    const gw = pathGateway();

    // What the handler does with a Range on a CAR (Accept-Ranges: none): it ignores it and sends the whole CAR as a 200.
    const ranged = await gw.fetch(path, { headers: { Range: "bytes=0-99" } });
    expect(ranged.status).toBe(200);
    expect(ranged.headers.get("Content-Range")).toBeNull();
    const bytes = await body(ranged);
    expect((await parseCar(bytes)).blocks).toHaveLength(7); // dir, then the file's root and 5 leaves
    await gw.settle();
    const asked = (await gw.asked()).length;
    expect(asked).toBeGreaterThan(0);

    // That 200 was stored (the bytes do not depend on Range): a plain GET is a hit.
    const hit = await gw.fetch(path);
    expect(hit.status).toBe(200);
    expect(headerList(hit)).toEqual({ ...headerList(ranged), "content-length": String(bytes.length) });
    expect(await body(hit)).toEqual(bytes);

    // A hit with Range (and If-Range, any kind) is the same whole 200, never a 206 cut from the CAR.
    const rangeHeaders: Record<string, string>[] = [{ Range: "bytes=0-99" }, { Range: "bytes=-10" }, { Range: "bytes=0-9,20-29" }, { Range: `bytes=${bytes.length}-` }, { Range: "bytes=5-", "If-Range": '"x"' }];
    for (const headers of rangeHeaders) {
      const res = await gw.fetch(path, { headers });
      expect(res.status).toBe(200);
      expect(headerList(res)).toEqual(headerList(hit));
      expect(await body(res)).toEqual(bytes);
    }

    const head = await gw.fetch(path, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(headerList(head)).toEqual(headerList(hit));
    expect(await head.text()).toBe("");

    // The cache's 304 carries what the stored 200 said, so X-Ipfs-Roots names the whole path
    // (the handler's own 304, sent before resolving the path, names the root only).
    const etag = hit.headers.get("ETag")!;
    const inm = await gw.fetch(path, { headers: { "If-None-Match": etag } });
    expect(inm.status).toBe(304);
    expect(inm.headers.get("ETag")).toBe(etag);
    expect(inm.headers.get("X-Ipfs-Path")).toBe(`/ipfs/${dir.cid}/f.bin`);
    expect(inm.headers.get("X-Ipfs-Roots")).toBe(`${dir.cid},${file.cid}`);
    expect(inm.headers.get("Cache-Control")).toBe("public, max-age=29030400, immutable");
    expect(await inm.text()).toBe("");
    await gw.settle();
    expect((await gw.asked()).length).toBe(asked);
  });

  it("keys separate every parameter of a CAR's bytes: no variant answers another", async () => {
    const file = await freshFile();
    const dir = await importDirectory([{ path: "f.bin", content: file.bytes }, { path: "g.bin", content: file.bytes }], { chunkSize: CHUNK });
    const gw = pathGateway();
    const get = async (path: string, headers: Record<string, string> = {}) => {
      const res = await gw.fetch(path, { headers });
      expect(res.status).toBe(200);
      const bytes = await body(res);
      await gw.settle();
      return { res, bytes, asked: (await gw.asked()).length };
    };
    const c = `/ipfs/${file.cid}`;
    const variants: [string, Record<string, string>?][] = [
      [`${c}?format=car`],
      [`${c}?format=car&dag-scope=block`],
      [`${c}?format=car&dag-scope=entity`],
      [`${c}?format=car&entity-bytes=0:100`],
      [`${c}?format=car&entity-bytes=${CHUNK}:*`],
      [`${c}?format=car&car-dups=y`],
      [c, { Accept: `${CAR}; dups=y` }],
      [c, { Accept: CAR }],
      [`${c}?format=car&filename=x.car`],
      [`${c}?format=car&car-order=unk`],
      [`/ipfs/${dir.cid}/f.bin?format=car`],
      [`/ipfs/${dir.cid}/g.bin?format=car`],
      [`/ipfs/${dir.cid}?format=car`],
      [`/ipfs/${dir.cid}?format=car&car-dups=y`],
    ];
    const firsts: Awaited<ReturnType<typeof get>>[] = [];
    let asked = 0;
    for (const [path, headers] of variants) {
      const got = await get(path, headers);
      expect(got.asked, `${path} ${JSON.stringify(headers)} went upstream`).toBeGreaterThan(asked);
      asked = got.asked;
      firsts.push(got);
    }
    // Each is a hit now, with its own bytes and headers.
    for (const [i, [path, headers]] of variants.entries()) {
      const again = await get(path, headers);
      expect(again.asked, `${path} ${JSON.stringify(headers)} was a hit`).toBe(asked);
      expect(again.bytes).toEqual(firsts[i]!.bytes);
      expect(headerList(again.res)).toEqual({ ...headerList(firsts[i]!.res), "content-length": String(firsts[i]!.bytes.length) });
    }
    // The variants that must differ do: scope and entity-bytes select other blocks, dups another Content-Type,
    // Accept a Content-Location, filename a Content-Disposition; the dir's duplicate file once or twice.
    const blocks = async (i: number) => (await parseCar(firsts[i]!.bytes)).blocks.length;
    expect([await blocks(0), await blocks(1), await blocks(2), await blocks(3), await blocks(4)]).toEqual([6, 1, 6, 2, 5]);
    expect(firsts[5]!.res.headers.get("Content-Type")).toBe(`${CAR}; version=1; order=dfs; dups=y`);
    expect(firsts[6]!.res.headers.get("Content-Location")).toBe(`${c}?format=car&car-version=1&car-order=dfs&car-dups=y`);
    expect(firsts[7]!.res.headers.get("Content-Location")).toBe(`${c}?format=car&car-version=1&car-order=dfs&car-dups=n`);
    expect(firsts[8]!.res.headers.get("Content-Disposition")).toBe('attachment; filename="x.car"');
    expect(firsts[10]!.res.headers.get("X-Ipfs-Path")).toBe(`/ipfs/${dir.cid}/f.bin`);
    expect(firsts[11]!.res.headers.get("X-Ipfs-Path")).toBe(`/ipfs/${dir.cid}/g.bin`);
    expect([await blocks(12), await blocks(13)]).toEqual([7, 13]);
  });

  describe("a CAR whose body did not end normally is never stored; the next request goes upstream and its bytes are exact", () => {
    const faults = [
      { name: "an upstream that dies mid-stream", fault: `die-${2 * CHUNK + 500}` },
      { name: "an upstream that cuts the stream mid-block", fault: `truncate-${CHUNK + 2000}` },
      { name: "an upstream that flips a byte in a leaf", fault: "flip-byte-3" },
      { name: "an upstream that sends the right bytes under another CID", fault: "wrong-cid-2" },
    ];
    for (const c of faults) {
      it(`${c.name} (${c.fault}), no other upstream`, async () => {
        const file = await freshFile();
        const path = `/ipfs/${file.cid}?format=car`;
        const liar = uniquePersonality(c.fault);
        const w = withUpstreams([liar]);
        const broken = await w.fetch(path);
        expect(broken.status).toBe(200); // committed once the root verified
        await expect(broken.arrayBuffer()).rejects.toThrow();
        await w.settle();
        expect((await requestLog(liar)).length).toBeGreaterThan(0);
        expect(await caches.default.match(keyOf(path))).toBeUndefined();

        const gw = pathGateway();
        const res = await gw.fetch(path);
        expect(res.status).toBe(200);
        const bytes = await body(res);
        expect((await parseCar(bytes)).blocks).toEqual((await honestCar(`/ipfs/${file.cid}`)).blocks);
        await gw.settle();
        const asked = (await gw.asked()).length;
        expect(asked).toBeGreaterThan(0);
        // That complete CAR was stored: the next request is a hit, whole.
        const hit = await gw.fetch(path);
        expect(await body(hit)).toEqual(bytes);
        await gw.settle();
        expect((await gw.asked()).length).toBe(asked);
      });
    }

    it("a client that goes away mid-body leaves nothing in the cache", async () => {
      const file = await freshFile(2 * 1024 * 1024);
      const path = `/ipfs/${file.cid}?format=car`;
      const gw = pathGateway();
      const res = await gw.fetch(path);
      const reader = res.body!.getReader();
      await reader.read();
      await reader.cancel();
      await gw.settle();
      const before = (await gw.asked()).length;
      expect(await caches.default.match(keyOf(path))).toBeUndefined();
      const again = await gw.fetch(path);
      const bytes = await body(again);
      expect((await parseCar(bytes)).blocks.map((b) => b.cid)).toEqual((await honestCar(`/ipfs/${file.cid}`)).blocks.map((b) => b.cid));
      await gw.settle();
      expect((await gw.asked()).length).toBeGreaterThan(before);
    });
  });

  it("EDGE_CACHE_CAR_MAX_BYTES: a CAR of exactly that many bytes is stored, one byte more is not (its client still gets it whole); 0 stores none", async () => {
    const file = await freshFile();
    const path = `/ipfs/${file.cid}?format=car`;
    const want = (await honestCar(`/ipfs/${file.cid}`)).blocks;
    const length = (await body(await pathGateway("honest", { EDGE_CACHE_CAR_MAX_BYTES: "0" }).fetch(path))).length;
    expect(await caches.default.match(keyOf(path))).toBeUndefined();

    for (const max of [length - 1, 0]) {
      const gw = pathGateway("honest", { EDGE_CACHE_CAR_MAX_BYTES: String(max) });
      for (let i = 1; i <= 2; i++) {
        const bytes = await body(await gw.fetch(path));
        expect(bytes.length).toBe(length);
        expect((await parseCar(bytes)).blocks).toEqual(want);
        await gw.settle();
        expect(await caches.default.match(keyOf(path))).toBeUndefined();
        expect((await gw.asked()).length).toBe(i); // every request went upstream
      }
    }

    const gw = pathGateway("honest", { EDGE_CACHE_CAR_MAX_BYTES: String(length) });
    const first = await body(await gw.fetch(path));
    await gw.settle();
    expect((await gw.asked()).length).toBe(1);
    const hit = await gw.fetch(path);
    expect(hit.headers.get("Content-Length")).toBe(String(length));
    expect(await body(hit)).toEqual(first);
    await gw.settle();
    expect((await gw.asked()).length).toBe(1);
  });
});
