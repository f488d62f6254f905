/**
 * `Cache-Control: only-if-cached` (path-gateway.md "only-if-cached"): served
 * from the edge cache or R2 only, else 412, and never a request to an
 * upstream or a content router.
 */
import { inject } from "vitest";
import { describe, expect, it } from "vitest";
import { importFile } from "../../helpers/upstream";
import { putInR2, unixfsDag } from "../../pinning/helpers";
import { pathGateway, pseudoRandomBytes } from "../path/helpers";

const ONLY = { "Cache-Control": "only-if-cached" };
const seed = () => crypto.getRandomValues(new Uint32Array(1))[0]! | 1;

async function ipniLookups(cid: string): Promise<unknown[]> {
  return (await fetch(`${inject("ipniBase")}/__log?cid=${cid}`)).json();
}

describe("Cache-Control: only-if-cached", () => {
  it("content nobody here holds: 412 for GET and HEAD, with no upstream request and no IPNI lookup", async () => {
    const { cid } = await importFile(pseudoRandomBytes(5000, seed())); // the upstream has it; we do not
    const gw = pathGateway();
    for (const method of ["GET", "HEAD"]) {
      const res = await gw.fetch(`/ipfs/${cid}`, { method, headers: ONLY });
      expect(res.status).toBe(412);
      expect(res.headers.get("Cache-Control")).toBe("no-store");
      await res.arrayBuffer();
    }
    const withOthers = await gw.fetch(`/ipfs/${cid}?format=raw`, { headers: { "Cache-Control": "max-age=0, Only-If-Cached" } });
    expect(withOthers.status).toBe(412);
    await gw.settle();
    expect(await gw.asked()).toEqual([]);
    expect(await ipniLookups(cid.toString())).toEqual([]);
  });

  it("after a GET filled the edge cache, the same request with only-if-cached is a 200 with the same bytes", async () => {
    const bytes = pseudoRandomBytes(5000, seed());
    const { cid } = await importFile(bytes);
    const gw = pathGateway();
    const first = await gw.fetch(`/ipfs/${cid}`);
    expect(new Uint8Array(await first.arrayBuffer())).toEqual(bytes);
    await gw.settle();
    const cached = await gw.fetch(`/ipfs/${cid}`, { headers: ONLY });
    expect(cached.status).toBe(200);
    expect(new Uint8Array(await cached.arrayBuffer())).toEqual(bytes);
    const head = await gw.fetch(`/ipfs/${cid}`, { method: "HEAD", headers: ONLY });
    expect(head.status).toBe(200);
    expect(head.headers.get("Content-Length")).toBe(String(bytes.length));
    await gw.settle();
    expect(await gw.asked()).toHaveLength(1);
  });

  it("content in R2 is a 200 (any format, Range too), never asking an upstream", async () => {
    const bytes = pseudoRandomBytes(200 * 1024, seed());
    const dag = await unixfsDag(bytes, 64 * 1024);
    await putInR2(dag.blocks);
    const gw = pathGateway();
    const file = await gw.fetch(`/ipfs/${dag.root}`, { headers: ONLY });
    expect(file.status).toBe(200);
    expect(new Uint8Array(await file.arrayBuffer())).toEqual(bytes);
    const car = await gw.fetch(`/ipfs/${dag.root}?format=car`, { headers: ONLY });
    expect(car.status).toBe(200);
    await car.arrayBuffer();
    const range = await gw.fetch(`/ipfs/${dag.root}`, { headers: { ...ONLY, Range: "bytes=0-9" } });
    expect(range.status).toBe(206);
    expect(new Uint8Array(await range.arrayBuffer())).toEqual(bytes.slice(0, 10));
    const head = await gw.fetch(`/ipfs/${dag.root}`, { method: "HEAD", headers: ONLY });
    expect(head.status).toBe(200);
    await gw.settle();
    expect(await gw.asked()).toEqual([]);
  });

  it("an R2 DAG with a block missing: 412 before the response starts, nothing asked upstream", async () => {
    const bytes = pseudoRandomBytes(200 * 1024, seed());
    const dag = await unixfsDag(bytes, 64 * 1024);
    const leaves = dag.blocks.filter((b) => b.cid.code === 0x55);
    await putInR2(dag.blocks.filter((b) => b !== leaves[0]));
    const gw = pathGateway();
    // The first leaf is needed before the status (content type sniffing): 412.
    const res = await gw.fetch(`/ipfs/${dag.root}`, { headers: ONLY });
    expect(res.status).toBe(412);
    await res.arrayBuffer();
    await gw.settle();
    expect(await gw.asked()).toEqual([]);
  });

  it("an identity CID needs nothing fetched: 200", async () => {
    const gw = pathGateway();
    const res = await gw.fetch(`/ipfs/bafkqaddwgevxmmraojswg33smq?format=raw`, { headers: ONLY });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("v1+v2 record");
  });
});
