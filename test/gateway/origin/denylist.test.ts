/**
 * The denylist guard on every kind of content request (docs/denylist.md,
 * "Use in the request path"): /ipfs/ paths, /ipns/ names (keys and DNSLink),
 * subdomains and DNSLink hosts answer 410 (or 451) before any upstream or
 * router is asked, with CORS, `no-store`, and a message that names the
 * path but not the rule. Entries are added through the operator API; the
 * isolate's snapshot is dropped after each change so the next request
 * takes a fresh one (the admin test covers the 30 s re-check itself).
 */
import { inject } from "vitest";
import { describe, expect, it } from "vitest";
import { resetDenylistMatcher } from "../../../src/denylist/isolate-matcher";
import { ed25519Key, makeRecord, putRecord, routerHits } from "../../ipns/record-builder";
import { importDirectory, requestLog, uniquePersonality, upstreamUrl } from "../../helpers/upstream";
import { H, originWorker } from "./helpers";

const ADMIN = { Authorization: "Bearer test-admin-token", "Content-Type": "application/json" };
const PLAIN = "http://gateway.test";

async function deny(entry: string, status?: 410 | 451): Promise<void> {
  const res = await originWorker().fetch(`http://${H}/api/v1/denylist`, { method: "POST", headers: ADMIN, body: JSON.stringify({ entry, status }) });
  expect(res.status).toBe(201);
  await res.arrayBuffer();
  resetDenylistMatcher();
}

/** A worker whose only upstream is a personality of its own, so its request log is this test's. */
function isolatedWorker() {
  const personality = uniquePersonality("honest");
  return { worker: originWorker({ UPSTREAMS: upstreamUrl(personality) }), log: () => requestLog(personality) };
}

/** A fresh site, unknown to every other test: `a.txt`, `b.txt`, `dir/c.txt`. */
async function freshSite() {
  const tag = crypto.randomUUID();
  const enc = new TextEncoder();
  const dir = await importDirectory([
    { path: "a.txt", content: enc.encode(`a ${tag}\n`) },
    { path: "b.txt", content: enc.encode(`b ${tag}\n`) },
    { path: "dir/c.txt", content: enc.encode(`c ${tag}\n`) },
  ]);
  return { cid: dir.cid.toString(), tag };
}

async function expectDenied(res: Response, status: 410 | 451, body: string): Promise<void> {
  expect([res.status, await res.text()]).toEqual([status, body]);
  expect(res.headers.get("Cache-Control")).toBe("no-store");
  expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
}

const gone = (path: string) => `${path} is not served: blocked by this gateway's denylist\n`;
const legal = (path: string) => `${path} is unavailable for legal reasons: blocked by this gateway's denylist\n`;

describe("/ipfs/ paths and subdomains", () => {
  it("a denied CID is 410 on the path gateway, on its subdomain and for every path under it; no upstream is asked", async () => {
    const { cid } = await freshSite();
    await deny(`/ipfs/${cid}`);
    const { worker, log } = isolatedWorker();
    await expectDenied(await worker.fetch(`${PLAIN}/ipfs/${cid}`), 410, gone(`/ipfs/${cid}`));
    await expectDenied(await worker.fetch(`${PLAIN}/ipfs/${cid}/dir/c.txt?format=raw`), 410, gone(`/ipfs/${cid}/dir/c.txt`));
    // On the subdomain the message names the content path the host and path stand for.
    await expectDenied(await worker.fetch(`http://${cid}.ipfs.${H}/a.txt`), 410, gone(`/ipfs/${cid}/a.txt`));
    const head = await worker.fetch(`http://${cid}.ipfs.${H}/`, { method: "HEAD" });
    expect([head.status, await head.text()]).toEqual([410, ""]);
    await worker.settle();
    expect(await log()).toEqual([]);
  });

  it("a path rule with status 451 blocks that path only", async () => {
    const { cid, tag } = await freshSite();
    await deny(`/ipfs/${cid}/a.txt`, 451);
    const { worker } = isolatedWorker();
    await expectDenied(await worker.fetch(`http://${cid}.ipfs.${H}/a.txt`), 451, legal(`/ipfs/${cid}/a.txt`));
    await expectDenied(await worker.fetch(`${PLAIN}/ipfs/${cid}/a.txt`), 451, legal(`/ipfs/${cid}/a.txt`));
    const other = await worker.fetch(`http://${cid}.ipfs.${H}/b.txt`);
    expect([other.status, await other.text()]).toEqual([200, `b ${tag}\n`]);
  });

  it("a legacy badbits double-hash (sha256 of `CIDv1/`) blocks the subdomain", async () => {
    const { cid } = await freshSite();
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${cid}/`)));
    await deny(`//${[...digest].map((b) => b.toString(16).padStart(2, "0")).join("")}`);
    const { worker, log } = isolatedWorker();
    await expectDenied(await worker.fetch(`http://${cid}.ipfs.${H}/`), 410, gone(`/ipfs/${cid}/`));
    await worker.settle();
    expect(await log()).toEqual([]);
  });

  it("the path gateway's redirect to a subdomain fetches nothing, so it is not checked; the subdomain is", async () => {
    const { cid } = await freshSite();
    await deny(`/ipfs/${cid}`);
    const { worker } = isolatedWorker();
    const moved = await worker.fetch(`http://${H}/ipfs/${cid}/a.txt`);
    expect([moved.status, moved.headers.get("Location")]).toEqual([301, `http://${cid}.ipfs.${H}/a.txt`]);
    await expectDenied(await worker.fetch(moved.headers.get("Location")!), 410, gone(`/ipfs/${cid}/a.txt`));
  });
});

describe("/ipns/ names", () => {
  async function freshName(cid: string) {
    const key = await ed25519Key();
    await putRecord(inject("routingBase"), key.name, await makeRecord(key, { value: `/ipfs/${cid}` }));
    return key.name;
  }

  it("a denied IPNS name is 410 before its record is asked for, on the path gateway and its subdomain", async () => {
    const { cid } = await freshSite();
    const name = await freshName(cid);
    await deny(`/ipns/${name}`);
    const { worker, log } = isolatedWorker();
    await expectDenied(await worker.fetch(`${PLAIN}/ipns/${name}/a.txt`), 410, gone(`/ipns/${name}/a.txt`));
    await expectDenied(await worker.fetch(`${PLAIN}/ipns/${name}?format=ipns-record`), 410, gone(`/ipns/${name}`));
    await expectDenied(await worker.fetch(`http://${name}.ipns.${H}/`), 410, gone(`/ipns/${name}`));
    expect(await routerHits(inject("routingBase"), name)).toBe(0);
    await worker.settle();
    expect(await log()).toEqual([]);
  });

  it("a name pointing at a denied CID: resolved, then 410 before any upstream is asked", async () => {
    const { cid } = await freshSite();
    const name = await freshName(cid);
    await deny(`/ipfs/${cid}`, 451);
    const { worker, log } = isolatedWorker();
    await expectDenied(await worker.fetch(`${PLAIN}/ipns/${name}/a.txt`), 451, legal(`/ipfs/${cid}/a.txt`));
    expect(await routerHits(inject("routingBase"), name)).toBe(1);
    await worker.settle();
    expect(await log()).toEqual([]);
  });

  it("a DNSLink name's path rule blocks that path on its host, on /ipns/ and on its subdomain; other paths are served", async () => {
    // dnslink-dir-listing.example.org → DL_ROOT, whose ipfs/file.txt no other test asks for through this name.
    const domain = "dnslink-dir-listing.example.org";
    await deny(`/ipns/${domain}/ipns/file.txt`);
    const worker = originWorker();
    await expectDenied(await worker.fetch(`http://${domain}/ipns/file.txt`), 410, gone(`/ipns/${domain}/ipns/file.txt`));
    await expectDenied(await worker.fetch(`${PLAIN}/ipns/${domain}/ipns/file.txt`), 410, gone(`/ipns/${domain}/ipns/file.txt`));
    await expectDenied(await worker.fetch(`http://dnslink--dir--listing-example-org.ipns.${H}/ipns/file.txt`), 410, gone(`/ipns/${domain}/ipns/file.txt`));
    const served = await worker.fetch(`http://${domain}/api/file.txt`);
    expect([served.status, await served.text()]).toEqual([200, "I am a txt file in confusing /api dir\n"]);
  });
});
