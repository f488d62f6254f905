/**
 * Providers' retrieval URLs as upstreams of our own gateway (issue 10,
 * docs/filecoin.md "Providers as upstreams"): a Filecoin copy under watch
 * puts its provider's trustless gateway in the root's holder record
 * (`holders/<multihash>` in R2), and the gateway races it first when the
 * root is not in R2. Personalities of the local trustless gateway server
 * (test/servers/trustless-gateway-server.ts) play the providers: their
 * retrieval URL is `{personality}/piece/{pieceCid}`, as Curio's is.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, inject, it } from "vitest";
import { blockKey } from "../../src/backends/r2-block-store";
import { filecoinWatch } from "../../src/cron/filecoin-watch";
import { gatewayHealth } from "../../src/durable-objects/gateway-health";
import { holdersKey } from "../../src/replication/holder-index";
import { parseCar, requestLog, uniquePersonality, upstreamUrl, withUpstreams } from "../helpers/upstream";
import { CHUNK, fiveLeafFile, honestCar } from "../gateway/racing/dag-fixture";
import { CID } from "multiformats/cid";
import { registryStub } from "../../src/durable-objects/pin-registry";
import { call, newAccount, pinJson, pseudoRandomBytes, putInR2, unixfsDag } from "../pinning/helpers";
import { replicaOf, rootStatus, runUntil } from "../replication/helpers";
import { putBlocks } from "../helpers/upstream";

const CAR = { Accept: "application/vnd.ipld.car" };
const PIECE = "bafkzcibcaapao7ioslgp3bqbfmbyc2ylc6iqlnmtdtr5bhqkqfuk6ee7rzpdmbq";
const watch = filecoinWatch(env);
const watched: string[] = [];

async function healthOf(upstream: string) {
  const snap = await gatewayHealth(env, "local").snapshot();
  return snap.upstreams.find((u) => u.upstream === upstream)?.counts;
}

/** A provider copy of `root` under watch, its retrieval URL on `personality`. */
async function providerCopy(root: CID, personality: string, providerId: string, dataSetId: number): Promise<string> {
  const id = await watch.watch({
    kind: "pdp", account: "acct-upstreams", root: root.toString(), backend: "foc", remoteId: PIECE, pieceCid: PIECE,
    dataSetId: String(dataSetId), pieceId: "1", providerId, retrievalUrl: `${upstreamUrl(personality)}/piece/${PIECE}`, addedEpoch: "0",
  });
  watched.push(id);
  return id;
}

async function holderRecord(root: CID): Promise<unknown> {
  const object = await env.BLOCKS.get(holdersKey(root));
  return object === null ? null : JSON.parse(await object.text());
}

/** The DAG as the honest upstream has it, written to R2 as pinning would (root last). */
async function inR2(root: CID): Promise<CID[]> {
  const { blocks } = await honestCar(`/ipfs/${root}`);
  const cids = blocks.map((b) => CID.parse(b.cid));
  for (let i = blocks.length - 1; i >= 0; i--) await env.BLOCKS.put(blockKey(cids[i]!), blocks[i]!.bytes);
  return cids;
}

afterEach(async () => {
  for (const id of watched.splice(0)) await watch.unwatch(id, "test cleanup");
});

describe("providers' retrieval URLs as gateway upstreams", () => {
  it("R2 copy removed, public upstreams without the content: the provider holding it serves it, verified, asked first", async () => {
    const file = await fiveLeafFile(9001);
    const provider = uniquePersonality("honest");
    const publicUpstream = uniquePersonality("not-found");
    await providerCopy(file.cid, provider, "4", 7001);
    expect(await holderRecord(file.cid)).toEqual({ v: 1, sources: { filecoin: [upstreamUrl(provider)] } });
    const cids = await inR2(file.cid);
    // A long hedge delay: the configured upstream is asked only if the provider fails.
    const w = withUpstreams([publicUpstream], { HEDGE_DELAY_MS: "5000" });
    // In R2: served from there, nobody else asked.
    const fromR2 = await w.fetch(`/ipfs/${file.cid}?format=raw`);
    expect(fromR2.status).toBe(200);
    await fromR2.arrayBuffer();
    expect(await requestLog(provider)).toEqual([]);

    // The R2 copy is removed (every block).
    for (const cid of cids) await env.BLOCKS.delete(blockKey(cid));
    const res = await w.fetch(`/ipfs/${file.cid}`);
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(file.bytes);
    await w.settle();

    const log = await requestLog(provider);
    expect(log.map((e) => [e.url, e.accept])).toEqual([
      [`/${provider}/ipfs/${file.cid}?format=car&dag-scope=entity&car-version=1&car-order=dfs&car-dups=y`, "application/vnd.ipld.car; version=1; order=dfs; dups=y"],
    ]);
    expect(await requestLog(publicUpstream)).toEqual([]);
    expect(await healthOf(upstreamUrl(provider))).toMatchObject({ ok: 1, invalidBlock: 0 });
  });

  it("a provider that lies is dropped mid-stream and penalised; the configured upstream finishes from where it stopped", async () => {
    const file = await fiveLeafFile(9002);
    const liar = uniquePersonality("flip-byte-2");
    const honest = uniquePersonality("honest");
    await providerCopy(file.cid, liar, "5", 7002);

    const w = withUpstreams([honest], { HEDGE_DELAY_MS: "5000" });
    const res = await w.fetch(`/ipfs/${file.cid}`, { headers: CAR });
    expect(res.status).toBe(200);
    const got = await parseCar(new Uint8Array(await res.arrayBuffer()));
    const want = await honestCar(`/ipfs/${file.cid}`);
    expect(got.blocks).toEqual(want.blocks);
    expect(got.blocks).toHaveLength(6);
    await w.settle();

    expect((await requestLog(liar)).map((e) => e.url)).toEqual([
      `/${liar}/ipfs/${file.cid}?format=car&dag-scope=all&car-version=1&car-order=dfs&car-dups=y`,
    ]);
    // The honest upstream was asked only for the rest of the file, after the liar's first good leaf.
    expect((await requestLog(honest)).map((e) => e.url)).toEqual([
      `/${honest}/ipfs/${file.cid}?format=car&dag-scope=entity&entity-bytes=${CHUNK}:*&car-version=1&car-order=dfs&car-dups=y`,
    ]);
    expect(await healthOf(upstreamUrl(liar))).toMatchObject({ invalidBlock: 1, ok: 0 });
    expect(await healthOf(upstreamUrl(honest))).toMatchObject({ ok: 1 });
  });

  it("two providers, the first lying: the second provider finishes and no configured upstream is asked", async () => {
    const file = await fiveLeafFile(9003);
    const liar = uniquePersonality("wrong-cid-3");
    const second = uniquePersonality("honest");
    const publicUpstream = uniquePersonality("honest");
    await providerCopy(file.cid, liar, "6", 7003);
    await providerCopy(file.cid, second, "7", 7004);
    expect(await holderRecord(file.cid)).toEqual({ v: 1, sources: { filecoin: [upstreamUrl(liar), upstreamUrl(second)] } });

    const w = withUpstreams([publicUpstream], { HEDGE_DELAY_MS: "5000" });
    const res = await w.fetch(`/ipfs/${file.cid}`);
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(file.bytes);
    await w.settle();
    expect(await healthOf(upstreamUrl(liar))).toMatchObject({ invalidBlock: 1 });
    expect((await requestLog(second)).map((e) => e.url)).toEqual([
      `/${second}/ipfs/${file.cid}?format=car&dag-scope=entity&entity-bytes=${2 * CHUNK}:${file.bytes.length - 1}&car-version=1&car-order=dfs&car-dups=y`,
    ]);
    expect(await requestLog(publicUpstream)).toEqual([]);
  });

  it("content nobody pinned here: one R2 read of its holder record per isolate, no Durable Object, no provider, no chain call", async () => {
    const file = await fiveLeafFile(9004);
    const upstream = uniquePersonality("honest");
    const chainBefore = ((await (await fetch(`${inject("filecoinBase")}/__log`)).json()) as { methods: string[] }).methods.length;
    const reads: string[] = [];
    const blocks = new Proxy(env.BLOCKS, {
      get(target, prop) {
        const value = Reflect.get(target, prop) as unknown;
        if (prop === "get") return (key: string, opts?: R2GetOptions) => (reads.push(key), target.get(key, opts));
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    let watchUsed = 0;
    const watchNs = new Proxy(env.FILECOIN_WATCH, {
      get(target, prop) {
        watchUsed++;
        const value = Reflect.get(target, prop) as unknown;
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const w = withUpstreams([upstream], { BLOCKS: blocks, FILECOIN_WATCH: watchNs });
    for (let i = 0; i < 2; i++) {
      const res = await w.fetch(`/ipfs/${file.cid}?format=car`);
      expect(res.status).toBe(200);
      expect((await parseCar(new Uint8Array(await res.arrayBuffer()))).blocks).toHaveLength(6);
    }
    await w.settle();
    // Per request one R2 read of the root block; the holder record once (the second request used the isolate's answer).
    expect(reads.filter((k) => k === holdersKey(file.cid))).toEqual([holdersKey(file.cid)]);
    expect(reads.filter((k) => k === blockKey(file.cid))).toHaveLength(2);
    expect(reads).toHaveLength(3);
    expect(watchUsed).toBe(0);
    expect(await requestLog(upstream)).toHaveLength(2);
    const chainAfter = ((await (await fetch(`${inject("filecoinBase")}/__log`)).json()) as { methods: string[] }).methods.length;
    expect(chainAfter).toBe(chainBefore);
  });

  it("the index follows the watch: a second copy adds its provider, unwatching removes it, the last one deletes the record", async () => {
    const file = await fiveLeafFile(9005);
    const a = uniquePersonality("honest");
    const b = uniquePersonality("honest");
    const first = await providerCopy(file.cid, a, "8", 7005);
    const second = await providerCopy(file.cid, b, "9", 7006);
    expect(await holderRecord(file.cid)).toEqual({ v: 1, sources: { filecoin: [upstreamUrl(a), upstreamUrl(b)] } });
    await watch.unwatch(first, "piece removed");
    expect(await holderRecord(file.cid)).toEqual({ v: 1, sources: { filecoin: [upstreamUrl(b)] } });
    await watch.unwatch(second, "piece removed");
    expect(await holderRecord(file.cid)).toBeNull();
  });

  it("another backend's gateway (a Kubo node's gatewayUrl) becomes an upstream once the engine stored the copy there", async () => {
    const { token, account } = await newAccount("holders-kubo");
    const dag = await unixfsDag(pseudoRandomBytes(3000, 9006), 1000);
    await putInR2(dag.blocks);
    const created = await pinJson(await call("POST", "/psa/pins", { token, body: { cid: dag.root.toString(), meta: { tier: "kubo" } } }));
    await runUntil(account, async () => (await registryStub(env, account).getPin(created.requestid))?.status === "pinned", 5_000);
    await runUntil(account, async () => replicaOf(await rootStatus(token, dag.root), "home-kubo").state === "stored", 30_000);
    const kuboGateway = upstreamUrl("honest~home-kubo");
    expect(await holderRecord(dag.root)).toEqual({ v: 1, sources: { [`${account}/home-kubo`]: [kuboGateway] } });

    // The R2 copy goes; the node's gateway (the test gateway holding the blocks) serves the DAG, public upstreams do not have it.
    await putBlocks(dag.blocks);
    for (const b of dag.blocks) await env.BLOCKS.delete(blockKey(b.cid));
    const publicUpstream = uniquePersonality("not-found");
    const w = withUpstreams([publicUpstream], { HEDGE_DELAY_MS: "5000" });
    const res = await w.fetch(`/ipfs/${dag.root}?format=car`);
    expect(res.status).toBe(200);
    const car = await parseCar(new Uint8Array(await res.arrayBuffer()));
    expect(car.blocks.map((b) => b.cid).sort()).toEqual(dag.blocks.map((b) => b.cid.toString()).sort());
    await w.settle();
    expect((await requestLog("honest~home-kubo")).filter((e) => e.url.includes(dag.root.toString())).map((e) => e.url)).toEqual([
      `/honest~home-kubo/ipfs/${dag.root}?format=car&dag-scope=all&car-version=1&car-order=dfs&car-dups=y`,
    ]);
    expect(await requestLog(publicUpstream)).toEqual([]);
  }, 60_000);
});
