import { describe, expect, inject, it } from "vitest";
import { HttpError } from "../../src/http/errors";
import { TtlCache } from "../../src/ipns/ttl-cache";
import { resolveIpnsPath } from "../../src/ipns/resolve-path";

const env = { ROUTERS: inject("routingBase"), DOH_RESOLVER: `${inject("dohBase")}/dns-query` };
const fresh = () => ({ ipns: { memory: new TtlCache<never>(10), edgeCache: null }, dnslink: { memory: new TtlCache<never>(10) } });
const GC_R1 = "bafybeib3ffl2teiqdncv3mkz4r23b5ctrwkzrrhctdbne6iboayxuxk5ui";
const GC_INDEX = "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am";

describe("resolveIpnsPath: IPNS and DNSLink, recursively", () => {
  it("N05: an IPNS value with a sub-path keeps both paths", async () => {
    const name = "k51qzi5uqu5djokp3m1keo36hoxtd6u3a1d2rg1camf6al7p3huy63dojlm57c";
    expect(await resolveIpnsPath(env, `/ipns/${name}/root3/root4/index.html`, fresh())).toEqual({
      path: `/ipfs/${GC_R1}/root2/root3/root4/index.html`,
      ttlSeconds: 1800,
      chain: [`/ipns/${name}/root3/root4/index.html`],
    });
  });

  it("D01: a DNSLink with a sub-path", async () => {
    expect((await resolveIpnsPath(env, "/ipns/dnslink-subpath.example.org/root3/root4/index.html", fresh())).path).toBe(
      `/ipfs/${GC_R1}/root2/root3/root4/index.html`,
    );
  });

  it("DNSLink to an IPNS peer ID to /ipfs/, trailing slash kept", async () => {
    expect(await resolveIpnsPath(env, "/ipns/dnslink-over-ipns.example.org/", fresh())).toEqual({
      path: `/ipfs/${GC_INDEX}/`,
      ttlSeconds: 300,
      chain: ["/ipns/dnslink-over-ipns.example.org/", "/ipns/12D3KooWLQzUv2FHWGVPXTXSZpdHs7oHbXub2G5WC8Tx4NQhyd2d/"],
    });
  });

  it("the dnslink-gateway spec chain example: every sub-path preserved, shortest TTL kept", async () => {
    expect(await resolveIpnsPath(env, "/ipns/chain-a.dnslink.test/path-a", fresh())).toEqual({
      path: `/ipfs/${GC_R1}/path-c/path-b/path-a`,
      ttlSeconds: 200,
      chain: ["/ipns/chain-a.dnslink.test/path-a", "/ipns/chain-b.dnslink.test/path-b/path-a"],
    });
  });

  it("a DNSLink loop stops at 32 steps with a 400", async () => {
    let error: unknown;
    try {
      await resolveIpnsPath(env, "/ipns/loop.dnslink.test/x", fresh());
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).status).toBe(400);
    expect((error as HttpError).message).toBe("IPNS/DNSLink recursion limit of 32 reached resolving /ipns/loop.dnslink.test/x");
  });

  it("refuses a path that is not under /ipns/", async () => {
    await expect(resolveIpnsPath(env, `/ipfs/${GC_INDEX}`, fresh())).rejects.toThrow(`not an /ipns/ path: /ipfs/${GC_INDEX}`);
  });
});
