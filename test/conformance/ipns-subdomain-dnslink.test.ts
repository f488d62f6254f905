/**
 * Conformance sections C ("Trustless: IPNS records", I01–I03) and F ("IPNS
 * paths, subdomain, DNSLink, `_redirects`": N01–N06, S01–S13, D01–D02,
 * W01–W07) and J21 of test/fixtures/conformance/README.md, replayed against the
 * worker: the honest test upstream serves every fixture CAR, the local
 * routing server every fixture IPNS record, the local DoH server every
 * fixture DNSLink. `{H}` is GATEWAY_DOMAIN (`localhost:8787`); the host of a
 * request is its URL's, as on the wire. The "plain gateway origin" of the
 * other checks is `gateway.test`, a host that is no gateway domain and has
 * no DNSLink record. Where the table allows several answers, the comment
 * says which one this gateway gives, and the test asserts that one exactly.
 */
import { inject } from "vitest";
import { describe, expect, it } from "vitest";
import { getRecord } from "../ipns/record-builder";
import { H, originWorker } from "../gateway/origin/helpers";

const worker = originWorker();
const PLAIN = "http://gateway.test";
const IMMUTABLE = "public, max-age=29030400, immutable";
const TEXT = "text/plain; charset=utf-8";
const RECORD_TYPE = "application/vnd.ipfs.ipns-record";

const V1V2 = "k51qzi5uqu5dlkw8pxuw9qmqayfdeh4kfebhmreauqdc6a7c3y7d5i9fi8mk9w";
const V2_ONLY = "k51qzi5uqu5dit2ku9mutlfgwyz8u730on38kd10m97m36bjt66my99hb6103f";
const BROKEN_V1_SIG = "k51qzi5uqu5dilgf7gorsh9vcqqq4myo6jd4zmqkuy9pxyxi5fua3uf7axph4y";
const V1_ONLY = "k51qzi5uqu5dm4tm0wt8srkg9h9suud4wuiwjimndrkydqm81cqtlb5ak6p7ku";
const VALUE_MISMATCH = "k51qzi5uqu5dlmit2tuwdvnx4sbnyqgmvbxftl0eo3f33wwtb9gr7yozae9kpw";
const BROKEN_V2_SIG = "k51qzi5uqu5diamp7qnnvs1p1gzmku3eijkeijs3418j23j077zrkok63xdm8c";
const TO_GC_R1 = "k51qzi5uqu5dlxdsdu5fpuu7h69wu4ohp32iwm9pdt9nq3y5rpn3ln9j12zfhe";
const TO_GC_R1_ROOT2 = "k51qzi5uqu5djokp3m1keo36hoxtd6u3a1d2rg1camf6al7p3huy63dojlm57c";
const TO_DAGJSON = "k51qzi5uqu5dhjghbwdvbo6mi40htrq6e2z4pwgp15pgv3ho1azvidttzh8yy2";
const ED25519_KEY = "k51qzi5uqu5dk3v4rmjber23h16xnr23bsggmqqil9z2gduiis5se8dht36dam";
const RSA_KEY = "k2k4r8m7xvggw5pxxk3abrkwyer625hg01hfyggrai7lk1m63fuihi7w";

const GC_R1 = "bafybeib3ffl2teiqdncv3mkz4r23b5ctrwkzrrhctdbne6iboayxuxk5ui";
const GC_R2 = "bafybeih2w7hjocxjg6g2ku25hvmd53zj7og4txpby3vsusfefw5rrg5sii";
const GC_R3 = "bafybeiawdvhmjcz65x5egzx4iukxc72hg4woks6v6fvgyupiyt3oczk5ja";
const GC_R4 = "bafybeifq2rzpqnqrsdupncmkmhs3ckxxjhuvdcbvydkgvch3ms24k5lo7q";
const GC_INDEX = "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am";
const HELLO_V0 = "QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN";
const HELLO_V0_AS_V1 = "bafybeiffndsajwhk3lwjewwdxqntmjm4b5wxaaanokonsggenkbw6slwk4";
const TOO_LONG = "bafkrgqhhyivzstcz3hhswshfjgy6ertgmnqeleynhwt4dlfsthi4hn7zgh4uvlsb5xncykzapi3ocd4lzogukir6ksdy6wzrnz6ohnv4aglcs";
const TESTDIRLISTING = "bafybeiht6dtwk3les7vqm6ibpvz6qpohidvlshsfyr7l5mpysdw2vmbbhe";
const PCT_ROOT = "bafybeig675grnxcmshiuzdaz2xalm6ef4thxxds6o6ypakpghm5kghpc34";
const DAGJSON = "baguqeeram5ujjqrwheyaty3w5gdsmoz6vittchvhk723jjqxk7hakxkd47xq";
const DAGJSON_TEXT = '{"foo":{"link":{"/":"baguqeeraxpdqyfizawpb7zl5gnpg7jw3myuynb42ngzmeo7xn5kmm5pabt6q"},"object":{"banana":10,"monkey":false}}}';

const EXAMPLES = "bafybeiesjgoros75o5meijhfvnxmy7kzkynhqijlzmypw3nry6nvsjqkzy";
const FORCED = "bafybeicv4452oppsenilwr54bcej2xxr5olcwu3y5xc2k3lemvrvtokljm";
const TOO_LARGE = "bafybeia7qpipssvt5ric7m2kuzgnj454njcz5q6vj3fqq67be2dm7r522m";
const NEWLINES = "bafybeie6hxr2huda5imzvblcwgxuddackbw5wi35elm3jzeuk4v2ul54kq";
const GOOD_CODES = "bafybeidweedjvp3uvnnj63vdavdkmva76ogc3veurukknvpnmtumpfyhcm";
const BAD_CODES = "bafybeignwkoxmt6a2l3jyvph4m2pmfctvqlom7znwufpkpzgoxtuyjptea";
const SPA = "bafybeib5lboymwd6p2eo4qb2lkueaine577flvsjjeuevmp2nlio72xv5q";
const PAGE_404 = "Qmd9GD7Bauh6N2ZLfNnYS3b7QVAijbud83b8GE8LPMNBBP";
const PAGE_410 = "QmSmR9NShZ89VEBrn9SBy7Xxvjw8Qe6XArD5GqtHvbtBM3";
const PAGE_451 = "QmVQqj9oZig9tH3ENHo4bxV5pNgssUwFCXUjAJAVcZVbJG";

const sub = (root: string, ns: "ipfs" | "ipns" = "ipfs") => `http://${root}.${ns}.${H}`;
const bytes = async (r: Response) => new Uint8Array(await r.arrayBuffer());

/**
 * `public, max-age=N` with N within the record's or TXT record's TTL (never
 * immutable); TTLs over a day count as a day (the fixtures' 100-year ones).
 */
function expectMutableCaching(response: Response, recordTtl: number): void {
  const ttl = Math.min(recordTtl, 86_400);
  const value = response.headers.get("Cache-Control") ?? "";
  expect(value).toMatch(/^public, max-age=\d+$/);
  const maxAge = Number(value.slice("public, max-age=".length));
  expect(maxAge).toBeGreaterThan(ttl - 60);
  expect(maxAge).toBeLessThanOrEqual(ttl);
}

describe("C. trustless: IPNS records", () => {
  it("I01 ?format=ipns-record: the verified record bytes, attachment, max-age = TTL", async () => {
    const res = await worker.fetch(`${PLAIN}/ipns/${V1V2}?format=ipns-record`);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe(RECORD_TYPE);
    expect(res.headers.get("Content-Disposition")).toBe(`attachment; filename="${V1V2}.ipns-record"`);
    expect(res.headers.get("Cache-Control")).toBe("public, max-age=1800");
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(res.headers.get("Content-Location")).toBeNull();
    expect(await bytes(res)).toEqual(await getRecord(inject("routingBase"), V1V2));
  });

  it("I02 Accept: application/vnd.ipfs.ipns-record (and Content-Location names the format)", async () => {
    const res = await worker.fetch(`${PLAIN}/ipns/${V2_ONLY}`, { headers: { Accept: RECORD_TYPE } });
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe(RECORD_TYPE);
    expect(res.headers.get("Content-Disposition")).toBe(`attachment; filename="${V2_ONLY}.ipns-record"`);
    expect(res.headers.get("Cache-Control")).toBe("public, max-age=1800");
    expect(res.headers.get("Content-Location")).toBe(`/ipns/${V2_ONLY}?format=ipns-record`);
    expect(await bytes(res)).toEqual(await getRecord(inject("routingBase"), V2_ONLY));
  });

  it("I03 ?filename= is honoured, with an ASCII fallback and RFC 5987 filename*", async () => {
    const res = await worker.fetch(`${PLAIN}/ipns/${V1V2}?format=ipns-record&filename=${encodeURIComponent("testтест.ipns-record")}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Disposition")).toBe(
      `attachment; filename="test____.ipns-record"; filename*=UTF-8''test%D1%82%D0%B5%D1%81%D1%82.ipns-record`,
    );
    await res.arrayBuffer();
  });
});

describe("F. IPNS paths", () => {
  it("N01 V1+V2, V2-only and broken-V1-signature records resolve", async () => {
    for (const [name, body] of [
      [V1V2, "v1+v2 record"],
      [V2_ONLY, "v2-only record"],
      [BROKEN_V1_SIG, "v1+v2 with broken signature v1"],
    ]) {
      const res = await worker.fetch(`${PLAIN}/ipns/${name}`);
      expect([name, res.status, await res.text()]).toEqual([name, 200, body]);
      expect(res.headers.get("X-Ipfs-Path")).toBe(`/ipns/${name}`);
      expectMutableCaching(res, 1800);
    }
  });

  it("N02 rejected records are a 502 naming the reason", async () => {
    for (const [name, reason] of [
      [V1_ONLY, "record has no signatureV2 and data (V1-only records are not accepted)"],
      [VALUE_MISMATCH, "protobuf value differs from the signed data"],
      [BROKEN_V2_SIG, "signatureV2 does not verify"],
    ]) {
      const res = await worker.fetch(`${PLAIN}/ipns/${name}`);
      expect([res.status, await res.text()]).toEqual([502, `IPNS record for ${name} rejected: ${reason}\n`]);
      expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
    }
  });

  it("N03 an Ed25519 peer ID is redirected (302) to its base36 name, path kept, no record fetched", async () => {
    const res = await worker.fetch(`${PLAIN}/ipns/12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK/root2/`);
    expect(res.status).toBe(302);
    expect(res.headers.get("Location")).toBe("/ipns/k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8/root2/");
  });

  it("N04 an RSA peer ID (Qm…) is redirected (302) to its base36 name", async () => {
    const res = await worker.fetch(`${PLAIN}/ipns/QmcJM7PRfkSbcM5cf1QugM5R37TLRKyJGgBEhXjLTB8uA2/root2/`);
    expect(res.status).toBe(302);
    expect(res.headers.get("Location")).toBe("/ipns/k2k4r8ol4m8kkcqz509c1rcjwunebj02gcnm5excpx842u736nja8ger/root2/");
  });

  it("N05 a record whose value has a sub-path: the request path continues it", async () => {
    const res = await worker.fetch(`${PLAIN}/ipns/${TO_GC_R1_ROOT2}/root3/root4/index.html`);
    expect([res.status, await res.text()]).toEqual([200, "hello\n"]);
  });

  it("N06 headers: Etag of the file, X-Ipfs-Path as requested, X-Ipfs-Roots as P10, Cache-Control max-age", async () => {
    const path = `/ipns/${TO_GC_R1}/root2/root3/root4/index.html`;
    const res = await worker.fetch(`${PLAIN}${path}`);
    expect([res.status, await res.text()]).toEqual([200, "hello\n"]);
    expect(res.headers.get("Etag")).toBe(`"${GC_INDEX}"`);
    expect(res.headers.get("X-Ipfs-Path")).toBe(path);
    expect(res.headers.get("X-Ipfs-Roots")).toBe([GC_R1, GC_R2, GC_R3, GC_R4, GC_INDEX].join(","));
    expectMutableCaching(res, 3_153_600_000);
  });

  it("J21 /ipns/ with Accept dag-json: the same payload and Etag as /ipfs/DAGJSON", async () => {
    const res = await worker.fetch(`${PLAIN}/ipns/${TO_DAGJSON}`, { headers: { Accept: "application/vnd.ipld.dag-json" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("application/vnd.ipld.dag-json");
    expect(res.headers.get("Etag")).toBe(`"${DAGJSON}.dag-json"`);
    expect(res.headers.get("X-Ipfs-Path")).toBe(`/ipns/${TO_DAGJSON}`);
    expect(res.headers.get("X-Ipfs-Roots")).toBe(DAGJSON);
    expect(await res.text()).toBe(DAGJSON_TEXT);
  });
});

describe("F. subdomain gateway", () => {
  it("S01 a CIDv1 path on the gateway domain moves to its subdomain (301)", async () => {
    const res = await worker.fetch(`http://${H}/ipfs/${GC_INDEX}/`);
    expect(res.status).toBe(301);
    expect(res.headers.get("Location")).toBe(`http://${GC_INDEX}.ipfs.${H}/`);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
  });

  it("S02 a CIDv0 becomes CIDv1 base32 in the subdomain", async () => {
    const res = await worker.fetch(`http://${H}/ipfs/${HELLO_V0}/`);
    expect(res.status).toBe(301);
    expect(res.headers.get("Location")).toBe(`http://${HELLO_V0_AS_V1}.ipfs.${H}/`);
  });

  it("S03 the path is kept exactly as received (percent-encoded)", async () => {
    const res = await worker.fetch(`http://${H}/ipfs/${PCT_ROOT}/Portugal%252C+España=Peninsula%20Ibérica.txt`);
    expect(res.status).toBe(301);
    expect(res.headers.get("Location")).toBe(`http://${PCT_ROOT}.ipfs.${H}/Portugal%252C+Espa%C3%B1a=Peninsula%20Ib%C3%A9rica.txt`);
  });

  it("S04 the subdomain serves its root at /; /ipfs/{cid}/ there is a path inside the root (404)", async () => {
    const root = await worker.fetch(`${sub(GC_INDEX)}/`);
    expect([root.status, await root.text()]).toEqual([200, "hello\n"]);
    expect(root.headers.get("X-Ipfs-Path")).toBe(`/ipfs/${GC_INDEX}/`);
    expect(root.headers.get("Cache-Control")).toBe(IMMUTABLE);
    const nested = await worker.fetch(`${sub(GC_INDEX)}/ipfs/${GC_INDEX}/`);
    expect(nested.status).toBe(404);
    expect(nested.headers.get("Access-Control-Allow-Origin")).toBe("*");
    await nested.arrayBuffer();
  });

  it("S05 /ipfs/… paths inside the DAG, and listing links relative to the subdomain root", async () => {
    const file = await worker.fetch(`${sub(TESTDIRLISTING)}/ipfs/file.txt`);
    expect([file.status, await file.text()]).toEqual([200, "I am a txt file\n"]);
    const nested = await worker.fetch(`${sub(TESTDIRLISTING)}/ipfs/ipns/bar`);
    expect([nested.status, await nested.text()]).toEqual([200, "text-file-content\n"]);
    const listing = await worker.fetch(`${sub(TESTDIRLISTING)}/`);
    expect(listing.status).toBe(200);
    const html = await listing.text();
    expect(html).toContain('<a href="/hello">hello</a>');
    expect(html).toContain('<a href="/ipfs">ipfs</a>');
    // The CID column points at the path gateway, where /ipfs/{cid} is not a path inside this site.
    expect(html).toContain(`<a href="//${H}/ipfs/${GC_INDEX}?filename=hello"`);
  });

  it("S06 X-Forwarded-Proto: https makes the redirect https", async () => {
    const res = await worker.fetch(`http://${H}/ipfs/${GC_INDEX}/`, { headers: { "X-Forwarded-Proto": "https" } });
    expect(res.status).toBe(301);
    expect(res.headers.get("Location")).toBe(`https://${GC_INDEX}.ipfs.${H}/`);
  });

  it("S07 an unknown host is a plain path gateway; with X-Forwarded-Host the gateway domain redirects", async () => {
    const plain = await worker.fetch(`http://fake.domain.com/ipfs/${GC_INDEX}`);
    expect([plain.status, await plain.text()]).toEqual([200, "hello\n"]);
    expect(plain.headers.get("Cache-Control")).toBe(IMMUTABLE);
    const forwarded = await worker.fetch(`http://fake.domain.com/ipfs/${GC_INDEX}`, { headers: { "X-Forwarded-Host": H } });
    expect(forwarded.status).toBe(301);
    expect(forwarded.headers.get("Location")).toBe(`http://${GC_INDEX}.ipfs.${H}/`);
  });

  it("S08 URI router: /ipfs/?uri=ipfs://… → the path", async () => {
    const uri = encodeURIComponent("ipfs://QmXoypizjW3WknFiJnKLwHCnL72vedxjQkDDP1mXWo6uco/wiki/Diego_Maradona.html");
    const res = await worker.fetch(`http://${H}/ipfs/?uri=${uri}`);
    expect(res.status).toBe(301);
    expect(res.headers.get("Location")).toBe("/ipfs/QmXoypizjW3WknFiJnKLwHCnL72vedxjQkDDP1mXWo6uco/wiki/Diego_Maradona.html");
  });

  it("S09 a CID over 63 characters: 400 on the path and on the subdomain", async () => {
    for (const url of [`http://${H}/ipfs/${TOO_LONG}/`, `${sub(TOO_LONG)}/`]) {
      const res = await worker.fetch(url);
      expect([res.status, await res.text()]).toEqual([400, "CID incompatible with DNS label length limit of 63\n"]);
      expect(res.headers.get("Content-Type")).toBe(TEXT);
      expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
    }
  });

  it("S10 an invalid CID: 400 naming the path", async () => {
    const res = await worker.fetch(`http://${H}/ipfs/QmInvalidCID`);
    expect([res.status, await res.text()]).toEqual([400, 'invalid path "/ipfs/QmInvalidCID": not a valid CID\n']);
  });

  it("S11 a DNSLink name on the path gateway moves to its inlined subdomain label", async () => {
    const res = await worker.fetch(`http://${H}/ipns/en.wikipedia-on-ipfs.example.org/wiki/`);
    expect(res.status).toBe(301);
    expect(res.headers.get("Location")).toBe(`http://en-wikipedia--on--ipfs-example-org.ipns.${H}/wiki/`);
  });

  // The table writes the inlined label `dnslink-test-example-org`, which decodes to
  // dnslink.test.example.org; the inlined form of dnslink-test.example.org ("DNSLink label
  // encoding": `-` → `--`, then `.` → `-`) is `dnslink--test-example-org`, as upstream computes it.
  it("S12 a DNSLink subdomain, fully qualified or inlined", async () => {
    for (const label of ["dnslink-test.example.org", "dnslink--test-example-org"]) {
      const res = await worker.fetch(`${sub(label, "ipns")}/`);
      expect([label, res.status, await res.text()]).toEqual([label, 200, "hello\n"]);
      expect(res.headers.get("X-Ipfs-Path")).toBe(`/ipns/dnslink-test.example.org/`);
      expectMutableCaching(res, 300);
    }
  });

  it("S13 an IPNS key subdomain (Ed25519 and RSA keys)", async () => {
    for (const key of [ED25519_KEY, RSA_KEY]) {
      const res = await worker.fetch(`${sub(key, "ipns")}/`);
      expect([key, res.status, await res.text()]).toEqual([key, 200, "hello\n"]);
      expect(res.headers.get("X-Ipfs-Path")).toBe(`/ipns/${key}/`);
    }
  });
});

describe("F. DNSLink gateway", () => {
  it("D01 the host's DNSLink (with a sub-path) prefixes the request path", async () => {
    const res = await worker.fetch("http://dnslink-subpath.example.org/root3/root4/index.html");
    expect([res.status, await res.text()]).toEqual([200, "hello\n"]);
    expect(res.headers.get("X-Ipfs-Path")).toBe("/ipns/dnslink-subpath.example.org/root3/root4/index.html");
    expect(res.headers.get("X-Ipfs-Roots")).toBe([GC_R1, GC_R2, GC_R3, GC_R4, GC_INDEX].join(","));
    expectMutableCaching(res, 300);
  });

  it("D02 a directory without its slash redirects to the path the client sent, plus /", async () => {
    const res = await worker.fetch("http://dnslink-dir-listing.example.org/ą/ę");
    expect(res.status).toBe(301);
    expect(res.headers.get("Location")).toBe("/%C4%85/%C4%99/");
    await res.arrayBuffer();
  });
});

describe("F. _redirects", () => {
  it("W01 redirects: default 301, 302, placeholders, splat", async () => {
    for (const [path, status, location] of [
      ["/redirect-one", 301, "/one.html"],
      ["/302-redirect-two", 302, "/two.html"],
      ["/posts/2022/01/01/hello-world", 301, "/articles/2022/01/01/hello-world"],
      ["/splat/one.html", 301, "/redirected-splat/one.html"],
    ] as const) {
      const res = await worker.fetch(`${sub(EXAMPLES)}${path}`);
      expect([path, res.status, res.headers.get("Location")]).toEqual([path, status, location]);
      expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
      await res.arrayBuffer();
    }
  });

  it("W02 200 rewrites, including the catch-all", async () => {
    for (const path of ["/200-index", "/catch-all"]) {
      const res = await worker.fetch(`${sub(EXAMPLES)}${path}`);
      expect([path, res.status, await res.text()]).toEqual([path, 200, "my index\n"]);
    }
  });

  it("W03 custom 404/410/451 pages: their status, immutable caching, the page's Etag", async () => {
    for (const [path, status, etag, body] of [
      ["/not-found/has-no-redirects-entry", 404, PAGE_404, "my 404\n"],
      ["/gone/has-no-redirects-entry", 410, PAGE_410, "my 410\n"],
      ["/unavail/has-no-redirects-entry", 451, PAGE_451, "my 451\n"],
    ] as const) {
      const res = await worker.fetch(`${sub(EXAMPLES)}${path}`);
      expect([path, res.status, await res.text()]).toEqual([path, status, body]);
      expect(res.headers.get("Cache-Control")).toBe(IMMUTABLE);
      expect(res.headers.get("Etag")).toBe(`"${etag}"`);
    }
  });

  it("W04 a forced rule or an oversized file: 500 with the parse error", async () => {
    const forced = await worker.fetch(`${sub(FORCED)}/not-found`);
    expect([forced.status, await forced.text()]).toEqual([500, 'could not parse _redirects: line 1: forced redirects (or "shadowing") are not supported\n']);
    expect(forced.headers.get("Access-Control-Allow-Origin")).toBe("*");
    const large = await worker.fetch(`${sub(TOO_LARGE)}/not-found`);
    expect([large.status, await large.text()]).toEqual([500, "could not parse _redirects: redirects file size cannot exceed 65536 bytes\n"]);
  });

  it("W05 CRLF lines, every supported code, and an invalid file not read for an existing path", async () => {
    const crlf = await worker.fetch(`${sub(NEWLINES)}/redirect-one`);
    expect([crlf.status, crlf.headers.get("Location")]).toEqual([301, "/one.html"]);
    const good = await worker.fetch(`${sub(GOOD_CODES)}/a301`);
    expect([good.status, good.headers.get("Location")]).toEqual([301, "/b301"]);
    const found = await worker.fetch(`${sub(BAD_CODES)}/found.html`);
    expect(found.status).toBe(200);
    expect(await found.text()).toContain("my found");
  });

  it("W06 a DNSLink site's custom 404: its Etag, Date, mutable (not immutable) caching", async () => {
    const res = await worker.fetch("http://dnslink-redirects-examples.example.org/not-found/has-no-redirects-entry");
    expect([res.status, await res.text()]).toEqual([404, "my 404\n"]);
    expect(res.headers.get("Etag")).toBe(`"${PAGE_404}"`);
    expectMutableCaching(res, 300);
    expect(res.headers.get("Date")).toMatch(/GMT$/);
  });

  it("W07 an SPA rewrite answers If-None-Match with 304", async () => {
    const first = await worker.fetch(`${sub(SPA)}/missing-page`, { headers: { Accept: "text/html" } });
    expect([first.status, await first.text()]).toEqual([200, "hello world\n"]);
    const etag = first.headers.get("Etag");
    expect(etag).toBe('"bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4"');
    const again = await worker.fetch(`${sub(SPA)}/missing-page`, { headers: { Accept: "text/html", "If-None-Match": etag! } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
  });
});
