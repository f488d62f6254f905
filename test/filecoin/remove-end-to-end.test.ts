import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, inject, it } from "vitest";
import { filecoinWatch } from "../../src/cron/filecoin-watch";
import { registryStub, type PinRegistry } from "../../src/durable-objects/pin-registry";
import { PIECE_BEING_DELETED, type FilecoinWatch } from "../../src/durable-objects/filecoin-watch";
import type { Json } from "../../src/backends/replication-backend";
import { syntheticDag } from "../../bench/replication-dag";
import { rejectionOf } from "../backends/server-control";
import { create as createFilecoinBackend } from "../../src/backends/filecoin/filecoin-backend";
import type { ProviderLog } from "../servers/pdp-provider-server";
import { call, newAccount } from "../pinning/helpers";
import { makeDue, pinInR2, replicaOf, rootStatus, runUntil } from "../replication/helpers";
import { FOC_PAYER, FOC_SESSION_KEY, FOC_SESSION_KEY_ADDRESS } from "./foc-test-keys";

/**
 * FilecoinBackend.remove() through the engine on unpin, against the local
 * chain (test/servers/filecoin-chain-server.ts + filecoin-storage-chain.ts)
 * and its two PDP providers (test/servers/pdp-provider-server.ts, which
 * play Curio's `DELETE /pdp/data-sets/{id}/pieces/{pieceId}` and apply
 * PDPVerifier `schedulePieceDeletions` to the chain). Backend `foc-remove`
 * (2 copies: vitest.config.ts); its data sets are shared with other files'
 * pins, so every assertion names this copy's data set and piece ids; the
 * two-account test uses `foc-share` (its own data sets: no piece id of
 * another file moves).
 */
const base = inject("filecoinBase");
const providers = inject("pdpProviders");

interface Copy { providerId: string; dataSetId: string; pieceIds: string[]; pieceCids: string[]; retrievalUrls: string[]; addedEpoch: string }

/** Of a copy's pieces, those whose deletion the chain recorded (PDPVerifier `getScheduledRemovals` of its data set). */
async function scheduledRemovals(copy: Copy): Promise<string[]> {
  const res = await fetch(`${base}/__scheduled-removals/${copy.dataSetId}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as string[]).filter((id) => copy.pieceIds.includes(id));
}

/** Deletions the local providers were asked for of these copies' pieces: provider, data set, piece, signer, result. */
async function deletionsOf(copies: Copy[]): Promise<Array<[string, string, string, string | null, string]>> {
  const out: Array<[string, string, string, string | null, string]> = [];
  for (const p of providers) {
    const log = (await (await fetch(`${p.base}/__log`)).json()) as ProviderLog;
    for (const d of log.deletions) {
      if (copies.some((c) => c.dataSetId === d.dataSetId && c.pieceIds.includes(d.pieceId))) out.push([p.id, d.dataSetId, d.pieceId, d.signer?.toLowerCase() ?? null, d.result]);
    }
  }
  return out;
}

/** A new account's pin replicated to foc-remove and stored on both providers. */
async function storedPin(name: string, seed: number, backend = "foc-remove"): Promise<{ a: { token: string; account: string }; cid: string; requestid: string; remoteId: string; copies: Copy[] }> {
  const a = await newAccount(name);
  const { root, requestid } = await pinInR2(a.token, a.account, seed, { tier: backend }, 3300);
  const cid = root.toString();
  await runUntil(a.account, async () => replicaOf(await rootStatus(a.token, cid), backend).state === "stored", 60_000);
  const replica = replicaOf(await rootStatus(a.token, cid), backend);
  const copies = replica.details.copies as unknown as Copy[];
  expect(copies.map((c) => c.providerId)).toEqual(["1", "2"]);
  return { a, cid, requestid, remoteId: replica.remoteId!, copies };
}

/** Unpins, lets the grace period pass, runs the engine until the root is gone from the account. */
async function unpinAndRemove(a: { token: string; account: string }, cid: string, requestid: string, backend = "foc-remove"): Promise<void> {
  expect((await call("DELETE", `/psa/pins/${requestid}`, { token: a.token })).status).toBe(202);
  expect(replicaOf(await rootStatus(a.token, cid), backend).state).toBe("removing");
  for (const b of [backend, "r2"]) await makeDue(a.account, b);
  await runUntil(a.account, async () => (await call("GET", `/api/v1/pins/${cid}`, { token: a.token })).status === 404, 30_000);
}

const session = FOC_SESSION_KEY_ADDRESS.toLowerCase();

/** Each of these copies' pieces was deleted exactly once (asked of its provider, signed by the session key, scheduled on chain), and the watch has no row of the root left. */
async function expectDeletedOnce(copies: Copy[], cid: string): Promise<void> {
  expect(await deletionsOf(copies)).toEqual(copies.map((c) => [c.providerId, c.dataSetId, c.pieceIds[0]!, session, "scheduled"]));
  for (const c of copies) expect(await scheduledRemovals(c)).toEqual(c.pieceIds);
  expect(await filecoinWatch(env).copies(cid)).toEqual([]);
}

describe("FilecoinBackend.remove() on unpin (engine, local chain and PDP providers)", () => {
  it("after the grace period the engine deletes exactly the copy's pieces: one request per provider for its own data set's piece, signed by the session key; the chain schedules them; the watch lets them go; remove() again asks nothing", async () => {
    const { a, cid, requestid, remoteId, copies } = await storedPin("foc-unpin", 2301);
    const piece = copies[0]!.pieceCids[0]!;
    expect(remoteId).toBe(`${piece}@${copies.map((c) => `${c.dataSetId}:${c.pieceIds.join(",")}`).join("+")}`);
    const watchIds = copies.map((c) => `foc-remove|${remoteId}|${c.dataSetId}/${c.pieceIds[0]}`);
    expect((await filecoinWatch(env).copies(cid)).map((w) => w.id).sort()).toEqual([...watchIds].sort());

    // Unpinned: nothing is deleted during the grace period, then exactly these pieces.
    expect((await call("DELETE", `/psa/pins/${requestid}`, { token: a.token })).status).toBe(202);
    expect(await deletionsOf(copies)).toEqual([]);
    for (const b of ["foc-remove", "r2"]) await makeDue(a.account, b);
    await runUntil(a.account, async () => (await call("GET", `/api/v1/pins/${cid}`, { token: a.token })).status === 404, 30_000);
    const asked = copies.map((c) => [c.providerId, c.dataSetId, c.pieceIds[0]!, session, "scheduled"]);
    expect(await deletionsOf(copies)).toEqual(asked);
    for (const c of copies) expect(await scheduledRemovals(c)).toEqual(c.pieceIds);
    expect(await filecoinWatch(env).copies(cid)).toEqual([]);
    for (const id of watchIds) {
      expect((await filecoinWatch(env).actions(id)).map((x) => [x.kind, x.reason, x.result]).slice(-1)).toEqual([["unwatch", "removal requested by the engine", "removed"]]);
    }
    // The engine's record of the root is gone with it.
    const rows = await runInDurableObject(registryStub(env, a.account), (_i: PinRegistry, state) =>
      state.storage.sql.exec("SELECT backend FROM replicas WHERE root = ?", cid).toArray(),
    );
    expect(rows).toEqual([]);

    // Idempotent: remove() again (an answer lost, a retry) finds the pieces scheduled for removal and asks nothing.
    const backend = await createFilecoinBackend({
      name: "foc-remove", env, secret: (f) => ({ SESSION_KEY: FOC_SESSION_KEY, PAYER: FOC_PAYER })[f],
      settings: { type: "filecoin", chain: "calibration", rpcUrl: base + "/rpc", copies: 2, rpcTimeoutMs: 5000, source: "remove" },
    });
    await backend.remove({ backend: "foc-remove", remoteId, details: { copies: copies as never } });
    // A record with no details: the remote id alone names the pieces; still nothing more to ask.
    await backend.remove({ backend: "foc-remove", remoteId, details: {} });
    expect(await deletionsOf(copies)).toEqual(asked);
  }, 120_000);

  it("a record stored before remote ids named copies (remote id = the piece CID, watched under it) is removed the same way", async () => {
    const { a, cid, requestid, remoteId, copies } = await storedPin("foc-unpin-old", 2302);
    const piece = copies[0]!.pieceCids[0]!;
    // What an older version left: the replica's remote id is the first piece CID, and the watch's rows carry it.
    await runInDurableObject(registryStub(env, a.account), (_i: PinRegistry, state) => {
      state.storage.sql.exec("UPDATE replicas SET remote_id = ? WHERE root = ? AND backend = 'foc-remove'", piece, cid);
    });
    const watched = await filecoinWatch(env).copies(cid);
    expect(watched).toHaveLength(2);
    for (const w of watched) {
      await filecoinWatch(env).unwatch(w.id, "test: re-keyed as an older version did");
      await filecoinWatch(env).watch({ ...w, account: w.account, remoteId: piece });
    }
    const oldIds = copies.map((c) => `foc-remove|${piece}|${c.dataSetId}/${c.pieceIds[0]}`);
    expect((await filecoinWatch(env).copies(cid)).map((w) => w.id).sort()).toEqual([...oldIds].sort());
    expect(replicaOf(await rootStatus(a.token, cid), "foc-remove").remoteId).toBe(piece);
    expect(remoteId).not.toBe(piece);

    await unpinAndRemove(a, cid, requestid);
    await expectDeletedOnce(copies, cid);
  }, 120_000);

  it("two accounts pinning the same root share its pieces and watch rows: the first unpin deletes nothing and keeps the rows (reported to the other account), the last one deletes exactly those pieces once and drops the rows", async () => {
    const first = await storedPin("foc-share-a", 2303, "foc-share");
    const second = await storedPin("foc-share-b", 2303, "foc-share");
    // The same DAG on the same backend: the same data sets, piece ids and remote id (the SDK finds the pieces committed).
    expect(second.cid).toBe(first.cid);
    expect(second.remoteId).toBe(first.remoteId);
    expect(second.copies.map((c) => [c.providerId, c.dataSetId, c.pieceIds])).toEqual(first.copies.map((c) => [c.providerId, c.dataSetId, c.pieceIds]));
    const { cid, remoteId, copies } = first;
    const watchIds = copies.map((c) => `foc-share|${remoteId}|${c.dataSetId}/${c.pieceIds[0]}`).sort();
    const rows = async () => (await filecoinWatch(env).copies(cid)).map((w) => [w.id, w.account, w.state]).sort();
    // One row per piece, reported to the account that registered last.
    expect(await rows()).toEqual(watchIds.map((id) => [id, second.a.account, "stored"]));
    const backend = await createFilecoinBackend({
      name: "foc-share", env, secret: (f) => ({ SESSION_KEY: FOC_SESSION_KEY, PAYER: FOC_PAYER })[f],
      settings: { type: "filecoin", chain: "calibration", rpcUrl: base + "/rpc", copies: 2, rpcTimeoutMs: 5000, source: "share" },
    });
    // A record that does not say whose it is (stored before details.account) removes nothing of a row two accounts own.
    const { account: _account, ...unowned } = replicaOf(await rootStatus(first.a.token, cid), "foc-share").details;
    await backend.remove({ backend: "foc-share", remoteId, details: unowned });
    expect(await deletionsOf(copies)).toEqual([]);
    expect(await rows()).toEqual(watchIds.map((id) => [id, second.a.account, "stored"]));

    // The second account unpins: nothing deleted, rows kept and now reported to the first account, whose copy is stored.
    await unpinAndRemove(second.a, cid, second.requestid, "foc-share");
    expect(await deletionsOf(copies)).toEqual([]);
    for (const c of copies) expect(await scheduledRemovals(c)).toEqual([]);
    expect(await rows()).toEqual(watchIds.map((id) => [id, first.a.account, "stored"]));
    for (const id of watchIds) {
      expect((await filecoinWatch(env).actions(id)).map((x) => [x.kind, x.reason, x.result]).slice(-1)).toEqual([
        ["release", "removal requested by the engine", `account ${second.a.account} released it; still held by ${first.a.account}`],
      ]);
    }
    const kept = replicaOf(await rootStatus(first.a.token, cid), "foc-share");
    expect([kept.state, kept.remoteId]).toEqual(["stored", remoteId]);

    // The first (last) account unpins: exactly these pieces, once, and the rows go.
    await unpinAndRemove(first.a, cid, first.requestid, "foc-share");
    await expectDeletedOnce(copies, cid);
    for (const id of watchIds) {
      expect((await filecoinWatch(env).actions(id)).map((x) => [x.kind, x.reason, x.result]).slice(-1)).toEqual([["unwatch", "removal requested by the engine", "removed"]]);
    }
  }, 180_000);

  it("a copy two accounts shared before the owners table (one back-filled owner, records without details.account): the recorded owner's unpin asks the engines, finds the other account and deletes nothing; the other's unpin then deletes exactly those pieces once", async () => {
    const first = await storedPin("foc-legacy-a", 2304, "foc-share");
    const second = await storedPin("foc-legacy-b", 2304, "foc-share");
    expect(second.remoteId).toBe(first.remoteId);
    const { cid, remoteId, copies } = first;
    const watchIds = copies.map((c) => `foc-share|${remoteId}|${c.dataSetId}/${c.pieceIds[0]}`).sort();
    // What an older version left: migration 3 back-filled the one copies.account (the last registrant, `second`) as the
    // only owner, not known (the owners migration); neither replica record says whose it is.
    const watchStub = env.FILECOIN_WATCH.get(env.FILECOIN_WATCH.idFromName("filecoin-watch"));
    await runInDurableObject(watchStub, (_w: FilecoinWatch, state) => {
      for (const id of watchIds) {
        state.storage.sql.exec("DELETE FROM copy_owners WHERE copy_id = ?", id);
        state.storage.sql.exec("INSERT INTO copy_owners (copy_id, account, known, reported) VALUES (?, ?, 0, 'stored')", id, second.a.account);
      }
    });
    for (const acct of [first.a.account, second.a.account]) {
      await runInDurableObject(registryStub(env, acct), (_i: PinRegistry, state) => {
        state.storage.sql.exec("UPDATE replicas SET details = json_remove(details, '$.account') WHERE root = ? AND backend = 'foc-share'", cid);
      });
    }
    expect("account" in replicaOf(await rootStatus(second.a.token, cid), "foc-share").details).toBe(false);
    const owners = () => runInDurableObject(watchStub, (_w: FilecoinWatch, state) =>
      state.storage.sql.exec<{ copy_id: string; account: string; known: number }>("SELECT copy_id, account, known FROM copy_owners WHERE copy_id IN (?, ?) ORDER BY copy_id", watchIds[0]!, watchIds[1]!).toArray().map((r) => [r.copy_id, r.account, r.known]));

    // The recorded owner unpins (before this change its removal deleted the pieces): the engines are asked, `first` holds them.
    await unpinAndRemove(second.a, cid, second.requestid, "foc-share");
    expect(await deletionsOf(copies)).toEqual([]);
    for (const c of copies) expect(await scheduledRemovals(c)).toEqual([]);
    expect(await owners()).toEqual(watchIds.map((id) => [id, first.a.account, 0]));
    for (const id of watchIds) {
      expect((await filecoinWatch(env).actions(id)).map((x) => [x.kind, x.result]).slice(-1)).toEqual([
        ["release", `an account stored before details.account released it; still held by ${first.a.account}`],
      ]);
    }
    expect(replicaOf(await rootStatus(first.a.token, cid), "foc-share").state).toBe("stored");

    // The other unpins: nobody holds them now: each piece deleted once, the rows gone.
    await unpinAndRemove(first.a, cid, first.requestid, "foc-share");
    await expectDeletedOnce(copies, cid);
  }, 180_000);

  it("a new owner arriving while the last owner's deletion is on its way (decided, provider not yet answered) does not keep the doomed piece ids: its store commits the pieces again under new ids, nothing of its copy is deleted", async () => {
    const first = await storedPin("foc-race-a", 2305, "foc-share");
    const { cid, remoteId, copies } = first;
    // Each provider holds the deletions of its data set until the test lets them go.
    const hold = (path: string) => Promise.all(copies.map(async (c) => {
      const p = providers.find((x) => x.id === c.providerId)!;
      expect((await fetch(`${p.base}/${path}`, { method: "POST", body: JSON.stringify({ dataSetId: c.dataSetId }) })).status).toBe(204);
    }));
    await hold("__hold-deletions");
    let second: Awaited<ReturnType<typeof storedPin>>;
    try {
      // The only owner unpins; its removal decides (the watch claims the pieces) and sends the deletions, held.
      expect((await call("DELETE", `/psa/pins/${first.requestid}`, { token: first.a.token })).status).toBe(202);
      for (const b of ["foc-share", "r2"]) await makeDue(first.a.account, b);
      // Pieces go one after the other: the first provider's deletion is held, the second not yet sent.
      const held = [[copies[0]!.providerId, copies[0]!.dataSetId, copies[0]!.pieceIds[0]!, null, "held"]];
      await runUntil(first.a.account, async () => JSON.stringify(await deletionsOf(copies)) === JSON.stringify(held), 20_000);
      expect(await filecoinWatch(env).deletingPieces(copies[0]!.dataSetId)).toContain(copies[0]!.pieceIds[0]!);

      // Meanwhile another account pins the same root on the same backend: its store finds the pieces on chain but
      // they are being deleted, so it commits them again (new piece ids in the same data sets).
      second = await storedPin("foc-race-b", 2305, "foc-share");
      expect(second.cid).toBe(cid);
      expect(second.copies.map((c) => c.dataSetId)).toEqual(copies.map((c) => c.dataSetId));
      for (const [i, c] of second.copies.entries()) expect(c.pieceIds[0]).not.toBe(copies[i]!.pieceIds[0]);
      expect(second.remoteId).not.toBe(remoteId);
      expect((await filecoinWatch(env).copies(cid)).filter((w) => w.remoteId === second.remoteId).map((w) => [w.account, w.state])).toEqual([[second.a.account, "stored"], [second.a.account, "stored"]]);
    } finally {
      await hold("__release-deletions");
    }
    // The deletions go on: exactly the old pieces, once; the old rows leave the watch; the new copy is untouched.
    await runUntil(first.a.account, async () => (await call("GET", `/api/v1/pins/${cid}`, { token: first.a.token })).status === 404, 30_000);
    expect(await deletionsOf(copies)).toEqual(copies.map((c) => [c.providerId, c.dataSetId, c.pieceIds[0]!, session, "scheduled"]));
    const now = replicaOf(await rootStatus(second.a.token, cid), "foc-share");
    const newCopies = now.details.copies as unknown as Copy[];
    expect(await deletionsOf(newCopies)).toEqual([]);
    for (const c of newCopies) expect(await scheduledRemovals(c)).toEqual([]);
    const rows = (await filecoinWatch(env).copies(cid)).map((w) => [w.remoteId, w.state]);
    expect(rows).toEqual([[now.remoteId, "stored"], [now.remoteId, "stored"]]);
    expect(now.state).toBe("stored");
  }, 180_000);

  it("a store that found the pieces committed before the last owner's removal decided, and registers them after: the watch refuses the doomed piece ids, the store drops its commits and commits the pieces again; nothing of the new copy is deleted", async () => {
    // Direct backend calls (as the engine's alarm makes them), so B's store can stop between its commits and its registration.
    const backend = () => createFilecoinBackend({
      name: "foc-share", env, secret: (f) => ({ SESSION_KEY: FOC_SESSION_KEY, PAYER: FOC_PAYER })[f],
      settings: { type: "filecoin", chain: "calibration", rpcUrl: base + "/rpc", copies: 2, rpcTimeoutMs: 5000, source: "share" },
    });
    const dag = await syntheticDag(4, 1900);
    const cid = dag.root.toString();
    const a = await (await backend()).store({ ...dag, account: "acct-late-a" }, { checkpoint: async () => undefined, deadline: Date.now() + 60_000 });
    expect(a.state).toBe("stored");
    const aRef = (a as { replica: { backend: string; remoteId: string; details: Record<string, unknown> } }).replica;
    const aCopies = aRef.details.copies as unknown as Copy[];
    expect(aCopies.map((c) => c.providerId)).toEqual(["1", "2"]);

    // B stores the same DAG; its step runs out of time once provider 1's commit is recorded: it found A's piece there.
    let progress: Json | undefined;
    const checkpoint = async (p: Json) => void (progress = structuredClone(p));
    const commits = () => (progress as { commits?: Record<string, { dataSetId: string; pieceIds: string[] }> } | undefined)?.commits;
    const b1 = await (await backend()).store({ ...dag, account: "acct-late-b" }, { checkpoint, get deadline() { return Object.keys(commits() ?? {}).length >= 1 ? 0 : Date.now() + 60_000; } });
    expect(b1).toMatchObject({ state: "pending", next: "store" });
    expect(commits()).toEqual({ "1": { dataSetId: aCopies[0]!.dataSetId, pieceIds: aCopies[0]!.pieceIds, epoch: expect.any(String) } });

    // A, the only owner, removes its copy: both pieces deleted, its rows gone.
    await (await backend()).remove(aRef as never);
    const aDeleted = aCopies.map((c) => [c.providerId, c.dataSetId, c.pieceIds[0]!, session, "scheduled"]);
    expect(await deletionsOf(aCopies)).toEqual(aDeleted);
    expect(await filecoinWatch(env).copies(cid)).toEqual([]);

    // B resumes: provider 2's piece is scheduled for removal, so it commits it again; then the watch refuses provider
    // 1's recorded piece id (deleted): nothing registered, the commits dropped, a retryable error.
    const b2 = await rejectionOf((await backend()).store({ ...dag, account: "acct-late-b" }, { progress: progress!, checkpoint, deadline: Date.now() + 60_000 }));
    expect(b2.kind).toBe("retryable");
    expect(b2.message).toBe(`${PIECE_BEING_DELETED}: piece ${aCopies[0]!.pieceIds[0]} of data set ${aCopies[0]!.dataSetId} (its last owner removed it); store it again; the pieces are committed again on the next attempt`);
    expect(commits()).toBeUndefined();
    expect(await filecoinWatch(env).copies(cid)).toEqual([]);

    // The next attempt commits provider 1's piece again (a new id) and keeps provider 2's new one (found on chain).
    const b3 = await (await backend()).store({ ...dag, account: "acct-late-b" }, { progress: progress!, checkpoint, deadline: Date.now() + 60_000 });
    expect(b3.state).toBe("stored");
    const bRef = (b3 as { replica: { remoteId: string; details: Record<string, unknown> } }).replica;
    const bCopies = bRef.details.copies as unknown as Copy[];
    expect(bCopies.map((c) => c.dataSetId)).toEqual(aCopies.map((c) => c.dataSetId));
    for (const [i, c] of bCopies.entries()) expect(BigInt(c.pieceIds[0]!)).toBeGreaterThan(BigInt(aCopies[i]!.pieceIds[0]!));
    for (const c of bCopies) expect(await scheduledRemovals(c)).toEqual([]);
    expect(await deletionsOf(bCopies)).toEqual([]);
    expect(await deletionsOf(aCopies)).toEqual(aDeleted);
    expect((await filecoinWatch(env).copies(cid)).map((w) => [w.remoteId, w.account, w.state])).toEqual([[bRef.remoteId, "acct-late-b", "stored"], [bRef.remoteId, "acct-late-b", "stored"]]);
    await (await backend()).remove(bRef as never);
  }, 120_000);

  it("a removal that leaves a data set without a piece that stays logs it for the operator (not deleted: ending one is the payer's terminateService transaction); one that leaves a piece logs nothing", async () => {
    // Its own data set: a data set namespace (`source`) no other test uses, one copy.
    const backend = () => createFilecoinBackend({
      name: "foc-emptied", env, secret: (f) => ({ SESSION_KEY: FOC_SESSION_KEY, PAYER: FOC_PAYER })[f],
      settings: { type: "filecoin", chain: "calibration", rpcUrl: base + "/rpc", copies: 1, rpcTimeoutMs: 5000, source: "emptied" },
    });
    const stored = async (leafSize: number) => {
      const out = await (await backend()).store({ ...(await syntheticDag(3, leafSize)), account: "acct-emptied" }, { checkpoint: async () => undefined, deadline: Date.now() + 60_000 });
      expect(out.state).toBe("stored");
      return (out as { replica: { backend: string; remoteId: string; details: Record<string, unknown> } }).replica;
    };
    const x = await stored(1800);
    const y = await stored(1850);
    const [cx] = x.details.copies as unknown as Copy[];
    const [cy] = y.details.copies as unknown as Copy[];
    // The SDK reuses the payer's data set of that namespace: both DAGs in one data set.
    expect(cy!.dataSetId).toBe(cx!.dataSetId);
    const notes = async () => (await filecoinWatch(env).actions()).filter((a) => a.kind === "data set" && a.reason.startsWith(`data set ${cx!.dataSetId} `)).map((a) => [a.copyId, a.reason, a.result]);

    await (await backend()).remove(x as never);
    expect(await deletionsOf([cx!])).toEqual([[cx!.providerId, cx!.dataSetId, cx!.pieceIds[0]!, session, "scheduled"]]);
    expect(await notes()).toEqual([]);

    await (await backend()).remove(y as never);
    expect(await deletionsOf([cy!])).toEqual([[cy!.providerId, cy!.dataSetId, cy!.pieceIds[0]!, session, "scheduled"]]);
    expect(await notes()).toEqual([[
      null,
      `data set ${cx!.dataSetId} of provider ${cx!.providerId} (foc-emptied) has no piece left after this removal`,
      "not deleted: ending it takes FWSS terminateService from the payer's wallet; a later store reuses it",
    ]]);
    // The data set itself is untouched: still live (nothing asked of the provider or chain beyond the two piece deletions).
    expect(await scheduledRemovals({ ...cx!, pieceIds: [cx!.pieceIds[0]!, cy!.pieceIds[0]!] })).toEqual([cx!.pieceIds[0]!, cy!.pieceIds[0]!]);
  }, 120_000);
});
