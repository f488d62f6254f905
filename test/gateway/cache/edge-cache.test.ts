/**
 * The edge cache (src/gateway/cache/): complete 200s of immutable content
 * are stored while they stream and answer the next identical request with
 * no upstream request at all; keys separate everything that changes the
 * answer; 206s, failed bodies and tar streams are never stored.
 * The upstream's request log (test/servers/request-log.ts) is the witness.
 */
import { describe, expect, it } from "vitest";
import { importFile } from "../../helpers/upstream";
import { pathGateway, pseudoRandomBytes } from "../path/helpers";
import { withUpstreams, uniquePersonality, requestLog, GATEWAY_ORIGIN } from "../../helpers/upstream";
import { edgeCacheKey } from "../../../src/gateway/cache/cache-key";
import { parseGatewayRequest } from "../../../src/gateway/request/gateway-request";

const RAW = "application/vnd.ipld.raw";

/** A fresh file (random seed: no other test, in any file, asks for the same CID). */
async function freshFile(length = 300 * 1024) {
  const bytes = pseudoRandomBytes(length, crypto.getRandomValues(new Uint32Array(1))[0]! | 1);
  const { cid } = await importFile(bytes, { chunkSize: 64 * 1024 });
  return { cid, bytes };
}

function headerList(res: Response): Record<string, string> {
  return Object.fromEntries(res.headers);
}

async function body(res: Response): Promise<Uint8Array> {
  return new Uint8Array(await res.arrayBuffer());
}

describe("edge cache", () => {
  it("a complete 200 is answered from the cache the second time: same status, headers and bytes, no upstream request", async () => {
    const file = await freshFile();
    const gw = pathGateway();
    const first = await gw.fetch(`/ipfs/${file.cid}`);
    expect(first.status).toBe(200);
    expect(first.headers.get("Content-Length")).toBe(String(file.bytes.length));
    expect(await body(first)).toEqual(file.bytes);
    await gw.settle();
    const asked = (await gw.asked()).length;
    expect(asked).toBeGreaterThan(0);

    const second = await gw.fetch(`/ipfs/${file.cid}`);
    expect(second.status).toBe(200);
    expect(headerList(second)).toEqual(headerList(first));
    expect(await body(second)).toEqual(file.bytes);
    await gw.settle();
    expect((await gw.asked()).length).toBe(asked);
  });

  it("HEAD and If-None-Match are answered from a cached GET", async () => {
    const file = await freshFile(1000);
    const gw = pathGateway();
    const first = await gw.fetch(`/ipfs/${file.cid}?format=raw`);
    expect(first.status).toBe(200);
    await body(first);
    await gw.settle();
    const asked = (await gw.asked()).length;

    const head = await gw.fetch(`/ipfs/${file.cid}?format=raw`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(headerList(head)).toEqual(headerList(first));
    expect(await head.text()).toBe("");

    // A path makes the handler resolve it before it can compare ETags; the cache answers at once.
    const dir = await importFile(file.bytes, { chunkSize: 64 * 1024 });
    expect(dir.cid.toString()).toBe(file.cid.toString());
    const inm = await gw.fetch(`/ipfs/${file.cid}?format=raw`, { headers: { "If-None-Match": `"${file.cid}.raw"` } });
    expect(inm.status).toBe(304);
    expect(inm.headers.get("ETag")).toBe(`"${file.cid}.raw"`);
    expect(inm.headers.get("X-Ipfs-Path")).toBe(`/ipfs/${file.cid}`);
    await gw.settle();
    expect((await gw.asked()).length).toBe(asked);
  });

  it("keys separate formats, Accept-derived formats and parameters", async () => {
    const file = await freshFile(2000);
    const gw = pathGateway();
    const get = async (path: string, headers: Record<string, string> = {}) => {
      const res = await gw.fetch(path, { headers });
      const bytes = await body(res);
      await gw.settle();
      return { res, bytes, asked: (await gw.asked()).length };
    };
    const plain = await get(`/ipfs/${file.cid}`);
    expect(plain.res.headers.get("Content-Type")).toBe("application/octet-stream");
    const raw = await get(`/ipfs/${file.cid}?format=raw`);
    expect(raw.asked).toBe(plain.asked + 1); // not the cached file
    expect(raw.res.headers.get("Content-Type")).toBe(RAW);
    const accept = await get(`/ipfs/${file.cid}`, { Accept: RAW });
    expect(accept.asked).toBe(raw.asked + 1); // Accept-derived: Content-Location differs
    expect(accept.res.headers.get("Content-Location")).toBe(`/ipfs/${file.cid}?format=raw`);
    const named = await get(`/ipfs/${file.cid}?format=raw&filename=x.bin`);
    expect(named.asked).toBe(accept.asked + 1);
    expect(named.res.headers.get("Content-Disposition")).toBe('attachment; filename="x.bin"');

    // The same answers again: all hits, whatever the order of parameters or the spelling of Accept.
    const again = [
      await get(`/ipfs/${file.cid}`),
      await get(`/ipfs/${file.cid}?format=raw`),
      await get(`/ipfs/${file.cid}`, { Accept: `${RAW}, */*;q=0.1` }),
      await get(`/ipfs/${file.cid}?filename=x.bin&format=raw`),
    ];
    expect(again.map((a) => a.asked)).toEqual([named.asked, named.asked, named.asked, named.asked]);
    expect(again[1]!.bytes).toEqual(raw.bytes);
    expect(again[2]!.res.headers.get("Content-Location")).toBe(`/ipfs/${file.cid}?format=raw`);
    expect(again[3]!.res.headers.get("Content-Disposition")).toBe('attachment; filename="x.bin"');
  });

  it("a 206 is never cached; a single Range on a cached file is answered from the cache with the handlers' 206", async () => {
    const file = await freshFile();
    const gw = pathGateway();
    const ranged = async (range: string) => {
      const res = await gw.fetch(`/ipfs/${file.cid}`, { headers: { Range: range } });
      const bytes = await body(res);
      await gw.settle();
      return { res, bytes, asked: (await gw.asked()).length };
    };
    const a = await ranged("bytes=100-199");
    expect(a.res.status).toBe(206);
    expect(a.bytes).toEqual(file.bytes.slice(100, 200));
    const b = await ranged("bytes=100-199");
    expect(b.asked).toBeGreaterThan(a.asked); // the 206 was not stored
    // Nor did the 206 fill the cache for a full GET.
    const full = await gw.fetch(`/ipfs/${file.cid}`);
    expect(await body(full)).toEqual(file.bytes);
    await gw.settle();
    const asked = (await gw.asked()).length;
    expect(asked).toBeGreaterThan(b.asked);

    // The file is cached now: a single range (open-ended, suffix, across blocks) is served from it, no upstream request,
    // with exactly the headers the handler's 206 carried.
    const c = await ranged("bytes=100-199");
    expect(c.asked).toBe(asked);
    expect(c.res.status).toBe(206);
    expect(c.bytes).toEqual(file.bytes.slice(100, 200));
    expect(headerList(c.res)).toEqual(headerList(a.res));
    const size = file.bytes.length;
    for (const [range, from, to] of [
      ["bytes=0-", 0, size],
      ["bytes=-1000", size - 1000, size],
      [`bytes=65000-${size + 10}`, 65000, size],
    ] as const) {
      const r = await ranged(range);
      expect(r.res.status).toBe(206);
      expect(r.res.headers.get("Content-Range")).toBe(`bytes ${from}-${to - 1}/${size}`);
      expect(r.res.headers.get("Content-Length")).toBe(String(to - from));
      expect(r.bytes).toEqual(file.bytes.slice(from, to));
    }
    expect((await gw.asked()).length).toBe(asked);

    // What the cache does not answer goes to the handlers: several ranges, an If-Range that is not the ETag, a 416.
    const multi = await ranged("bytes=0-9,20-29");
    expect(multi.res.status).toBe(206);
    expect(multi.res.headers.get("Content-Type")).toMatch(/^multipart\/byteranges; boundary=/);
    const stale = await gw.fetch(`/ipfs/${file.cid}`, { headers: { Range: "bytes=0-9", "If-Range": '"other"' } });
    expect(stale.status).toBe(200);
    expect(await body(stale)).toEqual(file.bytes);
    const unsatisfiable = await gw.fetch(`/ipfs/${file.cid}`, { headers: { Range: `bytes=${size}-` } });
    expect(unsatisfiable.status).toBe(416);
    expect(unsatisfiable.headers.get("Content-Range")).toBe(`bytes */${size}`);
    await unsatisfiable.arrayBuffer();
  });

  it("a multi-block file is served from the cache byte for byte, HEAD with the same headers", async () => {
    const file = await freshFile(3 * 1024 * 1024 + 17);
    const gw = pathGateway();
    const first = await gw.fetch(`/ipfs/${file.cid}`);
    expect(await body(first)).toEqual(file.bytes);
    await gw.settle();
    const asked = (await gw.asked()).length;
    const hit = await gw.fetch(`/ipfs/${file.cid}`);
    expect(hit.status).toBe(200);
    expect(headerList(hit)).toEqual(headerList(first));
    expect(await body(hit)).toEqual(file.bytes);
    const head = await gw.fetch(`/ipfs/${file.cid}`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(headerList(head)).toEqual(headerList(first));
    expect(await head.text()).toBe("");
    await gw.settle();
    expect((await gw.asked()).length).toBe(asked);
  });

  it("a cached body shorter than its Content-Length is never served: the request is a miss and the entry is replaced", async () => {
    const file = await freshFile(200 * 1024);
    const gw = pathGateway();
    const first = await gw.fetch(`/ipfs/${file.cid}`);
    expect(await body(first)).toEqual(file.bytes);
    await gw.settle();
    const asked = (await gw.asked()).length;

    // Replace the stored body with its first half under the same headers (as a store that kept part of a failed put
    // would): only the length check stands between it and the client.
    const url = `${GATEWAY_ORIGIN}/ipfs/${file.cid}`;
    const key = edgeCacheKey(parseGatewayRequest(new Request(url)), new Request(url))!;
    const stored = await caches.default.match(key);
    expect(stored?.headers.get("X-Edge-Length")).toBe(String(file.bytes.length));
    await stored!.arrayBuffer();
    expect(await caches.default.delete(key)).toBe(true);
    const half = new FixedLengthStream(file.bytes.length);
    const writer = half.writable.getWriter();
    const cut = caches.default.put(key, new Response(half.readable, { headers: stored!.headers }));
    await writer.write(file.bytes.slice(0, 100 * 1024));
    // Let the store take the part before the cut (it keeps what it received: an untimed wait, checked below).
    for (let i = 0; i < 50 && !(await caches.default.match(key)); i++) await new Promise((r) => setTimeout(r, 20));
    await writer.abort(new Error("cut"));
    await expect(cut).rejects.toThrow();
    const partial = await caches.default.match(key);
    expect(partial?.headers.get("Content-Length")).toBe(String(file.bytes.length));
    expect((await partial!.arrayBuffer()).byteLength).toBe(100 * 1024); // the store kept the part it received, under the full length

    const again = await gw.fetch(`/ipfs/${file.cid}`);
    expect(again.status).toBe(200);
    expect(headerList(again)).toEqual(headerList(first));
    expect(await body(again)).toEqual(file.bytes);
    await gw.settle();
    const afterMiss = (await gw.asked()).length;
    expect(afterMiss).toBeGreaterThan(asked); // a miss: served from upstream, in full

    // The miss stored the whole file again: the next request is a hit, whole.
    const hit = await gw.fetch(`/ipfs/${file.cid}`);
    expect(await body(hit)).toEqual(file.bytes);
    await gw.settle();
    expect((await gw.asked()).length).toBe(afterMiss);
  });

  // CARs are (test/gateway/cache/car-edge-cache.test.ts); tar is not (docs/architecture.md "Edge cache and the R2 tier").
  it("a tar (unknown length) is not cached", async () => {
    const file = await freshFile(1000);
    const gw = pathGateway();
    for (let i = 1; i <= 2; i++) {
      const res = await gw.fetch(`/ipfs/${file.cid}?format=tar`);
      expect(res.status).toBe(200);
      expect(res.headers.get("Content-Type")).toBe("application/x-tar");
      await body(res);
      await gw.settle();
      expect((await gw.asked()).length).toBe(i);
    }
  });

  it("a body that fails mid-stream is not cached: the next request goes upstream", async () => {
    const file = await freshFile();
    // Its only upstream flips a byte in the third leaf: the 200 is committed, then the body errors.
    const liar = withUpstreams([uniquePersonality("flip-byte-3")]);
    const broken = await liar.fetch(`/ipfs/${file.cid}`);
    expect(broken.status).toBe(200);
    await expect(broken.arrayBuffer()).rejects.toThrow();
    await liar.settle();

    const gw = pathGateway();
    const res = await gw.fetch(`/ipfs/${file.cid}`);
    expect(await body(res)).toEqual(file.bytes);
    await gw.settle();
    expect((await gw.asked()).length).toBeGreaterThan(0);
  });

  it("a client that goes away mid-body leaves nothing in the cache", async () => {
    const file = await freshFile(2 * 1024 * 1024);
    const slow = uniquePersonality("honest");
    const gw = withUpstreams([slow]);
    const res = await gw.fetch(`/ipfs/${file.cid}`);
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    await gw.settle();
    const before = (await requestLog(slow)).length;
    const again = await gw.fetch(`/ipfs/${file.cid}`);
    expect(await body(again)).toEqual(file.bytes);
    await gw.settle();
    expect((await requestLog(slow)).length).toBeGreaterThan(before);
  });
});
