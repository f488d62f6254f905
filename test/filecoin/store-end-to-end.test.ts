import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, inject, it, vi } from "vitest";
import { CarBlockIterator } from "@ipld/car";
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import { filecoinWatch } from "../../src/cron/filecoin-watch";
import { pieceCidOfStream } from "../../src/backends/filecoin/piece-cid";
import type { RootStatusWithFilecoin } from "../../src/replication/filecoin-status";
import type { ProviderLog, Mode } from "../servers/pdp-provider-server";
import { call, pinJson, newAccount, pseudoRandomBytes, unixfsDag, putInR2 } from "../pinning/helpers";
import { makeDue, pinInR2, replicaOf, rootStatus, runUntil } from "../replication/helpers";
import { registryStub } from "../../src/durable-objects/pin-registry";
import { create as createFilecoinBackend } from "../../src/backends/filecoin/filecoin-backend";
import type { Json } from "../../src/backends/replication-backend";
import { syntheticDag } from "../../bench/replication-dag";
import { FOC_PAYER, FOC_SESSION_KEY, FOC_SESSION_KEY_ADDRESS, FOC_UNAUTHORISED_SESSION_KEY } from "./foc-test-keys";
import { supportsStreamingFetchBody } from "@filoz/synapse-core/utils";

/**
 * FilecoinBackend.store() end to end, through the replication engine (the
 * account's PinRegistry alarm), against the local chain
 * (test/servers/filecoin-chain-server.ts + filecoin-storage-chain.ts) and
 * two local PDP providers speaking Curio's API
 * (test/servers/pdp-provider-server.ts), found by the worker in the chain's
 * ServiceProviderRegistry like real ones. Backends `foc` (2 copies),
 * `foc-split` (1 copy, 4 KiB pieces), `foc-nokey` (a session key the payer
 * never authorised): vitest.config.ts.
 */
const providers = inject("pdpProviders");
const [p1, p2] = [providers[0]!, providers[1]!];

async function mode(base: string, m: Mode): Promise<void> {
  expect((await fetch(`${base}/__mode`, { method: "POST", body: JSON.stringify(m) })).status).toBe(204);
}
async function providerLog(base: string): Promise<ProviderLog> {
  return (await (await fetch(`${base}/__log`)).json()) as ProviderLog;
}
interface Copy { providerId: string; dataSetId: string; pieceIds: string[]; pieceCids: string[]; retrievalUrls: string[]; addedEpoch: string }
async function copiesOf(token: string, cid: string): Promise<Copy[]> {
  return replicaOf(await rootStatus(token, cid), "foc").details.copies as unknown as Copy[];
}
/** A piece as the provider serves it back: its bytes' piece CID, and the blocks of the CAR it is. */
async function fetchPiece(url: string): Promise<{ pieceCid: string; roots: string[]; blocks: string[] }> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const { pieceCid } = await pieceCidOfStream(new Blob([bytes]).stream());
  const car = await CarBlockIterator.fromBytes(bytes);
  const blocks: string[] = [];
  for await (const b of car) blocks.push(b.cid.toString());
  return { pieceCid: pieceCid.toString(), roots: (await car.getRoots()).map(String), blocks };
}

beforeEach(async () => {
  await mode(p1.base, {});
  await mode(p2.base, {});
});

describe("FilecoinBackend.store() through the engine, local chain and PDP providers", () => {
  it("why uploads go through piece-upload.ts: in workerd synapse-core's streaming probe fails, so its uploadPieceStreaming would collect the whole piece in a Blob", () => {
    expect(supportsStreamingFetchBody()).toBe(false);
  });

  it("a pin replicated to `foc` ends stored: 2 copies (endorsed primary uploads, the other pulls), piece CID = what the provider hashed, IPNI data set metadata, IPFS root piece metadata", async () => {
    const a = await newAccount("foc-store");
    const { root, requestid } = await pinInR2(a.token, a.account, 2101, { tier: "foc" }, 3000);
    const cid = root.toString();
    await runUntil(a.account, async () => replicaOf(await rootStatus(a.token, cid), "foc").state === "stored", 60_000);

    const status = (await rootStatus(a.token, cid)) as unknown as RootStatusWithFilecoin;
    const foc = replicaOf(status as never, "foc");
    const [log1, log2] = [await providerLog(p1.base), await providerLog(p2.base)];
    // The primary (provider 1, the endorsed one) received the CAR once and hashed it.
    expect(log1.uploads).toHaveLength(1);
    const upload = log1.uploads[0]!;
    expect(upload).toMatchObject({ result: "stored", claimed: upload.computed });
    const pieceCid = upload.computed!;
    // Provider 2 pulled the piece from provider 1 (provider to provider), not from us.
    expect(log2.uploads).toEqual([]);
    expect(log2.pulls).toEqual([{ pieceCid, sourceUrl: `${p1.base}/piece/${pieceCid}`, result: "complete" }]);

    const copies = await copiesOf(a.token, cid);
    expect(copies.map((c) => c.providerId)).toEqual(["1", "2"]);
    // The remote id names this replica's copies: the piece CID, then each provider's data set and piece id.
    expect(foc.remoteId).toBe(`${pieceCid}@${copies[0]!.dataSetId}:0+${copies[1]!.dataSetId}:0`);
    for (const [i, c] of copies.entries()) {
      const log = i === 0 ? log1 : log2;
      const base = i === 0 ? p1.base : p2.base;
      // What the provider committed on chain for the client, signed by the session key for the payer.
      expect(log.commits).toHaveLength(1);
      const commit = log.commits[0]!;
      expect(commit).toMatchObject({ newDataSet: true, payer: FOC_PAYER, signer: FOC_SESSION_KEY_ADDRESS });
      expect(commit.dataSetMetadata).toEqual({ withIPFSIndexing: "", source: "ipfs-kit-edge" });
      expect(commit.pieces).toEqual([{ pieceCid, pieceId: c.pieceIds[0], metadata: { ipfsRootCID: cid } }]);
      expect(c).toEqual({ providerId: String(i + 1), dataSetId: commit.dataSetId, pieceIds: ["0"], pieceCids: [pieceCid], retrievalUrls: [`${base}/piece/${pieceCid}`], addedEpoch: "1000000" });
      // The retrieval URL serves the CAR: its bytes hash to the piece CID, its root is the pin's.
      const served = await fetchPiece(c.retrievalUrls[0]!);
      expect(served.pieceCid).toBe(pieceCid);
      expect(served.roots).toEqual([cid]);
      // The data set asked for IPFS indexing: the provider's trustless gateway serves the DAG's blocks (root here).
      const block = await fetch(`${base}/ipfs/${cid}?format=raw`);
      expect(block.status).toBe(200);
      expect(block.headers.get("content-type")).toBe("application/vnd.ipld.raw");
      expect(CID.createV1(root.code, await sha256.digest(new Uint8Array(await block.arrayBuffer()))).toString()).toBe(cid);
    }
    // The watch has every copy.
    const watched = await filecoinWatch(env).copies(cid);
    expect(watched.map((w) => [w.providerId, w.dataSetId, w.pieceId, w.pieceCid]).sort()).toEqual(copies.map((c) => [c.providerId, c.dataSetId, "0", pieceCid]));
    const psa = await pinJson(await call("GET", `/psa/pins/${requestid}`, { token: a.token }), 200);
    expect(psa.info.replicas).toBe("foc=stored r2=stored");
    expect(psa.info["foc.copies"]).toBe(copies.map((c) => `provider ${c.providerId}: data set ${c.dataSetId}, piece 0 ${pieceCid} ${c.retrievalUrls[0]}`).join("; "));
  }, 90_000);

  it("a DAG larger than the piece size (`foc-split`, 4 KiB pieces) is split along block boundaries: every piece a CAR of the same root, each block once, all pieces uploaded, committed and recorded", async () => {
    const a = await newAccount("foc-split");
    const dag = await unixfsDag(pseudoRandomBytes(12_000, 2102), 1000);
    await putInR2(dag.blocks);
    const created = await pinJson(await call("POST", "/psa/pins", { token: a.token, body: { cid: dag.root.toString(), meta: { tier: "foc-split" } } }));
    const cid = dag.root.toString();
    await runUntil(a.account, async () => (await registryStub(env, a.account).getPin(created.requestid))?.status === "pinned", 5_000);
    await runUntil(a.account, async () => replicaOf(await rootStatus(a.token, cid), "foc-split").state === "stored", 60_000);

    const replica = replicaOf(await rootStatus(a.token, cid), "foc-split");
    const [copy] = replica.details.copies as unknown as Copy[];
    const log1 = await providerLog(p1.base);
    const uploaded = log1.uploads.filter((u) => u.result === "stored").map((u) => u.computed);
    expect(copy!.pieceCids.length).toBeGreaterThanOrEqual(3);
    expect(copy!.pieceCids).toEqual(uploaded);
    expect(copy!.pieceIds).toEqual(copy!.pieceCids.map((_, i) => String(i)));
    expect(log1.commits).toHaveLength(1);
    expect(log1.commits[0]!.pieces.map((p) => [p.pieceCid, p.pieceId, p.metadata.ipfsRootCID])).toEqual(copy!.pieceCids.map((p, i) => [p, String(i), cid]));
    expect(log1.commits[0]!.dataSetMetadata).toEqual({ withIPFSIndexing: "", source: "split" });
    const seen: string[] = [];
    for (const [i, url] of copy!.retrievalUrls.entries()) {
      const piece = await fetchPiece(url);
      expect(piece.pieceCid).toBe(copy!.pieceCids[i]);
      expect(piece.roots).toEqual([cid]);
      seen.push(...piece.blocks);
    }
    expect(seen.sort()).toEqual(dag.blocks.map((b) => b.cid.toString()).sort());
    expect(replica.bytes).toBeGreaterThan(4096 * 2);
  }, 90_000);

  it("the primary dies mid-upload: the replica stays retryable (queued, error kept), the retry uploads the piece once more and commits once per provider (no duplicate on chain)", async () => {
    await mode(p1.base, { upload: "die" });
    const a = await newAccount("foc-die");
    const { root } = await pinInR2(a.token, a.account, 2103, { tier: "foc" }, 2500);
    const cid = root.toString();
    await runUntil(a.account, async () => replicaOf(await rootStatus(a.token, cid), "foc").lastError !== null, 60_000);
    const failed = replicaOf(await rootStatus(a.token, cid), "foc");
    expect(failed.state).not.toBe("stored");
    expect(failed.lastError).toMatch(/^retryable: /);
    expect((await providerLog(p1.base)).uploads).toEqual([{ bytes: 0, computed: null, claimed: null, result: "connection dropped by the provider" }]);
    expect((await providerLog(p1.base)).commits).toEqual([]);

    await makeDue(a.account, "foc");
    await runUntil(a.account, async () => replicaOf(await rootStatus(a.token, cid), "foc").state === "stored", 60_000);
    const [log1, log2] = [await providerLog(p1.base), await providerLog(p2.base)];
    expect(log1.uploads.map((u) => u.result)).toEqual(["connection dropped by the provider", "stored"]);
    const copies = await copiesOf(a.token, cid);
    expect(copies.map((c) => c.pieceCids)).toEqual([[log1.uploads[1]!.computed], [log1.uploads[1]!.computed]]);
    expect(log1.commits.flatMap((c) => c.pieces.map((p) => p.pieceCid))).toEqual([log1.uploads[1]!.computed]);
    expect(log2.commits.flatMap((c) => c.pieces.map((p) => p.pieceCid))).toEqual([log1.uploads[1]!.computed]);
  }, 120_000);

  it("a provider answering piece ids the chain does not hold: not recorded (retryable error naming it); the retry finds the pieces the chain does hold and does not add them twice", async () => {
    await mode(p2.base, { ids: "wrong" });
    const a = await newAccount("foc-ids");
    const { root } = await pinInR2(a.token, a.account, 2104, { tier: "foc" }, 2600);
    const cid = root.toString();
    await runUntil(a.account, async () => replicaOf(await rootStatus(a.token, cid), "foc").lastError !== null, 60_000);
    const failed = replicaOf(await rootStatus(a.token, cid), "foc");
    expect(failed.state).not.toBe("stored");
    const commit2 = (await providerLog(p2.base)).commits[0]!;
    expect(failed.lastError).toBe(`retryable: provider 2 answered piece ids ${Number(commit2.pieces[0]!.pieceId) + 100} in data set ${commit2.dataSetId}, which the chain does not hold for these pieces`);

    await mode(p2.base, {});
    await makeDue(a.account, "foc");
    await runUntil(a.account, async () => replicaOf(await rootStatus(a.token, cid), "foc").state === "stored", 60_000);
    const copies = await copiesOf(a.token, cid);
    expect(copies[1]).toMatchObject({ providerId: "2", dataSetId: commit2.dataSetId, pieceIds: [commit2.pieces[0]!.pieceId] });
    // No second commit to provider 2 (its log was reset with the mode: nothing since).
    expect((await providerLog(p2.base)).commits).toEqual([]);
  }, 120_000);

  it("bytes corrupted on their way to the provider: it refuses the piece (its hash differs), nothing is committed, the replica stays retryable", async () => {
    await mode(p1.base, { upload: "corrupt" });
    const a = await newAccount("foc-corrupt");
    const { root } = await pinInR2(a.token, a.account, 2105, { tier: "foc" }, 2700);
    const cid = root.toString();
    await runUntil(a.account, async () => replicaOf(await rootStatus(a.token, cid), "foc").lastError !== null, 60_000);
    const log1 = await providerLog(p1.base);
    expect(log1.uploads).toHaveLength(1);
    expect(log1.uploads[0]!.result).toBe("mismatch");
    expect(log1.uploads[0]!.computed).not.toBe(log1.uploads[0]!.claimed);
    expect(log1.commits).toEqual([]);
    const r = replicaOf(await rootStatus(a.token, cid), "foc");
    expect(r.state).not.toBe("stored");
    expect(r.lastError).toBe(`retryable: provider could not finalize the upload: 400 piece CID mismatch: the client says ${log1.uploads[0]!.claimed}, the bytes received hash to ${log1.uploads[0]!.computed}`);
  }, 90_000);

  it("a provider rejecting uploads: retryable error with the provider's reason, nothing committed", async () => {
    await mode(p1.base, { upload: "reject" });
    const a = await newAccount("foc-reject");
    const { root } = await pinInR2(a.token, a.account, 2106, { tier: "foc" }, 2800);
    const cid = root.toString();
    await runUntil(a.account, async () => replicaOf(await rootStatus(a.token, cid), "foc").lastError !== null, 60_000);
    const r = replicaOf(await rootStatus(a.token, cid), "foc");
    expect(r.state).not.toBe("stored");
    expect(r.lastError).toBe("retryable: provider could not upload the piece: 503 upload refused: the provider is out of capacity");
    expect((await providerLog(p1.base)).uploads).toEqual([{ bytes: 0, computed: null, claimed: null, result: "rejected" }]);
    expect((await providerLog(p1.base)).commits).toEqual([]);
  }, 90_000);

  it("a session key the payer never authorised: a clear unauthorized error naming the permissions, nothing uploaded, and the key never appears in the status or the logs", async () => {
    const logged: string[] = [];
    const spies = (["log", "info", "warn", "error", "debug"] as const).map((m) => vi.spyOn(console, m).mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(" "))));
    const a = await newAccount("foc-nokey");
    const { root } = await pinInR2(a.token, a.account, 2107, { tier: "foc-nokey" }, 2900);
    const cid = root.toString();
    await runUntil(a.account, async () => replicaOf(await rootStatus(a.token, cid), "foc-nokey").lastError !== null, 60_000);
    const r = replicaOf(await rootStatus(a.token, cid), "foc-nokey");
    expect(r.lastError).toBe("unauthorized: Session key does not have the required permissions. Please login and sync expirations with the session key first.");
    expect((await providerLog(p1.base)).uploads).toEqual([]);
    const text = await (await call("GET", `/api/v1/pins/${cid}`, { token: a.token })).text();
    expect(text).not.toContain(FOC_UNAUTHORISED_SESSION_KEY.slice(2));
    for (const spy of spies) spy.mockRestore();
    // The worker's log lines were captured (the pin's own, src/observability/log.ts; the engine keeps replica errors in
    // its replica log, shown above), and none carries the key.
    expect(logged.some((l) => l.includes('"event":"pinned"') && l.includes(cid))).toBe(true);
    expect(logged.filter((l) => l.toLowerCase().includes(FOC_UNAUTHORISED_SESSION_KEY.slice(2).toLowerCase()))).toEqual([]);
  }, 90_000);

  it("the operator's backend test: `foc` reachable with its session key allowed; `foc-nokey` reachable, not allowed, said so", async () => {
    const ok = await call("POST", "/api/v1/backends/foc/test", { token: "test-admin-token" });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ name: "foc", type: "filecoin", reachable: true, authorised: true, roundTrip: false, message: "chain reachable, session key allowed; round trip not attempted (it would pay for storage)" });
    const bad = await call("POST", "/api/v1/backends/foc-nokey/test", { token: "test-admin-token" });
    const body = await bad.text();
    expect(JSON.parse(body)).toMatchObject({ name: "foc-nokey", reachable: true, authorised: false, message: "the session key lacks the FWSS permissions (create data set, add and remove pieces) or they expired" });
    expect(body).not.toContain(FOC_UNAUTHORISED_SESSION_KEY.slice(2));
  });

  it("store() resumes from its checkpoints in a fresh backend (an evicted alarm): plan, providers and pieces already uploaded are not redone; every piece uploaded once, one commit", async () => {
    const rpcUrl = inject("filecoinBase") + "/rpc";
    const secrets: Record<string, string> = { SESSION_KEY: FOC_SESSION_KEY, PAYER: FOC_PAYER };
    const backend = () => createFilecoinBackend({
      name: "foc-resume", env, secret: (f) => secrets[f],
      settings: { type: "filecoin", chain: "calibration", rpcUrl, copies: 1, maxPieceBytes: 4096, rpcTimeoutMs: 5000, source: "resume" },
    });
    const dag = await syntheticDag(6, 1500);
    let progress: Json | undefined;
    const checkpoint = async (p: Json) => void (progress = structuredClone(p));
    const uploadedSoFar = () => (progress as { storedOnPrimary?: number } | undefined)?.storedOnPrimary ?? 0;

    // 1. The step's deadline has passed: the plan is made and checkpointed, then the step yields.
    const first = await (await backend()).store(dag, { checkpoint, deadline: 0 });
    expect(first).toMatchObject({ state: "pending", next: "store", retryAfterMs: 0 });
    const plan = (progress as { plan: { pieces: Array<{ pieceCid: string }> } }).plan;
    expect(plan.pieces.length).toBeGreaterThanOrEqual(3);
    expect((await providerLog(p1.base)).uploads).toEqual([]);

    // 2. Another instance resumes; its time runs out once one piece is uploaded (the deadline is read per piece).
    const second = await (await backend()).store(dag, { progress: progress!, checkpoint, get deadline() { return uploadedSoFar() >= 1 ? 0 : Date.now() + 60_000; } });
    expect(second).toMatchObject({ state: "pending", next: "store" });
    expect(uploadedSoFar()).toBe(1);

    // 3. A fresh instance (evicted, nothing in memory) finishes from the checkpoint.
    const third = await (await backend()).store(dag, { progress: progress!, checkpoint, deadline: Date.now() + 60_000 });
    expect(third.state).toBe("stored");
    const log1 = await providerLog(p1.base);
    expect(log1.uploads.map((u) => [u.result, u.computed])).toEqual(plan.pieces.map((p) => ["stored", p.pieceCid]));
    expect(log1.commits).toHaveLength(1);
    expect(log1.commits[0]!.pieces.map((p) => p.pieceCid)).toEqual(plan.pieces.map((p) => p.pieceCid));
    expect(third.replica.details.copies).toEqual([expect.objectContaining({ providerId: "1", dataSetId: log1.commits[0]!.dataSetId, pieceCids: plan.pieces.map((p) => p.pieceCid) })]);
    for (const c of (third.replica.details.copies as unknown as Copy[])) {
      for (const pieceId of c.pieceIds) await filecoinWatch(env).unwatch(`foc-resume|${third.replica.remoteId}|${c.dataSetId}/${pieceId}`, "test cleanup");
      expect(c.pieceIds).toHaveLength(plan.pieces.length);
    }
  }, 90_000);
});
