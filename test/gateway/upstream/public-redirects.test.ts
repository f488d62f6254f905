/**
 * Redirects from upstreams the operator did not configure (pin `origins`,
 * IPNI providers) are followed only to public addresses
 * (src/gateway/upstream/public-fetch.ts): a public origin answering 302 to
 * 127.0.0.1, 10/8 or 169.254.169.254 must not make the worker fetch there.
 *
 * Every server here is on 127.0.0.1: the "public" source is a `redirect`
 * personality of the local upstream (test/servers/trustless-gateway-server.ts)
 * admitted as an origin with `originUrls(…, true)` (as test/pinning/pin-fetch.test.ts
 * does) or named by the local IPNI server, which, being private itself, may
 * name local providers (test/gateway/providers/public-router.test.ts covers
 * the public-router branch of the address check). What is checked is the
 * Location: the redirect target is an `honest` personality that holds the
 * DAG and logs every request, so a followed redirect would serve it.
 */
import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { gatewayHealth } from "../../../src/durable-objects/gateway-health";
import { upstreamDagSource } from "../../../src/pinning/dag-source";
import { originUrls } from "../../../src/pinning/origins";
import { HttpError } from "../../../src/http/errors";
import { importFile, requestLog, uniquePersonality, upstreamBase, upstreamUrl, withUpstreams } from "../../helpers/upstream";
import { pseudoRandomBytes } from "../path/helpers";

const GATEWAY_HTTP = "transport-ipfs-gateway-http";

async function freshFile() {
  const bytes = pseudoRandomBytes(50_000, crypto.getRandomValues(new Uint32Array(1))[0]! | 1);
  const { cid, blocks } = await importFile(bytes, { chunkSize: 16_384 });
  return { cid, bytes, blocks };
}

/** A `redirect[-status]` personality whose answers point at `target` (+ the rest of the path and the query). */
async function redirectTo(target: string, status?: number): Promise<string> {
  const personality = uniquePersonality(status === undefined ? "redirect" : `redirect-${status}`);
  const res = await fetch(`${upstreamBase()}/__redirect?personality=${encodeURIComponent(personality)}`, { method: "PUT", body: target });
  expect(res.status).toBe(200);
  await res.arrayBuffer();
  return personality;
}

/** The honest personality as a client could spell it in a Location. */
function spellings(personality: string): string[] {
  const port = new URL(upstreamBase()).port;
  return [
    `http://127.0.0.1:${port}/${personality}`,
    `http://localhost:${port}/${personality}`,
    `http://2130706433:${port}/${personality}`,
    `http://[::ffff:127.0.0.1]:${port}/${personality}`,
    `http://0177.0.0.1:${port}/${personality}`,
  ];
}

async function errorsOf(upstream: string): Promise<number | undefined> {
  const snap = await gatewayHealth(env, "local").snapshot();
  return snap.upstreams.find((u) => u.upstream === upstream)?.counts.error;
}

describe("redirects from pin origins and IPNI providers go to public addresses only", () => {
  it("pin origins: a 30x to loopback however spelled is refused, nothing is fetched there, the DAG cannot be had", async () => {
    const file = await freshFile();
    const port = new URL(upstreamBase()).port;
    const hosts = [`127.0.0.1:${port}`, `localhost:${port}`, `127.0.0.1:${port}`, `[::ffff:7f00:1]:${port}`, `127.0.0.1:${port}`]; // as the URL parser reads them
    for (const [i, status] of [301, 302, 303, 307, 308].entries()) {
      const target = uniquePersonality("honest");
      const redirect = await redirectTo(spellings(target)[i]!, status);
      const notFound = uniquePersonality("not-found");
      const source = upstreamDagSource({ ...env, UPSTREAMS: upstreamUrl(notFound) }, originUrls([upstreamUrl(redirect)], true));
      const got: string[] = [];
      const failure = await (async () => {
        for await (const block of source(file.cid, new AbortController().signal)) got.push(block.cid.toString());
      })().then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(got, String(status)).toEqual([]);
      expect(failure, String(status)).toBeInstanceOf(HttpError);
      expect((failure as HttpError).message).toBe(
        `no upstream could deliver ${file.cid}: ${upstreamUrl(notFound)}: not_found (HTTP 404); ${upstreamUrl(redirect)}: error (HTTP ${status} to a private address (${hosts[i]}) refused)`,
      );
      expect(await requestLog(target), String(status)).toEqual([]);
      const asked = await requestLog(redirect);
      expect(asked.map((e) => [e.url, e.status])).toEqual([[`/${redirect}/ipfs/${file.cid}?format=car&dag-scope=all&car-version=1&car-order=dfs&car-dups=y`, status]]);
    }
  });

  it("IPNI providers: a provider redirecting to loopback, a private network, cloud metadata or file: serves nothing; the gateway answers 502 saying why", async () => {
    const file = await freshFile();
    const target = uniquePersonality("honest");
    const port = new URL(upstreamBase()).port;
    const locations: [string, number, string][] = [
      [`http://127.0.0.1:${port}/${target}`, 302, `to a private address (127.0.0.1:${port})`],
      [`/${target}`, 307, `to a private address (127.0.0.1:${port})`], // relative: the same (loopback) host
      ["http://169.254.169.254/latest/meta-data", 301, "to a private address (169.254.169.254)"],
      ["http://10.0.0.1", 308, "to a private address (10.0.0.1)"],
      ["http://metadata.google.internal/computeMetadata/v1", 302, "to a private address (metadata.google.internal)"],
      ["file:///etc/passwd#", 303, "to a file: URL"],
    ];
    const redirects: string[] = [];
    for (const [location, status] of locations) redirects.push(await redirectTo(location, status));
    const providers = redirects.map((r, i) => ({
      Schema: "peer",
      ID: `12D3KooWRedirect${i}`,
      Addrs: [`/ip4/127.0.0.1/tcp/${port}/http/http-path/${encodeURIComponent(r)}`],
      Protocols: [GATEWAY_HTTP],
    }));
    const put = await fetch(`${inject("ipniBase")}/__providers/${file.cid}`, { method: "PUT", body: JSON.stringify({ Providers: providers }) });
    expect(put.status).toBe(204);

    const w = withUpstreams([uniquePersonality("not-found")]);
    const res = await w.fetch(`/ipfs/${file.cid}`);
    expect(res.status).toBe(502);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const text = await res.text();
    const prefix = `no upstream could deliver ${file.cid}: `;
    expect(text.startsWith(prefix)).toBe(true);
    const expected = redirects.map((r, i) => `${upstreamUrl(r)}: error (HTTP ${locations[i]![1]} ${locations[i]![2]} refused)`);
    expect(text.slice(prefix.length).trimEnd().split("; ").sort()).toEqual(expected.sort());
    await w.settle();
    expect(await requestLog(target)).toEqual([]);
    for (const [i, r] of redirects.entries()) {
      expect((await requestLog(r)).map((e) => e.status), r).toEqual([locations[i]![1]]);
      expect(await errorsOf(upstreamUrl(r)), r).toBe(1);
    }
  });

  it("configured UPSTREAMS are the operator's: their redirects are still followed", async () => {
    const file = await freshFile();
    const target = uniquePersonality("honest");
    const redirect = await redirectTo(`http://127.0.0.1:${new URL(upstreamBase()).port}/${target}`, 307);
    const w = withUpstreams([redirect]);
    const res = await w.fetch(`/ipfs/${file.cid}`);
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(file.bytes);
    await w.settle();
    expect((await requestLog(redirect)).map((e) => e.status)).toEqual([307]);
    expect((await requestLog(target)).map((e) => e.status)).toEqual([200]);
  });
});
