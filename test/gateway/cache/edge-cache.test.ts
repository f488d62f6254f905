/**
 * The edge cache (src/gateway/cache/): complete 200s of immutable content
 * are stored while they stream and answer the next identical request with
 * no upstream request at all; keys separate everything that changes the
 * answer; 206s, failed bodies and unknown-length streams are never stored.
 * The upstream's request log (test/servers/request-log.ts) is the witness.
 */
import { describe, expect, it } from "vitest";
import { importFile } from "../../helpers/upstream";
import { pathGateway, pseudoRandomBytes } from "../path/helpers";
import { withUpstreams, uniquePersonality, requestLog } from "../../helpers/upstream";

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

  it("a 206 is never cached, and a Range request is never answered from the cache", async () => {
    const file = await freshFile();
    const gw = pathGateway();
    const ranged = async () => {
      const res = await gw.fetch(`/ipfs/${file.cid}`, { headers: { Range: "bytes=100-199" } });
      expect(res.status).toBe(206);
      expect(await body(res)).toEqual(file.bytes.slice(100, 200));
      await gw.settle();
      return (await gw.asked()).length;
    };
    const a = await ranged();
    const b = await ranged();
    expect(b).toBeGreaterThan(a);
    // Nor did the 206 fill the cache for a full GET.
    const full = await gw.fetch(`/ipfs/${file.cid}`);
    expect(await body(full)).toEqual(file.bytes);
    await gw.settle();
    expect((await gw.asked()).length).toBeGreaterThan(b);
    // A cached full file does not answer a Range either.
    const c = await ranged();
    expect(c).toBeGreaterThan(b);
  });

  it("a CAR (unknown length) is not cached", async () => {
    const file = await freshFile(1000);
    const gw = pathGateway();
    for (let i = 1; i <= 2; i++) {
      const res = await gw.fetch(`/ipfs/${file.cid}?format=car`);
      expect(res.status).toBe(200);
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
