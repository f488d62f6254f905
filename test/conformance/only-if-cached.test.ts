/**
 * Conformance checks P20, P21 (section D) and J13 (section E) of
 * test/fixtures/conformance/README.md: `Cache-Control: only-if-cached`
 * (path-gateway.md "only-if-cached HEAD behavior"). The fixtures live on the
 * test upstream, not here, so P20 first sends the request without
 * only-if-cached (which fills the edge cache), as the upstream suite's
 * gateway would have the data locally.
 */
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import { describe, expect, it } from "vitest";
import { fetchWorker } from "../helpers/upstream";

const GC_R1 = "bafybeib3ffl2teiqdncv3mkz4r23b5ctrwkzrrhctdbne6iboayxuxk5ui";
const GC_R4_HEX = "12340a24015512205891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03120a696e6465782e68746d6c18060a020801";
const MISSING = "QmYzfKSE55XCjD1MW128RfciAf2DViABhEiXfgVFMabSjN";
const ONLY = { "Cache-Control": "only-if-cached" };

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

describe("only-if-cached conformance", () => {
  it("P20 HEAD and GET of cached content with only-if-cached: 200", async () => {
    const path = `/ipfs/${GC_R1}/root2/root3/root4/?format=raw`;
    const fill = await fetchWorker(path);
    expect(fill.status).toBe(200);
    expect(hex(new Uint8Array(await fill.arrayBuffer()))).toBe(GC_R4_HEX);
    // The edge cache is written in waitUntil: wait until the cached copy answers.
    let head: Response | undefined;
    for (let i = 0; i < 50; i++) {
      head = await fetchWorker(path, { method: "HEAD", headers: ONLY });
      if (head.status === 200) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(head?.status).toBe(200);
    const get = await fetchWorker(path, { headers: ONLY });
    expect(get.status).toBe(200);
    expect(get.headers.get("Cache-Control")).toBe("public, max-age=29030400, immutable");
    expect(hex(new Uint8Array(await get.arrayBuffer()))).toBe(GC_R4_HEX);
  });

  it("P21 HEAD and GET of a CID no one has, with only-if-cached: 412", async () => {
    for (const method of ["HEAD", "GET"]) {
      const res = await fetchWorker(`/ipfs/${MISSING}`, { method, headers: ONLY });
      expect(res.status).toBe(412);
      await res.arrayBuffer();
    }
  });

  it("J13 HEAD of a random absent CID with only-if-cached: 412", async () => {
    const random = CID.createV1(0x55, await sha256.digest(crypto.getRandomValues(new Uint8Array(32))));
    const res = await fetchWorker(`/ipfs/${random}`, { method: "HEAD", headers: ONLY });
    expect(res.status).toBe(412);
    expect(await res.text()).toBe("");
  });
});
