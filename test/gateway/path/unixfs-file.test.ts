/**
 * Deserialized UnixFS files through the worker, over DAGs built on the fly
 * with the real importer: every layout streams the exact bytes; Range asks
 * upstream only for the blocks it needs (the entity-bytes the worker sent
 * are read back from the upstream's request log); multipart bodies byte for
 * byte; 416; HEAD and If-None-Match with the fewest upstream requests.
 */
import * as dagPb from "@ipld/dag-pb";
import { UnixFS } from "ipfs-unixfs";
import { CID } from "multiformats/cid";
import { identity } from "multiformats/hashes/identity";
import { sha256 } from "multiformats/hashes/sha2";
import { describe, expect, it } from "vitest";
import { importDirectory, importFile, putBlocks, type ImportOptions } from "../../helpers/upstream";
import { bodyBytes, carRequest, hex, pathGateway, pseudoRandomBytes } from "./helpers";

const SMALL_TREE: ImportOptions = { chunkSize: 1024, maxChildrenPerNode: 4 };

describe("whole files of every layout", () => {
  const layouts: [string, ImportOptions][] = [
    ["balanced, raw leaves, CIDv1", { ...SMALL_TREE }],
    ["balanced, dag-pb leaves, CIDv0", { ...SMALL_TREE, rawLeaves: false, cidVersion: 0 }],
    ["trickle, raw leaves", { ...SMALL_TREE, layout: "trickle" }],
    ["trickle, dag-pb leaves, CIDv0", { ...SMALL_TREE, layout: "trickle", rawLeaves: false, cidVersion: 0 }],
    ["flat, odd chunk size", { chunkSize: 777, layout: "flat" }],
    ["one raw block", { chunkSize: 1 << 20 }],
  ];
  for (const [title, options] of layouts) {
    it(title, async () => {
      const content = pseudoRandomBytes(20_000 + title.length, title.length);
      const file = await importFile(content, options);
      const gw = pathGateway();
      const response = await gw.fetch(`/ipfs/${file.cid}`);
      expect(response.status).toBe(200);
      expect(response.headers.get("Content-Length")).toBe(String(content.length));
      expect(response.headers.get("Etag")).toBe(`"${file.cid}"`);
      expect(response.headers.get("Cache-Control")).toBe("public, max-age=29030400, immutable");
      expect(response.headers.get("X-Ipfs-Roots")).toBe(String(file.cid));
      expect(response.headers.get("Content-Type")).toBe("application/octet-stream");
      expect(hex(await bodyBytes(response))).toBe(hex(content));
      // One upstream CAR carried the whole file.
      expect(await gw.asked()).toEqual([carRequest(String(file.cid), "", "entity")]);
      expect(await gw.counts()).toMatchObject({ ok: 1, invalidBlock: 0, error: 0 });
    });
  }

  it("a file with inline identity leaves: those bytes come from the CID, never from upstream", async () => {
    const inline = new TextEncoder().encode("inline part, ");
    const stored = new TextEncoder().encode("stored part\n");
    const idLeaf = CID.createV1(0x55, identity.digest(inline));
    const rawLeaf = { cid: CID.createV1(0x55, await sha256.digest(stored)), bytes: stored };
    const unixfs = new UnixFS({ type: "file", blockSizes: [BigInt(inline.length), BigInt(stored.length)] });
    const rootBytes = dagPb.encode({ Data: unixfs.marshal(), Links: [{ Hash: idLeaf, Tsize: inline.length }, { Hash: rawLeaf.cid, Tsize: stored.length }] });
    const root = { cid: CID.createV1(0x70, await sha256.digest(rootBytes)), bytes: rootBytes };
    await putBlocks([root, rawLeaf]);
    const gw = pathGateway();
    const response = await gw.fetch(`/ipfs/${root.cid}?filename=parts.txt`);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("text/plain; charset=utf-8");
    expect(response.headers.get("Content-Disposition")).toBe('inline; filename="parts.txt"');
    expect(await response.text()).toBe("inline part, stored part\n");
  });

  it("an empty file", async () => {
    const file = await importFile(new Uint8Array(0));
    const gw = pathGateway();
    const response = await gw.fetch(`/ipfs/${file.cid}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Length")).toBe("0");
    expect(response.headers.get("Content-Type")).toBe("text/plain; charset=utf-8");
    expect((await bodyBytes(response)).length).toBe(0);
  });
});

describe("Content-Type: extension, then sniffing", () => {
  it("by extension, whatever the bytes", async () => {
    const dir = await importDirectory([
      { path: "page.html", content: new TextEncoder().encode("plain words") },
      { path: "image.SVG", content: new TextEncoder().encode("<svg></svg>") },
      { path: "noext", content: Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13) },
      { path: "doc", content: new TextEncoder().encode("  <!DOCTYPE html><p>hi</p>") },
      { path: "data", content: new TextEncoder().encode('{"a": [1, 2]}') },
      { path: "notes", content: new TextEncoder().encode("just some text\n") },
      { path: "pic.unknownext", content: new TextEncoder().encode('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>') },
    ]);
    const gw = pathGateway();
    const expected: Record<string, string> = {
      "page.html": "text/html; charset=utf-8",
      "image.SVG": "image/svg+xml",
      noext: "image/png",
      doc: "text/html; charset=utf-8",
      data: "application/json",
      notes: "text/plain; charset=utf-8",
      "pic.unknownext": "image/svg+xml",
    };
    for (const [name, type] of Object.entries(expected)) {
      const response = await gw.fetch(`/ipfs/${dir.cid}/${name}`);
      expect(response.headers.get("Content-Type"), name).toBe(type);
      await response.arrayBuffer();
    }
    // ?filename= beats the path for the type too.
    const renamed = await gw.fetch(`/ipfs/${dir.cid}/notes?filename=notes.css`);
    expect(renamed.headers.get("Content-Type")).toBe("text/css; charset=utf-8");
    await renamed.arrayBuffer();
  });
});

describe("Range", () => {
  async function clip() {
    const content = pseudoRandomBytes(40_960, 7);
    const dir = await importDirectory([{ path: "clip.mp4", content }], SMALL_TREE);
    return { content, dir: String(dir.cid), file: String(dir.paths.get("clip.mp4")) };
  }

  it("the tail of a file: one upstream CAR with exactly that entity-bytes, a few blocks", async () => {
    const { content, dir } = await clip();
    const gw = pathGateway();
    const response = await gw.fetch(`/ipfs/${dir}/clip.mp4`, { headers: { Range: "bytes=40000-40959" } });
    expect(response.status).toBe(206);
    expect(response.headers.get("Content-Range")).toBe("bytes 40000-40959/40960");
    expect(response.headers.get("Content-Length")).toBe("960");
    expect(response.headers.get("Content-Type")).toBe("video/mp4");
    expect(hex(await bodyBytes(response))).toBe(hex(content.subarray(40000)));
    const log = await gw.asked();
    expect(log).toEqual([carRequest(dir, "/clip.mp4", "entity", "40000:40959")]);
  });

  it("the upstream sent only the blocks of that range (bytes on the wire, not the 40 KiB file)", async () => {
    const { dir } = await clip();
    const gw = pathGateway();
    const tail = await gw.fetch(`/ipfs/${dir}/clip.mp4`, { headers: { Range: "bytes=-100" } });
    await tail.arrayBuffer();
    const { requestLog } = await import("../../helpers/upstream");
    const [entry] = await requestLog(gw.personality);
    expect(entry?.url).toContain("entity-bytes=-100:*");
    // path blocks + 2-3 tree nodes + one 1 KiB leaf: far below the 40 KiB of the file.
    expect(entry!.bytesSent).toBeLessThan(4_000);
  });

  it("several ranges: multipart/byteranges byte for byte, one narrow upstream request per range", async () => {
    const { content, dir, file } = await clip();
    const gw = pathGateway();
    const response = await gw.fetch(`/ipfs/${dir}/clip.mp4`, { headers: { Range: "bytes=0-9, 5000-6100, -10" } });
    expect(response.status).toBe(206);
    const boundary = /^multipart\/byteranges; boundary=(\w+)$/.exec(response.headers.get("Content-Type") ?? "")?.[1];
    const enc = new TextEncoder();
    const part = (first: number, last: number, i: number) => [
      enc.encode(`${i > 0 ? "\r\n" : ""}--${boundary}\r\nContent-Type: video/mp4\r\nContent-Range: bytes ${first}-${last}/40960\r\n\r\n`),
      content.subarray(first, last + 1),
    ];
    const expected = [...part(0, 9, 0), ...part(5000, 6100, 1), ...part(40950, 40959, 2), enc.encode(`\r\n--${boundary}--\r\n`)];
    const body = await bodyBytes(response);
    expect(hex(body)).toBe(expected.map(hex).join(""));
    expect(response.headers.get("Content-Length")).toBe(String(body.length));
    expect(await gw.asked()).toEqual([
      carRequest(dir, "/clip.mp4", "entity", "0:9"),
      carRequest(file, "", "entity", "5000:6100"),
      carRequest(file, "", "entity", "40950:40959"),
    ]);
    expect(await gw.counts()).toMatchObject({ invalidBlock: 0, error: 0 });
  });

  it("a range on a bare CID: the first bytes for the type, then the range", async () => {
    const content = pseudoRandomBytes(30_000, 3);
    content.set([0x47, 0x49, 0x46, 0x38, 0x39, 0x61]); // GIF89a
    const file = String((await importFile(content, SMALL_TREE)).cid);
    const gw = pathGateway();
    const response = await gw.fetch(`/ipfs/${file}`, { headers: { Range: "bytes=29000-29999" } });
    expect(response.status).toBe(206);
    expect(response.headers.get("Content-Type")).toBe("image/gif");
    expect(hex(await bodyBytes(response))).toBe(hex(content.subarray(29000)));
    expect(await gw.asked()).toEqual([carRequest(file, "", "entity", "0:511"), carRequest(file, "", "entity", "29000:29999")]);
  });

  it("unsatisfiable → 416 with the size", async () => {
    const { dir } = await clip();
    const gw = pathGateway();
    const response = await gw.fetch(`/ipfs/${dir}/clip.mp4`, { headers: { Range: "bytes=40960-" } });
    expect(response.status).toBe(416);
    expect(response.headers.get("Content-Range")).toBe("bytes */40960");
    await response.arrayBuffer();
  });

  it("If-Range: the ETag keeps the range, anything else gets the whole file", async () => {
    const { content, dir, file } = await clip();
    const gw = pathGateway();
    const kept = await gw.fetch(`/ipfs/${dir}/clip.mp4`, { headers: { Range: "bytes=1-2", "If-Range": `"${file}"` } });
    expect(kept.status).toBe(206);
    expect(hex(await bodyBytes(kept))).toBe(hex(content.subarray(1, 3)));
    const dropped = await gw.fetch(`/ipfs/${dir}/clip.mp4`, { headers: { Range: "bytes=1-2", "If-Range": '"other"' } });
    expect(dropped.status).toBe(200);
    expect(hex(await bodyBytes(dropped))).toBe(hex(content));
    // The stream opened for the ignored range was let go, not blamed.
    expect(await gw.counts()).toMatchObject({ invalidBlock: 0, error: 0 });
  });

  it("more than four ranges are ignored (200): each range is an upstream request", async () => {
    const { content, dir } = await clip();
    const gw = pathGateway();
    const four = await gw.fetch(`/ipfs/${dir}/clip.mp4`, { headers: { Range: "bytes=0-1,3000-3001,9000-9001,20000-20001" } });
    expect(four.status).toBe(206);
    expect(four.headers.get("Content-Type")).toMatch(/^multipart\/byteranges; /);
    await four.arrayBuffer();
    const five = await gw.fetch(`/ipfs/${dir}/clip.mp4`, { headers: { Range: "bytes=0-1,3000-3001,9000-9001,20000-20001,30000-30001" } });
    expect(five.status).toBe(200);
    expect(hex(await bodyBytes(five))).toBe(hex(content));
  });

  it("ranges adding up to more than the file are ignored (200), not multiplied", async () => {
    const { content, dir } = await clip();
    const gw = pathGateway();
    const response = await gw.fetch(`/ipfs/${dir}/clip.mp4`, { headers: { Range: "bytes=0-,0-,0-" } });
    expect(response.status).toBe(200);
    expect((await bodyBytes(response)).length).toBe(content.length);
  });
});

describe("HEAD and If-None-Match fetch as little as possible", () => {
  it("HEAD with a known extension: the path and the file's root block only", async () => {
    const content = pseudoRandomBytes(10_000, 5);
    const dir = String((await importDirectory([{ path: "a/movie.webm", content }], SMALL_TREE)).cid);
    const gw = pathGateway();
    const response = await gw.fetch(`/ipfs/${dir}/a/movie.webm`, { method: "HEAD" });
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Length")).toBe("10000");
    expect(response.headers.get("Content-Type")).toBe("video/webm");
    expect(await response.text()).toBe("");
    expect(await gw.asked()).toEqual([carRequest(dir, "/a/movie.webm", "block")]);
    expect(await gw.counts()).toMatchObject({ ok: 1, invalidBlock: 0 });
  });

  it("HEAD without a known extension: the first 512 bytes for sniffing", async () => {
    const content = pseudoRandomBytes(10_000, 6);
    content.set([0x25, 0x50, 0x44, 0x46, 0x2d]); // %PDF-
    const file = String((await importFile(content, SMALL_TREE)).cid);
    const gw = pathGateway();
    const response = await gw.fetch(`/ipfs/${file}`, { method: "HEAD" });
    expect(response.headers.get("Content-Type")).toBe("application/pdf");
    expect(response.headers.get("Content-Length")).toBe("10000");
    expect(await gw.asked()).toEqual([carRequest(file, "", "entity", "0:511")]);
  });

  it("If-None-Match on /ipfs/{cid}: 304 without asking any upstream", async () => {
    const file = String((await importFile(pseudoRandomBytes(5000, 8), SMALL_TREE)).cid);
    const gw = pathGateway();
    for (const inm of [`"${file}"`, `W/"${file}"`, `"a", "${file}"`]) {
      const response = await gw.fetch(`/ipfs/${file}`, { headers: { "If-None-Match": inm } });
      expect(response.status).toBe(304);
      expect(response.headers.get("Etag")).toBe(`"${file}"`);
      expect(response.headers.get("X-Ipfs-Path")).toBe(`/ipfs/${file}`);
    }
    expect(await gw.asked()).toEqual([]);
  });

  it("If-None-Match on a path: 304 after resolving the path alone; a stale tag gets the file", async () => {
    const content = pseudoRandomBytes(5000, 9);
    const dir = await importDirectory([{ path: "f.bin", content }], SMALL_TREE);
    const file = String(dir.paths.get("f.bin"));
    const gw = pathGateway();
    const hit = await gw.fetch(`/ipfs/${dir.cid}/f.bin`, { headers: { "If-None-Match": `"${file}"` } });
    expect(hit.status).toBe(304);
    expect(await gw.asked()).toEqual([carRequest(String(dir.cid), "/f.bin", "block")]);
    const miss = await gw.fetch(`/ipfs/${dir.cid}/f.bin`, { headers: { "If-None-Match": '"stale"' } });
    expect(miss.status).toBe(200);
    expect(hex(await bodyBytes(miss))).toBe(hex(content));
    expect((await gw.asked()).slice(1)).toEqual([carRequest(String(dir.cid), "/f.bin", "block"), carRequest(file, "", "entity", "0:4999")]);
  });
});

describe("Content-Disposition (path-gateway.md#content-disposition-response-header)", () => {
  it("absent by default, inline with ?filename=, attachment with ?download=true, UTF-8 names with a fallback", async () => {
    const dir = await importDirectory([{ path: "résumé.txt", content: new TextEncoder().encode("cv\n") }]);
    const gw = pathGateway();
    const plain = await gw.fetch(`/ipfs/${dir.cid}/r%C3%A9sum%C3%A9.txt`);
    expect(plain.headers.get("Content-Disposition")).toBeNull();
    const named = await gw.fetch(`/ipfs/${dir.cid}/r%C3%A9sum%C3%A9.txt?filename=cv.txt`);
    expect(named.headers.get("Content-Disposition")).toBe('inline; filename="cv.txt"');
    const download = await gw.fetch(`/ipfs/${dir.cid}/r%C3%A9sum%C3%A9.txt?download=true`);
    expect(download.headers.get("Content-Disposition")).toBe(`attachment; filename="r_sum_.txt"; filename*=UTF-8''r%C3%A9sum%C3%A9.txt`);
    for (const r of [plain, named, download]) expect(await r.text()).toBe("cv\n");
  });
});

describe("a lying upstream mid-file", () => {
  it("a flipped block is dropped and the rest of the file comes from the next upstream, asked from that offset", async () => {
    const content = pseudoRandomBytes(8 * 1024, 11);
    const file = String((await importFile(content, { chunkSize: 1024, layout: "flat" })).cid);
    const { uniquePersonality, withUpstreams, requestLog } = await import("../../helpers/upstream");
    const liar = uniquePersonality("flip-byte-2");
    const honest = uniquePersonality("honest");
    const worker = withUpstreams([liar, honest]);
    const response = await worker.fetch(`/ipfs/${file}`);
    expect(response.status).toBe(200);
    expect(hex(await bodyBytes(response))).toBe(hex(content));
    // CAR index 2 is the second leaf (bytes 1024–2047): the resume asks for the file from there.
    const asked = (await requestLog(honest)).map((e) => e.url.slice(honest.length + 1));
    expect(asked).toEqual([carRequest(file, "", "entity", "1024:8191")]);
  });

  it("a stream that dies mid-file is resumed; one that cannot be resumed aborts the body", async () => {
    const content = pseudoRandomBytes(8 * 1024, 12);
    const file = String((await importFile(content, { chunkSize: 1024, layout: "flat" })).cid);
    const alone = pathGateway("truncate-3000");
    const response = await alone.fetch(`/ipfs/${file}`);
    expect(response.status).toBe(200);
    await expect(response.arrayBuffer()).rejects.toThrow();
  });
});
