/**
 * The private-address guard of provider discovery (ask-router.ts,
 * multiaddr-url.ts), public-router branch: a router on a public address
 * (cid.contact in production) may name providers anywhere, and those on
 * private, loopback, link-local or metadata addresses must never be used.
 * The local IPNI server (test/servers/ipni-server.ts) answers; askRouter is
 * told it is public (`allowPrivate = false`, what isPrivateUrl decides for
 * https://cid.contact), then asked again as the private router it is.
 */
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import { describe, expect, inject, it } from "vitest";
import { askRouter, GATEWAY_HTTP } from "../../../src/gateway/providers/ask-router";
import { isPrivateUrl } from "../../../src/gateway/providers/multiaddr-url";
import { uniquePersonality, upstreamBase } from "../../helpers/upstream";

function peer(id: string, addrs: string[]) {
  return { Schema: "peer", ID: id, Addrs: addrs, Protocols: [GATEWAY_HTTP] };
}

describe("provider discovery: a public router's private addresses are dropped", () => {
  it("loopback (however spelled), private, link-local, metadata and local names are dropped; the public provider is kept", async () => {
    const cid = CID.createV1(0x55, await sha256.digest(new TextEncoder().encode(`public-router ${crypto.randomUUID()}`)));
    const port = new URL(upstreamBase()).port;
    const local = `/ip4/127.0.0.1/tcp/${port}/http/http-path/${encodeURIComponent(uniquePersonality("honest"))}`;
    const hostile = [
      peer("12D3KooWLoopback", [local]),
      peer("12D3KooWOctal", [`/ip4/0177.0.0.1/tcp/${port}/http`]),
      peer("12D3KooWMapped", [`/ip6/::ffff:127.0.0.1/tcp/${port}/http`]),
      peer("12D3KooWLoop6", [`/ip6/::1/tcp/${port}/http`]),
      peer("12D3KooWPrivate", ["/ip4/10.0.0.7/tcp/80/http", "/ip4/172.16.0.1/tcp/80/http", "/ip4/192.168.0.1/tcp/443/https"]),
      peer("12D3KooWCgnat", ["/ip4/100.64.0.1/tcp/80/http"]),
      peer("12D3KooWUla", ["/ip6/fd12:3456::1/tcp/80/http"]),
      peer("12D3KooWLinkLocal", ["/ip6/fe80::1/tcp/80/http"]),
      peer("12D3KooWMetadata", ["/ip4/169.254.169.254/tcp/80/http", "/dns/metadata.google.internal/tcp/80/http", "/dns/metadata/tcp/80/http"]),
      peer("12D3KooWLocalhost", [`/dns/localhost/tcp/${port}/http`, "/dns4/printer.local/tcp/80/http"]),
    ];
    const publicPeer = peer("12D3KooWPublic", ["/ip4/10.1.1.1/tcp/80/http", "/dns/gw.example/tcp/443/https/http-path/%2Fgw"]);
    const ipni = inject("ipniBase");
    const put = await fetch(`${ipni}/__providers/${cid}`, { method: "PUT", body: JSON.stringify({ Providers: [...hostile, publicPeer] }) });
    expect(put.status).toBe(204);

    expect(isPrivateUrl("https://cid.contact")).toBe(false); // the production router takes this branch
    const asPublic = await askRouter(ipni, cid, new AbortController().signal, false);
    expect(asPublic).toEqual({
      router: ipni,
      status: "ok",
      providers: [{ id: "12D3KooWPublic", url: "https://gw.example/gw", addr: "/dns/gw.example/tcp/443/https/http-path/%2Fgw", router: ipni }],
      maxAgeSeconds: 300,
    });

    // The same answer from a router that is itself private (operator-run): its local providers are used.
    expect(isPrivateUrl(ipni)).toBe(true);
    const asPrivate = await askRouter(ipni, cid, new AbortController().signal);
    expect(asPrivate.status).toBe("ok");
    const urls = asPrivate.status === "ok" ? asPrivate.providers.map((p) => p.url) : [];
    expect(urls).toContain(`http://127.0.0.1:${port}/${local.split("/http-path/")[1]!.replace(/%7E/gi, "~")}`);
    expect(urls).toContain("http://10.0.0.7");
    expect(urls).toContain("http://169.254.169.254");
  });

  it("a public router's redirect to a private address is refused (its target is not asked); a private router's is followed", async () => {
    const cid = CID.createV1(0x55, await sha256.digest(new TextEncoder().encode(`router-redirect ${crypto.randomUUID()}`)));
    const ipni = inject("ipniBase");
    const put = await fetch(`${ipni}/__providers/${cid}`, { method: "PUT", body: JSON.stringify({ Providers: [peer("12D3KooWPublic", ["/dns/gw.example/tcp/443/https"])] }) });
    expect(put.status).toBe(204);
    const log = async () => ((await (await fetch(`${ipni}/__log?cid=${cid}`)).json()) as { mode: string; status: number }[]).map((e) => [e.mode, e.status]);

    const asPublic = await askRouter(`${ipni}/moved`, cid, new AbortController().signal, false);
    expect(asPublic).toEqual({ router: `${ipni}/moved`, status: "failed", error: `HTTP 302 to a private address (${new URL(ipni).host}) refused` });
    expect(await log()).toEqual([["moved", 302]]);

    const asPrivate = await askRouter(`${ipni}/moved`, cid, new AbortController().signal);
    expect(asPrivate.status === "ok" ? asPrivate.providers.map((p) => p.url) : asPrivate).toEqual(["https://gw.example"]);
    expect(await log()).toEqual([["moved", 302], ["moved", 302], ["", 200]]);
  });
});
