/**
 * dag-json / dag-cbor / json / cbor responses over blocks built on the fly:
 * as-is bytes, 406 on a codec mismatch (IPIP-524) decided from the CID
 * before any fetch when there is no path, pathing through links, the HTML
 * view for browsers, `?format=json` on a multi-block UnixFS JSON file.
 */
import * as dagCbor from "@ipld/dag-cbor";
import * as dagJson from "@ipld/dag-json";
import { describe, expect, it } from "vitest";
import { DAG_INDEX_VERSION } from "../../../src/gateway/handlers/dag-index-html";
import { importDirectory, putDagCbor, putDagJson } from "../../helpers/upstream";
import { bodyBytes, carRequest, hex, pathGateway } from "./helpers";

describe("dag-cbor and dag-json blocks", () => {
  it("as-is under their codec's type, by default and on request; the other codec → 406 without a fetch", async () => {
    const leaf = await putDagJson({ n: 1, s: "ä" });
    const doc = await putDagCbor({ title: "doc", leaf: leaf.cid, bytes: new Uint8Array([1, 2, 3]) });
    const gw = pathGateway();
    const plain = await gw.fetch(`/ipfs/${doc.cid}`);
    expect(plain.status).toBe(200);
    expect(plain.headers.get("Content-Type")).toBe("application/vnd.ipld.dag-cbor");
    expect(plain.headers.get("Etag")).toBe(`"${doc.cid}"`);
    expect(plain.headers.get("Content-Disposition")).toBe(`attachment; filename="${doc.cid}.cbor"`);
    expect(hex(await bodyBytes(plain))).toBe(hex(doc.bytes));

    const asCbor = await gw.fetch(`/ipfs/${doc.cid}?format=cbor`);
    expect(asCbor.headers.get("Content-Type")).toBe("application/cbor");
    expect(asCbor.headers.get("Etag")).toBe(`"${doc.cid}.cbor"`);
    expect(hex(await bodyBytes(asCbor))).toBe(hex(doc.bytes));
    expect((await gw.asked()).length).toBe(2);

    for (const format of ["dag-json", "json"]) {
      const refused = await gw.fetch(`/ipfs/${doc.cid}?format=${format}`);
      expect(refused.status).toBe(406);
      expect(await refused.text()).toBe(
        `${doc.cid} is dag-cbor, not ${format}: this gateway does not convert between codecs (IPIP-524); ask for ?format=raw and convert client-side\n`,
      );
    }
    expect((await gw.asked()).length).toBe(2);
  });

  it("pathing through a dag-cbor link to a dag-json block, one block-scope request", async () => {
    const leaf = await putDagJson({ n: 1, s: "ä" });
    const doc = await putDagCbor({ a: { b: [leaf.cid] } });
    const gw = pathGateway();
    const response = await gw.fetch(`/ipfs/${doc.cid}/a/b/0?format=dag-json`);
    expect(response.status).toBe(200);
    expect(response.headers.get("X-Ipfs-Roots")).toBe(`${doc.cid},${leaf.cid}`);
    expect(response.headers.get("Etag")).toBe(`"${leaf.cid}.dag-json"`);
    expect(dagJson.decode(await bodyBytes(response))).toEqual({ n: 1, s: "ä" });
    expect(await gw.asked()).toEqual([carRequest(String(doc.cid), "/a/b/0", "block")]);
    // A path that leads to a dag-json block asked as dag-cbor: decided after the walk.
    const refused = await gw.fetch(`/ipfs/${doc.cid}/a/b/0?format=dag-cbor`);
    expect(refused.status).toBe(406);
    await refused.arrayBuffer();
  });

  it("If-None-Match on ?format=dag-cbor without a path: 304 before any fetch", async () => {
    const doc = await putDagCbor({ x: 1 });
    const gw = pathGateway();
    const response = await gw.fetch(`/ipfs/${doc.cid}?format=dag-cbor`, { headers: { "If-None-Match": `"${doc.cid}.dag-cbor"` } });
    expect(response.status).toBe(304);
    expect(await gw.asked()).toEqual([]);
  });

  it("a browser gets the DAG view: links clickable, text escaped, bytes in DAG-JSON form; ?download=true gets the block", async () => {
    const leaf = await putDagJson({ n: 1 });
    const doc = await putDagCbor({ "<script>": "a&b", leaf: leaf.cid, raw: new Uint8Array([0xff, 0x00]) });
    const gw = pathGateway();
    const browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    const response = await gw.fetch(`/ipfs/${doc.cid}`, { headers: { Accept: browser } });
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("text/html; charset=utf-8");
    expect(response.headers.get("Etag")).toBe(`"DagIndex-${DAG_INDEX_VERSION}_CID-${doc.cid}"`);
    const html = await response.text();
    expect(html).toContain(
      // dag-cbor's key order (shorter first), as decoded.
      `<pre>{\n  "raw": {"/": {"bytes": "/wA"}},\n  "leaf": {"/": "<a href="/ipfs/${leaf.cid}">${leaf.cid}</a>"},\n  "&lt;script&gt;": "a&amp;b"\n}</pre>`,
    );
    expect(html).toContain('<a href="?format=dag-cbor" rel="nofollow">dag-cbor</a>');

    const download = await gw.fetch(`/ipfs/${doc.cid}?download=true`, { headers: { Accept: browser } });
    expect(download.headers.get("Content-Type")).toBe("application/vnd.ipld.dag-cbor");
    expect(download.headers.get("Content-Disposition")).toBe(`attachment; filename="${doc.cid}.cbor"`);
    expect(hex(await bodyBytes(download))).toBe(hex(dagCbor.encode(dagCbor.decode(doc.bytes))));
  });
});

describe("?format=json on UnixFS (IPIP-524 interop exception)", () => {
  it("a multi-block JSON file is streamed as application/json; a directory → 406", async () => {
    const json = JSON.stringify({ items: Array.from({ length: 500 }, (_, i) => ({ i, name: `item ${i}` })) });
    const dir = await importDirectory([{ path: "data.json", content: new TextEncoder().encode(json) }], { chunkSize: 1024 });
    const file = String(dir.paths.get("data.json"));
    const gw = pathGateway();
    const response = await gw.fetch(`/ipfs/${dir.cid}/data.json?format=json`);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("application/json");
    expect(response.headers.get("Etag")).toBe(`"${file}.json"`);
    expect(response.headers.get("Content-Length")).toBe(String(json.length));
    expect(await response.text()).toBe(json);
    expect(await gw.asked()).toEqual([carRequest(String(dir.cid), "/data.json", "entity")]);

    const ranged = await gw.fetch(`/ipfs/${dir.cid}/data.json?format=json`, { headers: { Range: "bytes=2000-2009" } });
    expect(ranged.status).toBe(206);
    expect(await ranged.text()).toBe(json.slice(2000, 2010));

    const refused = await gw.fetch(`/ipfs/${dir.cid}?format=json`);
    expect(refused.status).toBe(406);
    expect(await refused.text()).toContain("is dag-pb, not json");
    expect(await gw.counts()).toMatchObject({ invalidBlock: 0, error: 0 });
  });
});
