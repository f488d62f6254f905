import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { resolveDnslink, type DnslinkCacheEntry, type ResolveDnslinkOptions } from "../../src/dnslink/resolve";
import { TtlCache } from "../../src/ipns/ttl-cache";
import { failure } from "../helpers/http-failure";

const doh = inject("dohBase");
const resolver = (mode = "") => ({ DOH_RESOLVER: `${doh}${mode}/dns-query` });
const fresh = (extra: ResolveDnslinkOptions = {}): ResolveDnslinkOptions => ({ memory: new TtlCache<DnslinkCacheEntry>(100), ...extra });

const GC_R1 = "bafybeib3ffl2teiqdncv3mkz4r23b5ctrwkzrrhctdbne6iboayxuxk5ui";
const GC_INDEX = "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am";

async function queries(name: string): Promise<number> {
  return ((await (await fetch(`${doh}/__log?name=${name}`)).json()) as unknown[]).length;
}

describe("resolveDnslink through the local DoH server", () => {
  it("resolves every domain of the dnslink.yml fixtures", async () => {
    const expected: Record<string, string> = {
      "dnslink-subpath.example.org": `/ipfs/${GC_R1}/root2`,
      "en.wikipedia-on-ipfs.example.org": "/ipfs/bafybeiaysi4s6lnjev27ln5icwm6tueaw2vdykrtjkwiphwekaywqhcjze",
      "dnslink-test.example.org": `/ipfs/${GC_INDEX}`,
      "dnslink-redirects-examples.example.org": "/ipfs/QmYBhLYDwVFvxos9h8CGU2ibaY66QNgv8hpfewxaQrPiZj",
      "dnslink-enabled-with-spa.example.org": "/ipfs/bafybeib5lboymwd6p2eo4qb2lkueaine577flvsjjeuevmp2nlio72xv5q",
      "dnslink-over-ipns.example.org": "/ipns/12D3KooWLQzUv2FHWGVPXTXSZpdHs7oHbXub2G5WC8Tx4NQhyd2d",
      "dnslink-over-ipns-cidv1.example.org": "/ipns/k51qzi5uqu5dk3v4rmjber23h16xnr23bsggmqqil9z2gduiis5se8dht36dam",
      "dnslink-dir-listing.example.org": "/ipfs/bafybeig6ka5mlwkl4subqhaiatalkcleo4jgnr3hqwvpmsqfca27cijp3i",
    };
    for (const [domain, value] of Object.entries(expected)) {
      expect(await resolveDnslink(resolver(), domain, fresh())).toEqual({ domain, value, ttlSeconds: 300, source: "dns" });
    }
  });

  it("uses the DOH_RESOLVER binding", async () => {
    expect(env.DOH_RESOLVER).toBe(`${doh}/dns-query`);
    expect((await resolveDnslink(env, "dnslink-test.example.org", fresh())).value).toBe(`/ipfs/${GC_INDEX}`);
  });

  it("caches by TTL: the second call does not query, the call after the TTL does", async () => {
    const opts = fresh();
    const qname = "_dnslink.short-ttl.dnslink.test";
    const before = await queries(qname);
    expect(await resolveDnslink(resolver(), "short-ttl.dnslink.test", opts)).toMatchObject({ source: "dns", ttlSeconds: 1 });
    expect(await resolveDnslink(resolver(), "Short-TTL.dnslink.test.", opts)).toMatchObject({ source: "memory", value: `/ipfs/${GC_INDEX}` });
    expect(await queries(qname)).toBe(before + 1);
    await new Promise((done) => setTimeout(done, 1100));
    expect((await resolveDnslink(resolver(), "short-ttl.dnslink.test", opts)).source).toBe("dns");
    expect(await queries(qname)).toBe(before + 2);
  });

  it("picks the lexicographically first of several entries", async () => {
    expect((await resolveDnslink(resolver(), "multi.dnslink.test", fresh())).value).toBe(`/ipfs/${GC_INDEX}`);
  });

  it("joins a value split over several character-strings, reads unquoted and escaped data", async () => {
    expect((await resolveDnslink(resolver(), "split.dnslink.test", fresh())).value).toBe(`/ipfs/${GC_R1}/root2`);
    expect((await resolveDnslink(resolver(), "unquoted.dnslink.test", fresh())).value).toBe(`/ipfs/${GC_INDEX}`);
    expect((await resolveDnslink(resolver(), "escaped.dnslink.test", fresh())).value).toBe("/ipns/dnslink-test.example.org");
  });

  it("skips CNAME answers and takes the TXT TTL", async () => {
    expect(await resolveDnslink(resolver(), "cname.dnslink.test", fresh())).toMatchObject({ value: `/ipfs/${GC_INDEX}`, ttlSeconds: 120 });
  });

  it("falls back to the TXT records of the bare domain", async () => {
    const before = await queries("bare.dnslink.test");
    expect((await resolveDnslink(resolver(), "bare.dnslink.test", fresh())).value).toBe(`/ipfs/${GC_INDEX}`);
    expect(await queries("bare.dnslink.test")).toBe(before + 1);
  });

  it("no DNSLink record (NXDOMAIN, no dnslink TXT, other namespace) is a 404, remembered for a while", async () => {
    for (const domain of ["nothing-here.dnslink.test", "notxt.dnslink.test", "other-ns.dnslink.test"]) {
      expect(await failure(resolveDnslink(resolver(), domain, fresh()))).toEqual({
        status: 404,
        message: `no DNSLink record found for ${domain} (no dnslink= TXT at _dnslink.${domain} or ${domain})`,
      });
    }
    const opts = fresh();
    const before = await queries("_dnslink.nx-cached.dnslink.test");
    await failure(resolveDnslink(resolver(), "nx-cached.dnslink.test", opts));
    expect((await failure(resolveDnslink(resolver(), "nx-cached.dnslink.test", opts))).status).toBe(404);
    expect(await queries("_dnslink.nx-cached.dnslink.test")).toBe(before + 1);
  });

  it("malformed DNSLink records are a 502 quoting the record", async () => {
    expect(await failure(resolveDnslink(resolver(), "malformed.dnslink.test", fresh()))).toEqual({
      status: 502,
      message: 'malformed DNSLink record for malformed.dnslink.test: "dnslink=/ipfs/not-a-cid" (not a CID)',
    });
  });

  it("resolver failures are a 502, a silent resolver a 504", async () => {
    const domain = "dnslink-test.example.org";
    expect(await failure(resolveDnslink(resolver("/fail"), domain, fresh()))).toEqual({
      status: 502,
      message: `DNS-over-HTTPS lookup of _dnslink.${domain} failed: HTTP 500`,
    });
    expect(await failure(resolveDnslink(resolver("/servfail"), domain, fresh()))).toEqual({
      status: 502,
      message: `DNS-over-HTTPS lookup of _dnslink.${domain} failed: resolver answered SERVFAIL`,
    });
    expect(await failure(resolveDnslink(resolver("/garbage"), domain, fresh()))).toEqual({
      status: 502,
      message: `DNS-over-HTTPS lookup of _dnslink.${domain} failed: answer is not JSON`,
    });
    expect(await failure(resolveDnslink(resolver("/slow-3000"), domain, fresh({ timeoutMs: 200 })))).toEqual({
      status: 504,
      message: `DNS-over-HTTPS lookup of _dnslink.${domain} timed out`,
    });
  });

  it("an invalid domain is a 400 without any query", async () => {
    expect(await failure(resolveDnslink(resolver(), "not a domain", fresh()))).toEqual({
      status: 400,
      message: 'invalid DNSLink name "not a domain"',
    });
  });
});
