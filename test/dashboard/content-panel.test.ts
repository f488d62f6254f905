/**
 * Content panel (src/dashboard/content-panel.tsx, content-lookup.ts): a CID
 * looked up in the pins, R2, the edge cache and IPNI, and fetched (verified)
 * through the gateway.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 } from "multiformats/hashes/sha2";
import { describe, expect, inject, it } from "vitest";
import worker from "../../src/worker";
import { uniquePersonality, upstreamUrl } from "../helpers/upstream-url";
import { call, newAccount, pseudoRandomBytes } from "../pinning/helpers";
import { importFile } from "../helpers/upstream";
import { ADMIN } from "../pinning/helpers";
import { COOKIE, ORIGIN, page, signIn } from "./helpers";

function fact(html: string, name: string): string {
  const at = html.indexOf(`data-fact="${name}"`);
  expect(at, name).toBeGreaterThan(-1);
  // The fetch test is a whole <dl>; the others one <dd>.
  return html.slice(at, html.indexOf(name === "fetch-test" ? "</dl>" : "</dd>", at));
}

describe("dashboard content panel", () => {
  it("an uploaded file: pinned, in R2, edge cache after a GET, no providers; the fetch test verifies the whole CAR", async () => {
    const { token } = await newAccount("dash-content");
    const bytes = pseudoRandomBytes(1_200_000, 61);
    const up = await call("POST", "/api/v1/upload?name=content.bin", { token, body: bytes });
    expect(up.status).toBe(201);
    const { cid } = (await up.json()) as { cid: string };

    let html = await page(token, `/dashboard/content?cid=${cid}`);
    expect(fact(html, "pinned")).toContain('<span class="status status-pinned">pinned</span> content.bin');
    // Root node of a 2-chunk file: a small dag-pb block.
    expect(fact(html, "r2")).toMatch(/<span class="status status-yes">yes<\/span> root block, \d+ B/);
    expect(fact(html, "edge")).toContain(`<code>/ipfs/${cid}</code>: <span class="status status-no">not cached</span>`);
    expect(fact(html, "providers")).toContain('<span class="status status-no">none found</span>');
    expect(fact(html, "providers")).toContain(`${inject("ipniBase")}: ok`);
    expect(html).toContain("Run the fetch test");

    // A GET of the file puts it into the edge cache (waitUntil done before the next request reads it).
    const got = await call("GET", `/ipfs/${cid}`);
    expect(new Uint8Array(await got.arrayBuffer())).toEqual(bytes);
    for (let i = 0; i < 50 && !html.includes(`<code>/ipfs/${cid}</code>: <span class="status status-yes">cached</span>`); i++) {
      await new Promise((r) => setTimeout(r, 50));
      html = await page(token, `/dashboard/content?cid=${cid}`);
    }
    expect(fact(html, "edge")).toContain(`<code>/ipfs/${cid}</code>: <span class="status status-yes">cached</span>`);

    const car = await call("GET", `/ipfs/${cid}?format=car&dag-scope=all`, { headers: { Accept: "application/vnd.ipld.car" } });
    const carBytes = (await car.arrayBuffer()).byteLength;
    const tested = await page(token, `/dashboard/content?cid=${cid}&test=1`);
    expect(fact(tested, "fetch-test")).toContain('<span class="status status-yes">verified, complete</span>');
    expect(fact(tested, "fetch-test")).toContain(`<code>/ipfs/${cid}?format=car&amp;dag-scope=all</code> → 200`);
    expect(fact(tested, "bytes")).toMatch(new RegExp(`^data-fact="bytes">${carBytes} \\(`));
    expect(fact(tested, "ttfb")).toMatch(/^data-fact="ttfb">\d+ ms$/);
    expect(fact(tested, "throughput")).toMatch(/\/s$/);
  });

  it("content only upstream: not pinned, not in R2; the fetch test goes through the racing gateway", async () => {
    const { token } = await newAccount("dash-content-up");
    const file = await importFile(pseudoRandomBytes(100_000, 63), { chunkSize: 32_768 });
    const html = await page(token, `/dashboard/content?cid=${file.cid}&test=1`);
    expect(fact(html, "pinned")).toContain('<span class="status status-no">no</span>');
    expect(fact(html, "r2")).toContain('<span class="status status-no">no</span>');
    expect(fact(html, "fetch-test")).toContain('<span class="status status-yes">verified, complete</span>');
  });

  it("an upstream that flips a byte: the fetch test's stream breaks at the bad block and says so", async () => {
    const { token } = await newAccount("dash-content-liar");
    const file = await importFile(pseudoRandomBytes(200_000, 67), { chunkSize: 32_768 });
    const ctx = createExecutionContext();
    const liar = { ...env, UPSTREAMS: upstreamUrl(uniquePersonality("flip-byte-2")) };
    const res = await worker.fetch!(new Request(`${ORIGIN}/dashboard/content?cid=${file.cid}&test=1`, { headers: { Cookie: `${COOKIE}=${token}` } }) as never, liar, ctx);
    const html = await res.text();
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(200);
    expect(fact(html, "fetch-test")).toContain('<span class="status status-no">failed</span>');
    expect(fact(html, "fetch-test")).toContain("→ 200"); // the root verified, then block 2 did not
    const bytes = Number(/data-fact="bytes">(\d+) /.exec(html)![1]);
    expect(bytes).toBeGreaterThan(0);
  });

  it("a CID nobody has: the fetch test says it failed and why", async () => {
    const { token } = await newAccount("dash-content-404");
    // A CID of bytes made for this test: the local IPNI server is shared by every test file, and a
    // well-known CID (the empty block) may have providers registered by another file.
    const missing = CID.createV1(raw.code, await sha256.digest(new TextEncoder().encode(`dashboard content 404 ${crypto.randomUUID()}`))).toString();
    const html = await page(token, `/dashboard/content?cid=${missing}&test=1`);
    expect(fact(html, "fetch-test")).toContain('<span class="status status-no">failed</span>');
    expect(fact(html, "fetch-test")).toContain(`<div class="muted">${missing} not found on any upstream</div>`);
    expect(fact(html, "fetch-test")).toContain(`<code>/ipfs/${missing}?format=car&amp;dag-scope=all</code> → 404`);
  });

  it("the operator sees which accounts pinned it; a bad CID is a 400 with the reason", async () => {
    const { token, account } = await newAccount("dash-content-op");
    const up = await call("POST", "/api/v1/upload", { token, body: pseudoRandomBytes(5000, 65) });
    const { cid } = (await up.json()) as { cid: string };
    const cookie = await signIn(ADMIN);
    expect(fact(await page(cookie, `/dashboard/content?cid=${cid}`), "pinned")).toContain(account);
    expect(await page(cookie, "/dashboard/content?cid=xyz", 400)).toContain("invalid cid &quot;xyz&quot;: not a valid CID");
  });
});
