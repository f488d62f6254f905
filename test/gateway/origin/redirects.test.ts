/**
 * `_redirects` edge cases beyond the conformance fixtures (W01–W07 are in
 * test/conformance/ipns-subdomain-dnslink.test.ts), on sites built here with
 * the real UnixFS importer: query merging, every redirect code, absolute
 * targets, defective files and pages, and where rules must not apply
 * (existing paths, path gateways, trustless formats).
 */
import { inject } from "vitest";
import { describe, expect, it } from "vitest";
import { ed25519Key, makeRecord, putRecord } from "../../ipns/record-builder";
import { importDirectory } from "../../helpers/upstream";
import { H, originWorker } from "./helpers";

const worker = originWorker();
const enc = new TextEncoder();
const IMMUTABLE = "public, max-age=29030400, immutable";

/** A site with `index.html`, `a.txt`, `dir/b.txt` and the given `_redirects` (or `_redirects/` as a directory). */
async function site(redirects: string | "directory" | null): Promise<string> {
  const tag = crypto.randomUUID();
  const entries = [
    { path: "index.html", content: enc.encode(`index ${tag}\n`) },
    { path: "a.txt", content: enc.encode(`a ${tag}\n`) },
    { path: "dir/b.txt", content: enc.encode(`b ${tag}\n`) },
    { path: "gone.html", content: enc.encode(`gone page\n`) },
  ];
  if (redirects === "directory") entries.push({ path: "_redirects/x", content: enc.encode("x") });
  else if (redirects !== null) entries.push({ path: "_redirects", content: enc.encode(redirects) });
  return (await importDirectory(entries)).cid.toString();
}

const at = (cid: string, path: string) => `http://${cid}.ipfs.${H}${path}`;

describe("redirects", () => {
  it("the user's query is kept and overrides static values (\"Query Parameters\"); absolute targets; 303/307/308", async () => {
    const cid = await site(
      [
        "/source1/* /target-file?static-query1=static-val1&static-query2=static-val2 301",
        "/source2/:code/:name /target-file?code=:code&name=:name 302",
        "/source3/* https://example.net/target3/:splat 308",
        "/see-other /a.txt 303",
        "/temporary /a.txt 307",
      ].join("\n"),
    );
    for (const [path, status, location] of [
      ["/source1/x?static-query1=user&extra=1", 301, "/target-file?static-query2=static-val2&static-query1=user&extra=1"],
      ["/source2/404/not%20found", 302, "/target-file?code=404&name=not%20found"],
      ["/source3/a/b/?x=1", 308, "https://example.net/target3/a/b/?x=1"],
      ["/see-other", 303, "/a.txt"],
      ["/temporary?q", 307, "/a.txt?q="],
    ] as const) {
      const res = await worker.fetch(at(cid, path));
      expect([path, res.status, res.headers.get("Location")]).toEqual([path, status, location]);
      expect(res.headers.get("Cache-Control")).toBe(IMMUTABLE);
      expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
      await res.arrayBuffer();
    }
  });

  it("existing paths are served as they are, even under a catch-all rule (\"No Forced Redirects\")", async () => {
    const cid = await site("/* /index.html 200\n");
    const tag = (await (await worker.fetch(at(cid, "/index.html"))).text()).slice("index ".length);
    const file = await worker.fetch(at(cid, "/a.txt"));
    expect([file.status, await file.text()]).toEqual([200, `a ${tag}`]);
    const dir = await worker.fetch(at(cid, "/dir"));
    expect([dir.status, dir.headers.get("Location")]).toEqual([301, "/dir/"]);
    await dir.arrayBuffer();
    const rewritten = await worker.fetch(at(cid, "/dir/missing"));
    expect([rewritten.status, await rewritten.text()]).toEqual([200, `index ${tag}`]);
    const head = await worker.fetch(at(cid, "/nowhere"), { method: "HEAD" });
    expect([head.status, head.headers.get("Content-Length"), await head.text()]).toEqual([200, String(`index ${tag}`.length), ""]);
  });

  it("rules apply to site origins only: not on the path gateway, not to trustless formats", async () => {
    const cid = await site("/* /index.html 200\n");
    const path = await worker.fetch(`http://gateway.test/ipfs/${cid}/missing`);
    expect([path.status, await path.text()]).toEqual([404, `/ipfs/${cid}/missing not found on any upstream\n`]);
    expect(path.headers.get("Access-Control-Allow-Origin")).toBe("*");
    const raw = await worker.fetch(at(cid, "/missing?format=raw"));
    expect(raw.status).toBe(404);
    expect(raw.headers.get("Access-Control-Allow-Origin")).toBe("*");
    await raw.arrayBuffer();
  });

  it("no _redirects file, or no matching rule: the 404 stands", async () => {
    const none = await site(null);
    const res = await worker.fetch(at(none, "/missing"));
    expect([res.status, await res.text()]).toEqual([404, `/ipfs/${none}/missing not found on any upstream\n`]);
    const unmatched = await site("/only-this /a.txt\n");
    const other = await worker.fetch(at(unmatched, "/other"));
    expect(other.status).toBe(404);
    await other.arrayBuffer();
  });

  it("defects of the file or its targets: 500 with the reason, or the rule's status without a page", async () => {
    const dir = await site("directory");
    const notFile = await worker.fetch(at(dir, "/missing"));
    expect([notFile.status, await notFile.text()]).toEqual([500, "could not parse _redirects: it is not a file (HTTP 301)\n"]);

    const bad = await site("/a /b\n/c\n");
    const parse = await worker.fetch(at(bad, "/missing"));
    expect([parse.status, await parse.text()]).toEqual([500, 'could not parse _redirects: line 2: missing destination path: "/c"\n']);

    const external = await site("/ext https://example.net/page 200\n");
    const ext = await worker.fetch(at(external, "/ext"));
    expect([ext.status, await ext.text()]).toEqual([500, "could not parse _redirects: line 1: status 200 needs a path inside the site, not a URL\n"]);

    const pages = await site("/old/* /gone.html 410\n/legal/* /no-such-page.html 451\n/lost/* /no-such-page.html 200\n");
    const gone = await worker.fetch(at(pages, "/old/x"), { headers: { Range: "bytes=0-1", "If-None-Match": "*" } });
    // A custom page is served whole with the rule's status: Range and conditionals do not apply to it.
    expect([gone.status, await gone.text()]).toEqual([410, "gone page\n"]);
    const legal = await worker.fetch(at(pages, "/legal/x"));
    expect([legal.status, await legal.text()]).toEqual([
      451,
      "/legal/x: HTTP 451 per _redirects line 2, whose page /no-such-page.html could not be served (HTTP 404)\n",
    ]);
    const lost = await worker.fetch(at(pages, "/lost/x"));
    expect([lost.status, await lost.text()]).toEqual([404, `/ipfs/${pages}/no-such-page.html not found on any upstream\n`]);
  });

  it("an IPNS site's redirects carry the record's max-age, not immutable", async () => {
    const cid = await site("/moved /a.txt 302\n");
    const key = await ed25519Key();
    await putRecord(inject("routingBase"), key.name, await makeRecord(key, { value: `/ipfs/${cid}`, ttl: 120_000_000_000n }));
    const res = await worker.fetch(`http://${key.name}.ipns.${H}/moved`);
    expect([res.status, res.headers.get("Location")]).toEqual([302, "/a.txt"]);
    expect(res.headers.get("Cache-Control")).toMatch(/^public, max-age=1[0-2]\d$/);
    await res.arrayBuffer();
  });
});
