/**
 * UnixFS directories through the worker, over directories built on the fly
 * (plain and HAMT-sharded): the trailing-slash 301, index.html (also found
 * inside a HAMT), the generated listing (exact rows, parent link, sizes),
 * a HAMT listing of thousands of entries from one upstream CAR, and that no
 * honest upstream is blamed along the way.
 */
import * as dagPb from "@ipld/dag-pb";
import { describe, expect, it } from "vitest";
import { DIR_INDEX_VERSION } from "../../../src/gateway/handlers/directory-listing-html";
import { importDirectory, type ImportedDirectory } from "../../helpers/upstream";
import { carRequest, pathGateway } from "./helpers";

const enc = new TextEncoder();

function rows(html: string): string[] {
  return [...html.matchAll(/<tr><td><a href="([^"]*)">([^<]*)<\/a><\/td><td class="cid">(?:<a href="([^"]*)"[^>]*>[^<]*<\/a>)?<\/td><td class="size">([^<]*)<\/td><\/tr>/g)].map(
    (m) => `${m[2]} ${m[1]} ${m[3] ?? ""} ${m[4]}`.trim(),
  );
}

describe("trailing slash", () => {
  it("301 to the path with a slash, query kept, nothing more fetched than the directory", async () => {
    const dir = await importDirectory([{ path: "sub/a.txt", content: enc.encode("a") }]);
    const gw = pathGateway();
    for (const [path, location] of [
      [`/ipfs/${dir.cid}`, `/ipfs/${dir.cid}/`],
      [`/ipfs/${dir.cid}/sub?download=true&x=%20`, `/ipfs/${dir.cid}/sub/?download=true&x=%20`],
    ]) {
      const response = await gw.fetch(path!, { redirect: "manual" });
      expect(response.status).toBe(301);
      expect(response.headers.get("Location")).toBe(location);
      expect(await response.text()).toBe(`<a href="${location}">Moved Permanently</a>.\n`);
    }
    const head = await gw.fetch(`/ipfs/${dir.cid}/sub`, { method: "HEAD", redirect: "manual" });
    expect(head.status).toBe(301);
    expect(await gw.counts()).toMatchObject({ invalidBlock: 0, error: 0 });
  });
});

describe("index.html", () => {
  it("a plain directory with index.html serves it, with the directory's ETag and roots", async () => {
    const dir = await importDirectory([
      { path: "site/index.html", content: enc.encode("<h1>home</h1>\n") },
      { path: "site/about.html", content: enc.encode("about") },
    ]);
    const site = String(dir.paths.get("site"));
    const index = String(dir.paths.get("site/index.html"));
    const gw = pathGateway();
    const response = await gw.fetch(`/ipfs/${dir.cid}/site/`);
    expect(response.status).toBe(200);
    expect(response.headers.get("Etag")).toBe(`"${site}"`);
    expect(response.headers.get("X-Ipfs-Roots")).toBe(`${dir.cid},${site}`);
    expect(response.headers.get("Content-Type")).toBe("text/html; charset=utf-8");
    expect(response.headers.get("Cache-Control")).toBe("public, max-age=29030400, immutable");
    expect(await response.text()).toBe("<h1>home</h1>\n");
    expect(await gw.asked()).toEqual([carRequest(String(dir.cid), "/site", "entity"), carRequest(index, "", "entity")]);
    expect(await gw.counts()).toMatchObject({ ok: 2, invalidBlock: 0, error: 0, aborted: 0 });
  });

  it("a HAMT directory with index.html in a sub-shard: found by hash, the shard stream let go, not blamed", async () => {
    const entries = Array.from({ length: 1500 }, (_, i) => ({ path: `big/file-${i}.txt`, content: enc.encode(`${i}\n`) }));
    entries.push({ path: "big/index.html", content: enc.encode("<p>big index</p>\n") });
    const dir = await importDirectory(entries, { shardSplitThresholdBytes: 1000 });
    const gw = pathGateway();
    const response = await gw.fetch(`/ipfs/${dir.cid}/big/`);
    expect(response.status).toBe(200);
    expect(response.headers.get("Etag")).toBe(`"${dir.paths.get("big")}"`);
    expect(await response.text()).toBe("<p>big index</p>\n");
    // The shards on the way were read from the directory's own stream, then that stream was let go.
    expect(await gw.asked()).toEqual([carRequest(String(dir.cid), "/big", "entity"), carRequest(String(dir.paths.get("big/index.html")), "", "entity")]);
    expect(await gw.counts()).toMatchObject({ ok: 1, invalidBlock: 0, error: 0, aborted: 1 });
  });

  it("HEAD of a directory with index.html: the index's root block only", async () => {
    const dir = await importDirectory([{ path: "index.html", content: enc.encode("x".repeat(3000)) }], { chunkSize: 1024 });
    const index = String(dir.paths.get("index.html"));
    const gw = pathGateway();
    const response = await gw.fetch(`/ipfs/${dir.cid}/`, { method: "HEAD" });
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Length")).toBe("3000");
    expect(await gw.asked()).toEqual([carRequest(String(dir.cid), "", "block"), carRequest(index, "", "block")]);
  });
});

describe("generated listing", () => {
  let dir: ImportedDirectory;

  it("rows: name linked under the request path, CID linked with ?filename=, DAG size; parent link", async () => {
    dir = await importDirectory([
      { path: "docs/a b.txt", content: enc.encode("hello") },
      { path: "docs/<x>&\"y\".txt", content: enc.encode("x".repeat(2000)) },
      { path: "docs/sub/c.txt", content: enc.encode("c") },
      { path: "docs/üñï.md", content: enc.encode("u") },
    ]);
    const docs = String(dir.paths.get("docs"));
    const gw = pathGateway();
    const response = await gw.fetch(`/ipfs/${dir.cid}/docs/`);
    expect(response.status).toBe(200);
    expect(response.headers.get("Etag")).toBe(`"DirIndex-${DIR_INDEX_VERSION}_CID-${docs}"`);
    expect(response.headers.get("Content-Type")).toBe("text/html; charset=utf-8");
    expect(response.headers.get("X-Ipfs-Roots")).toBe(`${dir.cid},${docs}`);
    const html = await response.text();
    const base = `/ipfs/${dir.cid}/docs/`;
    const cid = (p: string) => String(dir.paths.get(`docs/${p}`));
    // Tsize of the link to sub/: its block plus c.txt's.
    const docsBlock = dagPb.decode(dir.blocks.find((b) => String(b.cid) === docs)!.bytes);
    const subDagSize = docsBlock.Links.find((l) => l.Name === "sub")!.Tsize;
    expect(rows(html)).toEqual([
      `.. ${base}..`,
      `&lt;x&gt;&amp;&quot;y&quot;.txt ${base}%3Cx%3E%26%22y%22.txt /ipfs/${cid('<x>&"y".txt')}?filename=%3Cx%3E%26%22y%22.txt 2.0 kB`,
      `a b.txt ${base}a%20b.txt /ipfs/${cid("a b.txt")}?filename=a%20b.txt 5 B`,
      `sub ${base}sub /ipfs/${cid("sub")}?filename=sub ${subDagSize} B`,
      `üñï.md ${base}%C3%BC%C3%B1%C3%AF.md /ipfs/${cid("üñï.md")}?filename=%C3%BC%C3%B1%C3%AF.md 1 B`,
    ]);
    expect(html).toContain("<strong>Index of</strong>");
    expect(html).toContain(`<a href="?format=car" rel="nofollow">CAR</a>`);
    expect(html.endsWith("</html>\n")).toBe(true);
    expect(await gw.asked()).toEqual([carRequest(String(dir.cid), "/docs", "entity")]);
  });

  it("HEAD of a listing: headers, no body", async () => {
    const gw = pathGateway();
    const response = await gw.fetch(`/ipfs/${dir.cid}/docs/`, { method: "HEAD" });
    expect(response.status).toBe(200);
    expect(response.headers.get("Etag")).toContain("DirIndex-");
    expect(await response.text()).toBe("");
  });

  it("a HAMT directory of 4000 entries: every entry once, from one upstream CAR (dag-scope=entity)", async () => {
    const n = 4000;
    const entries = Array.from({ length: n }, (_, i) => ({ path: `h/${String(i).padStart(5, "0")}.txt`, content: enc.encode(`${i}`) }));
    const hamt = await importDirectory(entries, { shardSplitThresholdBytes: 1000 });
    const h = String(hamt.paths.get("h"));
    const gw = pathGateway();
    const started = Date.now();
    const response = await gw.fetch(`/ipfs/${hamt.cid}/h/`);
    expect(response.status).toBe(200);
    const html = await response.text();
    const elapsed = Date.now() - started;
    const listed = rows(html).filter((r) => !r.startsWith(".. "));
    expect(listed.length).toBe(n);
    const names = listed.map((r) => r.split(" ")[0]!);
    expect(new Set(names).size).toBe(n);
    const sample = entries[1234]!.path.slice(2);
    expect(listed).toContain(`${sample} /ipfs/${hamt.cid}/h/${sample} /ipfs/${hamt.paths.get(`h/${sample}`)}?filename=${sample} 4 B`);
    expect(await gw.asked()).toEqual([carRequest(String(hamt.cid), "/h", "entity")]);
    expect(await gw.counts()).toMatchObject({ ok: 1, invalidBlock: 0, error: 0, aborted: 0 });
    expect(response.headers.get("Etag")).toBe(`"DirIndex-${DIR_INDEX_VERSION}_CID-${h}"`);
    expect(elapsed).toBeLessThan(5000);
  }, 120_000);
});
