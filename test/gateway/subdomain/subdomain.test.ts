/**
 * Subdomain gateway host handling, replaying the conformance checks S01–S03,
 * S06–S11 (test/fixtures/conformance/README.md, section F) with `{H}` =
 * `localhost:8787` and `{S}` = `http`, and classifying every host form the
 * table uses.
 */
import { describe, expect, it } from "vitest";
import { HttpError } from "../../../src/http/errors";
import { decodeDnslinkLabel, encodeDnslinkLabel, parseIpnsKey } from "../../../src/gateway/subdomain/names";
import { parseHost } from "../../../src/gateway/subdomain/parse-host";
import { subdomainRedirect } from "../../../src/gateway/subdomain/redirect";

const H = "localhost:8787";
const env = { GATEWAY_DOMAIN: H };
const HELLO_V1 = "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am";
const HELLO_V0 = "QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN";
const HELLO_V0_AS_V1 = "bafybeiffndsajwhk3lwjewwdxqntmjm4b5wxaaanokonsggenkbw6slwk4";
const PCT_ROOT = "bafybeig675grnxcmshiuzdaz2xalm6ef4thxxds6o6ypakpghm5kghpc34";
const TOO_LONG =
  "bafkrgqhhyivzstcz3hhswshfjgy6ertgmnqeleynhwt4dlfsthi4hn7zgh4uvlsb5xncykzapi3ocd4lzogukir6ksdy6wzrnz6ohnv4aglcs";
const ED25519_B36 = "k51qzi5uqu5dk3v4rmjber23h16xnr23bsggmqqil9z2gduiis5se8dht36dam";
const ED25519_PEER = "12D3KooWLQzUv2FHWGVPXTXSZpdHs7oHbXub2G5WC8Tx4NQhyd2d";
const RSA_B36 = "k2k4r8m7xvggw5pxxk3abrkwyer625hg01hfyggrai7lk1m63fuihi7w";
const RSA_PEER = "QmVujd5Vb7moysJj8itnGufN7MEtPRCNHkKpNuA4onsRa3";

function req(path: string, headers: Record<string, string> = {}): Request {
  return new Request(`http://${H}${path}`, { headers: { Host: H, ...headers } });
}

function httpError(fn: () => unknown): HttpError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HttpError);
    return err as HttpError;
  }
  throw new Error("expected an HttpError");
}

describe("subdomainRedirect (conformance S01–S03, S06–S11)", () => {
  it("S01: CIDv1 path → subdomain", () => {
    expect(subdomainRedirect(req(`/ipfs/${HELLO_V1}/`), env)).toBe(`http://${HELLO_V1}.ipfs.${H}/`);
  });

  it("S02: CIDv0 is converted to CIDv1 base32", () => {
    expect(subdomainRedirect(req(`/ipfs/${HELLO_V0}/`), env)).toBe(`http://${HELLO_V0_AS_V1}.ipfs.${H}/`);
  });

  it("S03: path is kept percent-encoded as received", () => {
    const location = subdomainRedirect(req(`/ipfs/${PCT_ROOT}/Portugal%252C+España=Peninsula%20Ibérica.txt`), env);
    expect(location).toBe(`http://${PCT_ROOT}.ipfs.${H}/Portugal%252C+Espa%C3%B1a=Peninsula%20Ib%C3%A9rica.txt`);
  });

  it("S06: X-Forwarded-Proto sets the scheme", () => {
    const location = subdomainRedirect(req(`/ipfs/${HELLO_V1}/`, { "X-Forwarded-Proto": "https" }), env);
    expect(location).toBe(`https://${HELLO_V1}.ipfs.${H}/`);
  });

  it("S07: unknown Host is not redirected; X-Forwarded-Host names the gateway", () => {
    expect(subdomainRedirect(req(`/ipfs/${HELLO_V1}`, { Host: "fake.domain.com" }), env)).toBeUndefined();
    const location = subdomainRedirect(req(`/ipfs/${HELLO_V1}`, { Host: "fake.domain.com", "X-Forwarded-Host": H }), env);
    expect(location).toBe(`http://${HELLO_V1}.ipfs.${H}/`);
  });

  it("S08: ?uri= router → relative content path", () => {
    const uri = "ipfs://QmXoypizjW3WknFiJnKLwHCnL72vedxjQkDDP1mXWo6uco/wiki/Diego_Maradona.html";
    expect(subdomainRedirect(req(`/ipfs/?uri=${uri}`), env)).toBe(
      "/ipfs/QmXoypizjW3WknFiJnKLwHCnL72vedxjQkDDP1mXWo6uco/wiki/Diego_Maradona.html",
    );
    expect(subdomainRedirect(req(`/ipfs/?uri=${encodeURIComponent(uri)}`), env)).toBe(
      "/ipfs/QmXoypizjW3WknFiJnKLwHCnL72vedxjQkDDP1mXWo6uco/wiki/Diego_Maradona.html",
    );
    expect(subdomainRedirect(req(`/ipns/?uri=${encodeURIComponent("ipns://en.wikipedia-on-ipfs.org/wiki/")}`), env)).toBe(
      "/ipns/en.wikipedia-on-ipfs.org/wiki/",
    );
    const bad = httpError(() => subdomainRedirect(req(`/ipfs/?uri=${encodeURIComponent("https://evil.example/")}`), env));
    expect([bad.status, bad.message]).toEqual([400, 'invalid uri query parameter "https://evil.example/": expected ipfs://… or ipns://…']);
  });

  it("S09: a CID longer than a DNS label is a 400, on the path and on the host", () => {
    const onPath = httpError(() => subdomainRedirect(req(`/ipfs/${TOO_LONG}/`), env));
    expect([onPath.status, onPath.message]).toEqual([400, "CID incompatible with DNS label length limit of 63"]);
    const onHost = httpError(() => parseHost(req("/", { Host: `${TOO_LONG}.ipfs.${H}` }), env));
    expect([onHost.status, onHost.message]).toEqual([400, "CID incompatible with DNS label length limit of 63"]);
  });

  it("S10: invalid CID names the path", () => {
    const err = httpError(() => subdomainRedirect(req("/ipfs/QmInvalidCID"), env));
    expect(err.status).toBe(400);
    expect(err.message).toContain('invalid path "/ipfs/QmInvalidCID"');
  });

  it("S11: DNSLink name is inlined into one label", () => {
    expect(subdomainRedirect(req("/ipns/en.wikipedia-on-ipfs.example.org/wiki/"), env)).toBe(
      `http://en-wikipedia--on--ipfs-example-org.ipns.${H}/wiki/`,
    );
  });

  it("IPNS keys go to base36 labels, query is preserved", () => {
    expect(subdomainRedirect(req(`/ipns/${ED25519_PEER}/a?x=1&y=%20`), env)).toBe(`http://${ED25519_B36}.ipns.${H}/a?x=1&y=%20`);
    expect(subdomainRedirect(req(`/ipns/${RSA_PEER}`), env)).toBe(`http://${RSA_B36}.ipns.${H}/`);
    expect(subdomainRedirect(req(`/ipns/${ED25519_B36}/`), env)).toBe(`http://${ED25519_B36}.ipns.${H}/`);
  });

  it("no redirect for non-content paths or non-gateway hosts", () => {
    expect(subdomainRedirect(req("/api/v1/health"), env)).toBeUndefined();
    expect(subdomainRedirect(req(`/ipfs/${HELLO_V1}`, { Host: `${HELLO_V1}.ipfs.${H}` }), env)).toBeUndefined();
    expect(subdomainRedirect(req(`/ipfs/${HELLO_V1}`), { GATEWAY_DOMAIN: "" })).toBeUndefined();
  });
});

describe("parseHost classifies every host form", () => {
  const kind = (host: string, extra: Record<string, string> = {}) => {
    const h = parseHost(req("/", { Host: host, ...extra }), env);
    switch (h.kind) {
      case "ipfs-subdomain":
        return { kind: h.kind, domain: h.domain, root: h.root.toString(), label: h.label };
      case "ipns-key-subdomain":
        return { kind: h.kind, domain: h.domain, key: h.key.toString(), label: h.label };
      default:
        return h;
    }
  };

  it("the gateway origin itself", () => {
    expect(kind(H)).toEqual({ kind: "path-gateway", domain: H });
    expect(kind("LOCALHOST:8787")).toEqual({ kind: "path-gateway", domain: H });
    expect(kind("fake.domain.com", { "X-Forwarded-Host": H })).toEqual({ kind: "path-gateway", domain: H });
  });

  it("{cid}.ipfs.{H} (S04, S05, W01, W07)", () => {
    expect(kind(`${HELLO_V1}.ipfs.${H}`)).toEqual({ kind: "ipfs-subdomain", domain: H, root: HELLO_V1, label: HELLO_V1 });
    const w07 = "bafybeib5lboymwd6p2eo4qb2lkueaine577flvsjjeuevmp2nlio72xv5q";
    expect(kind(`${w07.toUpperCase()}.IPFS.${H}`)).toEqual({ kind: "ipfs-subdomain", domain: H, root: w07, label: w07 });
  });

  it("{key}.ipns.{H} (S13)", () => {
    expect(kind(`${ED25519_B36}.ipns.${H}`)).toMatchObject({ kind: "ipns-key-subdomain", domain: H, label: ED25519_B36 });
    const ed = parseHost(req("/", { Host: `${ED25519_B36}.ipns.${H}` }), env);
    expect(ed.kind === "ipns-key-subdomain" && ed.key.equals(parseIpnsKey(ED25519_PEER)!)).toBe(true);
    const rsa = parseHost(req("/", { Host: `${RSA_B36}.ipns.${H}` }), env);
    expect(rsa.kind === "ipns-key-subdomain" && rsa.key.equals(parseIpnsKey(RSA_PEER)!)).toBe(true);
  });

  it("{dnslink}.ipns.{H}, fully qualified and inlined (S12)", () => {
    expect(kind(`dnslink-test.example.org.ipns.${H}`)).toEqual({
      kind: "ipns-dnslink-subdomain",
      domain: H,
      name: "dnslink-test.example.org",
      label: "dnslink-test.example.org",
    });
    expect(kind(`dnslink-test-example-org.ipns.${H}`)).toEqual({
      kind: "ipns-dnslink-subdomain",
      domain: H,
      name: "dnslink.test.example.org",
      label: "dnslink-test-example-org",
    });
    expect(kind(`en-wikipedia--on--ipfs-example-org.ipns.${H}`)).toMatchObject({ name: "en.wikipedia-on-ipfs.example.org" });
  });

  it("DNSLink hosts (D01, D02, W06) and unknown hosts", () => {
    expect(kind("dnslink-subpath.example.org")).toEqual({ kind: "dnslink", name: "dnslink-subpath.example.org" });
    expect(kind("dnslink-redirects-examples.example.org:8787")).toEqual({ kind: "dnslink", name: "dnslink-redirects-examples.example.org" });
    expect(kind("fake.domain.com")).toEqual({ kind: "dnslink", name: "fake.domain.com" });
    expect(kind("127.0.0.1:8787")).toEqual({ kind: "unknown" });
    expect(kind("[::1]:8787")).toEqual({ kind: "unknown" });
  });

  it("invalid subdomain labels are a 400", () => {
    const notCid = httpError(() => parseHost(req("/", { Host: `notacid.ipfs.${H}` }), env));
    expect([notCid.status, notCid.message]).toEqual([400, 'invalid subdomain "notacid": not a valid CID']);
    const v0Lowered = httpError(() => parseHost(req("/", { Host: `${HELLO_V0}.ipfs.${H}` }), env));
    expect(v0Lowered.message).toBe(`invalid subdomain "${HELLO_V0.toLowerCase()}": not a valid CID`);
    const badName = httpError(() => parseHost(req("/", { Host: `a_-.x!.ipns.${H}` }), env));
    expect(badName.status).toBe(400);
  });

  it("several gateway domains, longest first", () => {
    const two = { GATEWAY_DOMAIN: "example.net, ipfs.example.net" };
    expect(parseHost(req("/", { Host: "ipfs.example.net" }), two)).toEqual({ kind: "path-gateway", domain: "ipfs.example.net" });
    expect(parseHost(req("/", { Host: `${HELLO_V1}.ipfs.example.net` }), two)).toMatchObject({ kind: "ipfs-subdomain", domain: "example.net" });
    expect(parseHost(req("/", { Host: `${HELLO_V1}.ipfs.ipfs.example.net` }), two)).toMatchObject({ kind: "ipfs-subdomain", domain: "ipfs.example.net" });
  });
});

describe("DNSLink label inlining", () => {
  it("round-trips names with dashes and dots", () => {
    for (const name of ["en.wikipedia-on-ipfs.org", "a.b.c", "x--y.z", "dnslink-test.example.org"]) {
      expect(decodeDnslinkLabel(encodeDnslinkLabel(name))).toBe(name);
    }
    expect(encodeDnslinkLabel("en.wikipedia-on-ipfs.org")).toBe("en-wikipedia--on--ipfs-org");
    expect(decodeDnslinkLabel("en-wikipedia--on--ipfs-org")).toBe("en.wikipedia-on-ipfs.org");
  });
});
