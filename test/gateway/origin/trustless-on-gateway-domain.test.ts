import { describe, expect, it } from "vitest";
import { H, originWorker } from "./helpers";

/** GC_INDEX of the gateway-cache fixture: `hello\n`. */
const GC_INDEX = "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am";

describe("trustless requests on the gateway domain are served in place (no subdomain redirect)", () => {
  const worker = originWorker();

  it("a raw block by ?format=raw and by Accept", async () => {
    const requests: { url: string; headers: Record<string, string> }[] = [
      { url: `http://${H}/ipfs/${GC_INDEX}?format=raw`, headers: {} },
      { url: `http://${H}/ipfs/${GC_INDEX}`, headers: { Accept: "application/vnd.ipld.raw" } },
    ];
    for (const init of requests) {
      const res = await worker.fetch(init.url, { headers: init.headers });
      expect(res.status).toBe(200);
      expect(res.headers.get("Content-Type")).toBe("application/vnd.ipld.raw");
      expect(await res.text()).toBe("hello\n");
    }
  });

  it("a CAR", async () => {
    const res = await worker.fetch(`http://${H}/ipfs/${GC_INDEX}`, { headers: { Accept: "application/vnd.ipld.car" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("application/vnd.ipld.car; version=1; order=dfs; dups=n");
    await res.arrayBuffer();
  });

  it("while a browser request for the same path still moves to the subdomain", async () => {
    const res = await worker.fetch(`http://${H}/ipfs/${GC_INDEX}`, { headers: { Accept: "text/html" } });
    expect(res.status).toBe(301);
    expect(res.headers.get("Location")).toBe(`http://${GC_INDEX}.ipfs.${H}/`);
  });
});
