/**
 * Site origins (subdomain, IPNS key subdomain, DNSLink host) and /ipns/
 * paths, beyond the conformance table: directory listings whose links are
 * the paths the client sees (plain and HAMT-sharded directories), the
 * mutable Cache-Control of IPNS/DNSLink content, bad names, the IPNS record
 * format's limits, preflights, and what a failing DNS resolver does.
 */
import { inject } from "vitest";
import { describe, expect, it } from "vitest";
import { ed25519Key, makeRecord, putRecord } from "../../ipns/record-builder";
import { importDirectory } from "../../helpers/upstream";
import { H, originWorker } from "./helpers";

const worker = originWorker();
const enc = new TextEncoder();
const PLAIN = "http://gateway.test";
const GENERATED_HTML = "public, max-age=604800, stale-while-revalidate=2678400";
const DL_ROOT = "bafybeig6ka5mlwkl4subqhaiatalkcleo4jgnr3hqwvpmsqfca27cijp3i";
const DL_FILE = "bafkreialihlqnf5uwo4byh4n3cmwlntwqzxxs2fg5vanqdi3d7tb2l5xkm";
const GC_INDEX = "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am";
const HAMT_ROOT = "bafybeidbclfqleg2uojchspzd4bob56dqetqjsj27gy2cq3klkkgxtpn4i";
const DAGJSON = "baguqeeram5ujjqrwheyaty3w5gdsmoz6vittchvhk723jjqxk7hakxkd47xq";
const DAGJSON_LINK = "baguqeeraxpdqyfizawpb7zl5gnpg7jw3myuynb42ngzmeo7xn5kmm5pabt6q";
const V1V2 = "k51qzi5uqu5dlkw8pxuw9qmqayfdeh4kfebhmreauqdc6a7c3y7d5i9fi8mk9w";

/** A fresh IPNS name pointing at `value`, with a TTL in seconds. */
async function publish(value: string, ttlSeconds = 1800): Promise<string> {
  const key = await ed25519Key();
  await putRecord(inject("routingBase"), key.name, await makeRecord(key, { value, ttl: BigInt(ttlSeconds) * 1_000_000_000n }));
  return key.name;
}

function hrefs(html: string): string[] {
  return [...html.matchAll(/<td><a href="([^"]*)">/g)].map((m) => m[1]!);
}

describe("directory listings link to the paths the client sees", () => {
  it("a DNSLink host: entry links from the host's root, CID links to the path gateway domain, mutable caching", async () => {
    const root = await worker.fetch("http://dnslink-dir-listing.example.org/");
    expect(root.status).toBe(200);
    expect(root.headers.get("X-Ipfs-Path")).toBe("/ipns/dnslink-dir-listing.example.org/");
    expect(root.headers.get("Cache-Control")).toMatch(/^public, max-age=\d+$/);
    expect(hrefs(await root.text())).toEqual(["/api", "/ipfs", "/ipns", "/%C4%85"]);

    const nested = await worker.fetch("http://dnslink-dir-listing.example.org/%C4%85/%C4%99/");
    const html = await nested.text();
    expect(hrefs(html)).toEqual(["/%C4%85/%C4%99/..", "/%C4%85/%C4%99/file-%C5%BA%C5%82.txt"]);
    expect(html).toContain(`<a href="//${H}/ipfs/${DL_FILE}?filename=file-%C5%BA%C5%82.txt"`);
  });

  it("the same directory on the path gateway and under /ipns/: links carry the /ipfs/ or /ipns/ prefix", async () => {
    const path = await worker.fetch(`${PLAIN}/ipfs/${DL_ROOT}/`);
    expect(path.headers.get("Cache-Control")).toBe(GENERATED_HTML);
    const pathHtml = await path.text();
    expect(hrefs(pathHtml)).toEqual(["api", "ipfs", "ipns", "%C4%85"].map((n) => `/ipfs/${DL_ROOT}/${n}`));

    const name = await publish(`/ipfs/${DL_ROOT}`);
    const ipns = await worker.fetch(`${PLAIN}/ipns/${name}/`);
    expect(ipns.headers.get("X-Ipfs-Path")).toBe(`/ipns/${name}/`);
    expect(ipns.headers.get("Cache-Control")).toMatch(/^public, max-age=1[78]\d\d$/);
    expect(hrefs(await ipns.text())).toEqual(["api", "ipfs", "ipns", "%C4%85"].map((n) => `/ipns/${name}/${n}`));
  });

  it("a HAMT-sharded directory on a CID subdomain: every entry, linked from the subdomain root", async () => {
    const res = await worker.fetch(`http://${HAMT_ROOT}.ipfs.${H}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("X-Ipfs-Path")).toBe(`/ipfs/${HAMT_ROOT}/`);
    const links = hrefs(await res.text());
    expect(links.length).toBe(1000);
    expect(new Set(links)).toEqual(new Set(Array.from({ length: 1000 }, (_, i) => `/${i + 1}.txt`)));
    const file = await worker.fetch(`http://${HAMT_ROOT}.ipfs.${H}/685.txt`);
    expect([file.status, (await file.arrayBuffer()).byteLength]).toEqual([200, 1026]);
  });

  it("a HAMT-sharded directory behind an IPNS key subdomain: entries and sub-directories relative to the site", async () => {
    const entries = Array.from({ length: 40 }, (_, i) => ({ path: `docs/page-${i}.txt`, content: enc.encode(`page ${i}\n`) }));
    const dir = await importDirectory(entries, { shardSplitThresholdBytes: 200 });
    const name = await publish(`/ipfs/${dir.cid}`);
    const top = await worker.fetch(`http://${name}.ipns.${H}/`);
    expect(hrefs(await top.text())).toEqual(["/docs"]);
    const docs = await worker.fetch(`http://${name}.ipns.${H}/docs/`);
    expect(docs.status).toBe(200);
    expect(docs.headers.get("X-Ipfs-Path")).toBe(`/ipns/${name}/docs/`);
    const links = hrefs(await docs.text());
    expect(links[0]).toBe("/docs/..");
    expect(new Set(links.slice(1))).toEqual(new Set(entries.map((e) => `/${e.path}`)));
    const page = await worker.fetch(`http://${name}.ipns.${H}/docs/page-7.txt`);
    expect([page.status, await page.text()]).toEqual([200, "page 7\n"]);
  });
});

describe("the DAG view on a site links CIDs to the path gateway domain", () => {
  it("dag-json on a CID subdomain, as text/html", async () => {
    const res = await worker.fetch(`http://${DAGJSON}.ipfs.${H}/`, { headers: { Accept: "text/html" } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain(`<a href="//${H}/ipfs/${DAGJSON_LINK}">${DAGJSON_LINK}</a>`);
    const path = await worker.fetch(`${PLAIN}/ipfs/${DAGJSON}/`, { headers: { Accept: "text/html" } });
    expect(await path.text()).toContain(`<a href="/ipfs/${DAGJSON_LINK}">${DAGJSON_LINK}</a>`);
  });
});

describe("/ipns/ paths", () => {
  it("bad names are 400s naming the problem", async () => {
    for (const [path, body] of [
      ["/ipns/", 'invalid path "/ipns/": no IPNS name or DNSLink domain\n'],
      ["/ipns/not-a-key", 'invalid IPNS name "not-a-key": not a CID or peer ID\n'],
      [`/ipns/${GC_INDEX}`, `invalid IPNS name "${GC_INDEX}": CID codec must be libp2p-key (0x72), got 0x55\n`],
      ["/ipns/bad_domain..example", 'invalid DNSLink name "bad_domain..example"\n'],
    ]) {
      const res = await worker.fetch(`${PLAIN}${path}`);
      expect([path, res.status, await res.text()]).toEqual([path, 400, body]);
      expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
    }
  });

  it("IPNS records: only for keys without a path; HEAD has the headers only", async () => {
    const withPath = await worker.fetch(`${PLAIN}/ipns/${V1V2}/a?format=ipns-record`);
    expect([withPath.status, await withPath.text()]).toEqual([400, "application/vnd.ipfs.ipns-record is only served for /ipns/{name} without a path\n"]);
    const dnslink = await worker.fetch(`${PLAIN}/ipns/dnslink-test.example.org?format=ipns-record`);
    expect([dnslink.status, await dnslink.text()]).toEqual([
      400,
      "application/vnd.ipfs.ipns-record is only served for IPNS keys, not for the DNSLink name dnslink-test.example.org\n",
    ]);
    const head = await worker.fetch(`${PLAIN}/ipns/${V1V2}/?format=ipns-record`, { method: "HEAD" });
    expect([head.status, head.headers.get("Content-Type"), head.headers.get("Content-Length"), await head.text()]).toEqual([
      200,
      "application/vnd.ipfs.ipns-record",
      "326",
      "",
    ]);
    const onIpfs = await worker.fetch(`${PLAIN}/ipfs/${GC_INDEX}?format=ipns-record`);
    expect(onIpfs.status).toBe(400);
    await onIpfs.arrayBuffer();
  });

  it("a name without a record is 404; a directory without its slash redirects to the /ipns/ path", async () => {
    const key = await ed25519Key();
    const missing = await worker.fetch(`${PLAIN}/ipns/${key.name}`);
    expect([missing.status, await missing.text()]).toEqual([404, `no IPNS record found for ${key.name}\n`]);
    const name = await publish(`/ipfs/${DL_ROOT}`, 45);
    const dir = await worker.fetch(`${PLAIN}/ipns/${name}/%C4%85?x=1`);
    expect([dir.status, dir.headers.get("Location")]).toEqual([301, `/ipns/${name}/%C4%85/?x=1`]);
    expect(dir.headers.get("Cache-Control")).toMatch(/^public, max-age=(4[0-5]|3\d)$/);
    await dir.arrayBuffer();
  });

  it("DNSLink over IPNS: the chain resolves, the smallest TTL on it is the max-age", async () => {
    const res = await worker.fetch(`${PLAIN}/ipns/dnslink-over-ipns.example.org/`);
    expect([res.status, await res.text()]).toEqual([200, "hello\n"]);
    expect(res.headers.get("X-Ipfs-Path")).toBe("/ipns/dnslink-over-ipns.example.org/");
    expect(res.headers.get("Cache-Control")).toMatch(/^public, max-age=(300|2\d\d)$/);
  });

  it("OPTIONS is a CORS preflight on /ipns/ paths and on every site origin", async () => {
    for (const url of [`${PLAIN}/ipns/${V1V2}`, `http://${GC_INDEX}.ipfs.${H}/`, `http://${V1V2}.ipns.${H}/x`, "http://dnslink-test.example.org/"]) {
      const res = await worker.fetch(url, { method: "OPTIONS" });
      expect([url, res.status, res.headers.get("Access-Control-Allow-Origin"), res.headers.get("Access-Control-Allow-Methods")]).toEqual([
        url,
        204,
        "*",
        "GET, HEAD, OPTIONS",
      ]);
    }
  });
});

describe("hosts that are not sites", () => {
  it("a host without DNSLink serves the worker's routes; other methods on a site go to the routes too", async () => {
    const root = await worker.fetch("http://no-site.example/");
    expect([root.status, await root.text()]).toEqual([404, "404 page not found\n"]);
    expect(root.headers.get("Access-Control-Allow-Origin")).toBeNull();
    const post = await worker.fetch(`http://${GC_INDEX}.ipfs.${H}/`, { method: "POST" });
    expect([post.status, await post.text()]).toEqual([404, "404 page not found\n"]);
  });

  it("a failing DNS resolver: 502 for a would-be site's pages, the worker's own paths still served", async () => {
    const down = originWorker({ DOH_RESOLVER: `${inject("dohBase")}/fail/dns-query` });
    const page = await down.fetch("http://resolver-down.example/index.html");
    expect([page.status, await page.text()]).toEqual([502, "DNS-over-HTTPS lookup of _dnslink.resolver-down.example failed: HTTP 500\n"]);
    expect(page.headers.get("Access-Control-Allow-Origin")).toBe("*");
    const content = await down.fetch(`http://resolver-down.example/ipfs/${GC_INDEX}`);
    expect([content.status, await content.text()]).toEqual([200, "hello\n"]);
    const api = await down.fetch("http://resolver-down.example/api/v1/health/gateways");
    expect(api.status).toBe(200);
    expect(api.headers.get("Content-Type")).toMatch(/^application\/json/);
    await api.arrayBuffer();
  });
});
