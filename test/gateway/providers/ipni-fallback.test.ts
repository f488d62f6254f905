/**
 * Provider discovery (src/gateway/providers/): when every configured
 * upstream says not found, the gateway asks delegated routing (the local
 * IPNI server, test/servers/ipni-server.ts, plays cid.contact) for HTTP
 * gateway providers and races them with the same verification and health
 * accounting. The providers are personalities of the local upstream server,
 * named by multiaddrs with an `http-path`.
 */
import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { gatewayHealth } from "../../../src/durable-objects/gateway-health";
import { importFile, parseCar, requestLog, uniquePersonality, upstreamBase, upstreamUrl, withUpstreams } from "../../helpers/upstream";
import { pseudoRandomBytes } from "../path/helpers";

const seed = () => crypto.getRandomValues(new Uint32Array(1))[0]! | 1;
const GATEWAY_HTTP = "transport-ipfs-gateway-http";

function addrOf(personality: string): string {
  const port = new URL(upstreamBase()).port;
  return `/ip4/127.0.0.1/tcp/${port}/http/http-path/${encodeURIComponent(personality)}`;
}

function peer(id: string, addrs: string[], protocols = [GATEWAY_HTTP]) {
  return { Schema: "peer", ID: id, Addrs: addrs, Protocols: protocols };
}

async function announce(cid: string, providers: unknown[]): Promise<void> {
  const res = await fetch(`${inject("ipniBase")}/__providers/${cid}`, { method: "PUT", body: JSON.stringify({ Providers: providers }) });
  expect(res.status).toBe(204);
}

async function lookups(cid: string): Promise<{ cid: string; mode: string; query: string; status: number }[]> {
  return (await fetch(`${inject("ipniBase")}/__log?cid=${cid}`)).json();
}

async function healthOf(upstream: string) {
  const snap = await gatewayHealth(env, "local").snapshot();
  return snap.upstreams.find((u) => u.upstream === upstream)?.counts;
}

async function freshFile(length = 200 * 1024) {
  const bytes = pseudoRandomBytes(length, seed());
  const { cid } = await importFile(bytes, { chunkSize: 64 * 1024 });
  return { cid: cid.toString(), bytes };
}

describe("IPNI provider fallback", () => {
  it("no upstream has it: an honest provider found through IPNI serves it, verified; the API shows it", async () => {
    const file = await freshFile();
    const provider = uniquePersonality("honest");
    await announce(file.cid, [peer("12D3KooWHonest", [addrOf(provider)])]);
    const w = withUpstreams([uniquePersonality("not-found")]);

    const res = await w.fetch(`/ipfs/${file.cid}`);
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(file.bytes);
    await w.settle();
    expect((await requestLog(provider)).length).toBeGreaterThan(0);
    const asked = await lookups(file.cid);
    expect(asked).toHaveLength(1);
    expect(asked[0]!.query).toBe(`?filter-protocols=${GATEWAY_HTTP}`);
    expect((await healthOf(upstreamUrl(provider)))?.ok).toBe(1);

    const api = await w.fetch(`/api/v1/providers/${file.cid}`);
    expect(api.status).toBe(200);
    const body = (await api.json()) as { cid: string; providers: unknown[]; routers: unknown[]; source: string };
    expect(body.cid).toBe(file.cid);
    expect(body.providers).toEqual([{ id: "12D3KooWHonest", url: upstreamUrl(provider), addr: addrOf(provider), router: inject("ipniBase") }]);
    expect(body.routers).toEqual([{ router: inject("ipniBase"), status: "ok", providers: 1 }]);
    expect(body.source).toBe("isolate");
    expect(await lookups(file.cid)).toHaveLength(1); // the API used the cached answer
  });

  it("a lying provider is dropped and penalised; the honest one finishes the response", async () => {
    const file = await freshFile();
    const liar = uniquePersonality("flip-byte-2");
    const honest = uniquePersonality("honest");
    await announce(file.cid, [peer("12D3KooWLiar", [addrOf(liar)]), peer("12D3KooWHonest", [addrOf(honest)])]);
    const w = withUpstreams([uniquePersonality("not-found")], { HEDGE_DELAY_MS: "2000" });
    const res = await w.fetch(`/ipfs/${file.cid}?format=car`);
    expect(res.status).toBe(200);
    const car = await parseCar(new Uint8Array(await res.arrayBuffer()));
    expect(car.roots).toEqual([file.cid]);
    await w.settle();
    expect((await healthOf(upstreamUrl(liar)))?.invalidBlock).toBe(1);
    expect((await healthOf(upstreamUrl(honest)))?.ok).toBe(1);
    // Every byte the client got hashed right: the CAR is the honest one.
    const direct = await fetch(`${upstreamUrl("honest")}/ipfs/${file.cid}?format=car`, { headers: { Accept: "application/vnd.ipld.car; version=1; order=dfs; dups=n" } });
    expect(car.blocks).toEqual((await parseCar(new Uint8Array(await direct.arrayBuffer()))).blocks);
  });

  it("only a lying provider: the response never completes as if it were whole", async () => {
    const file = await freshFile();
    await announce(file.cid, [peer("12D3KooWLiar", [addrOf(uniquePersonality("flip-byte-2"))])]);
    const w = withUpstreams([uniquePersonality("not-found")]);
    const res = await w.fetch(`/ipfs/${file.cid}?format=car`);
    expect(res.status).toBe(200); // committed after the root verified
    await expect(res.arrayBuffer()).rejects.toThrow();
  });

  it("providers that do not speak HTTP gateway, or only private addresses from a public router, are not used", async () => {
    const file = await freshFile(1000);
    await announce(file.cid, [
      peer("12D3KooWBitswap", [addrOf(uniquePersonality("honest"))], ["transport-bitswap"]),
      peer("12D3KooWQuic", ["/ip4/203.0.113.9/udp/4001/quic-v1"]),
    ]);
    const w = withUpstreams([uniquePersonality("not-found")]);
    const res = await w.fetch(`/ipfs/${file.cid}`);
    expect(res.status).toBe(404);
    await res.arrayBuffer();
    const api = (await (await w.fetch(`/api/v1/providers/${file.cid}`)).json()) as { providers: unknown[] };
    expect(api.providers).toEqual([]);
  });

  it("IPNI is not asked when an upstream has the content; a CID nobody has costs one routing query per TTL", async () => {
    const file = await freshFile(1000);
    const w = withUpstreams([uniquePersonality("honest")]);
    const ok = await w.fetch(`/ipfs/${file.cid}`);
    expect(ok.status).toBe(200);
    await ok.arrayBuffer();
    expect(await lookups(file.cid)).toEqual([]);

    const absent = await freshFile(1000);
    const nf = withUpstreams([uniquePersonality("not-found")]);
    for (let i = 0; i < 3; i++) {
      const res = await nf.fetch(`/ipfs/${absent.cid}?format=car`);
      expect(res.status).toBe(404);
      await res.arrayBuffer();
    }
    // Three misses, one routing query: the (empty) answer is kept for 15 s.
    expect(await lookups(absent.cid)).toHaveLength(1);
  });

  it("a failing router is reported and the others still answer", async () => {
    const file = await freshFile(1000);
    const provider = uniquePersonality("honest");
    await announce(file.cid, [peer("12D3KooWHonest", [addrOf(provider)])]);
    const ipni = inject("ipniBase");
    const w = withUpstreams([uniquePersonality("not-found")], { PROVIDER_ROUTERS: `${ipni}/fail,${ipni}` });
    const api = await w.fetch(`/api/v1/providers/${file.cid}`);
    const body = (await api.json()) as { providers: { url: string }[]; routers: unknown[] };
    expect(body.providers.map((p) => p.url)).toEqual([upstreamUrl(provider)]);
    expect(body.routers).toEqual([
      { router: `${ipni}/fail`, status: "failed", providers: 0, error: "HTTP 500" },
      { router: ipni, status: "ok", providers: 1 },
    ]);
  });

  it("GET /api/v1/providers/{cid} with something that is not a CID: 400", async () => {
    const w = withUpstreams([uniquePersonality("honest")]);
    const res = await w.fetch(`/api/v1/providers/not-a-cid`);
    expect(res.status).toBe(400);
    expect(await res.text()).toBe('"not-a-cid" is not a valid CID\n');
  });
});
