import { env } from "cloudflare:workers";
import { createExecutionContext, createScheduledController, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, inject, it } from "vitest";
import { filecoinWatch, FILECOIN_WATCH_CRON } from "../../src/cron/filecoin-watch";
import { registryStub, type PinRegistry } from "../../src/durable-objects/pin-registry";
import { pieceCidOfStream } from "../../src/backends/filecoin/piece-cid";
import type { RootStatusWithFilecoin } from "../../src/replication/filecoin-status";
import worker from "../../src/worker";
import { call, newAccount, pinJson } from "../pinning/helpers";
import { makeDue, pinInR2, replicaOf, rootStatus, runUntil } from "../replication/helpers";
import type { ProviderLog } from "../servers/pdp-provider-server";
import { FOC_SESSION_KEY_ADDRESS } from "./foc-test-keys";

/**
 * Issue 10's repair, end to end with nothing written by hand: a pin
 * replicated to `foc-repair` (2 copies, its own data sets: vitest.config.ts)
 * is stored by FilecoinBackend.store() on the local chain's two PDP
 * providers (test/servers/filecoin-chain-server.ts, filecoin-storage-chain.ts,
 * pdp-provider-server.ts: as test/filecoin/store-end-to-end.test.ts); the
 * chain then terminates one copy's data set (FWSS `pdpEndEpoch`, set through
 * the chain server's `POST /__terminate`); the watch's cron (as
 * test/filecoin/watch-engine.test.ts) reports it to the account's
 * PinRegistry, whose engine stores a new copy for real.
 */
const base = inject("filecoinBase");
const providers = inject("pdpProviders");
const HEAD = 1_000_000;

interface Copy { providerId: string; dataSetId: string; pieceIds: string[]; pieceCids: string[]; retrievalUrls: string[]; addedEpoch: string }
async function copiesOf(token: string, cid: string): Promise<Copy[]> {
  return replicaOf(await rootStatus(token, cid), "foc-repair").details.copies as unknown as Copy[];
}
async function cron(scheduledTime: number): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron: FILECOIN_WATCH_CRON, scheduledTime }), env, ctx);
  await waitOnExecutionContext(ctx);
}
/** What FWSS `terminateService` leaves on chain: the data set's `pdpEndEpoch` set (filecoin-storage-chain.ts `terminate`). */
async function terminate(dataSetId: string, pdpEndEpoch: number): Promise<void> {
  const res = await fetch(`${base}/__terminate`, { method: "POST", body: JSON.stringify({ dataSetId, pdpEndEpoch: String(pdpEndEpoch) }) });
  expect(res.status).toBe(204);
}

/** PDPVerifier's proving state of a local provider's data set (filecoin-storage-chain.ts `setProving`). */
async function proving(dataSetId: string, lastProvenEpoch: number, nextChallengeEpoch: number): Promise<void> {
  const res = await fetch(`${base}/__proving`, { method: "POST", body: JSON.stringify({ dataSetId, lastProvenEpoch: String(lastProvenEpoch), nextChallengeEpoch: String(nextChallengeEpoch) }) });
  expect(res.status).toBe(204);
}

type Account = { token: string; account: string };

/** The remote id FilecoinBackend gives a replica: first piece CID, then each copy's data set and piece ids. */
function remoteIdOf(piece: string, copies: Copy[]): string {
  return `${piece}@${copies.map((c) => `${c.dataSetId}:${c.pieceIds.join(",")}`).join("+")}`;
}

/**
 * Of a copy's pieces, those whose deletion the chain recorded in its data set (PDPVerifier `getScheduledRemovals`).
 * Only this copy's piece ids: other test files' pins may share the backend's data sets.
 */
async function scheduledRemovals(copy: Copy): Promise<string[]> {
  const res = await fetch(`${base}/__scheduled-removals/${copy.dataSetId}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as string[]).filter((id) => copy.pieceIds.includes(id));
}

/** Deletions the local providers were asked for (Curio `DELETE /pdp/data-sets/{id}/pieces/{pieceId}`) of these copies' pieces. */
async function deletionsOf(copies: Copy[]): Promise<Array<{ provider: string; dataSetId: string; pieceId: string; result: string }>> {
  const out: Array<{ provider: string; dataSetId: string; pieceId: string; result: string }> = [];
  const ours = (d: { dataSetId: string; pieceId: string }) => copies.some((c) => c.dataSetId === d.dataSetId && c.pieceIds.includes(d.pieceId));
  for (const p of providers) {
    const log = (await (await fetch(`${p.base}/__log`)).json()) as ProviderLog;
    for (const d of log.deletions) if (ours(d)) out.push({ provider: p.id, dataSetId: d.dataSetId, pieceId: d.pieceId, result: d.result });
  }
  return out;
}

/**
 * A new account's pin (`seed`) replicated to foc-repair and stored: two
 * copies, provider 1 (the endorsed primary) first, provider 2 second.
 */
async function storedOnTwoProviders(name: string, seed: number): Promise<{ a: Account; cid: string; requestid: string; old1: Copy; kept2: Copy; piece: string }> {
  const a = await newAccount(name);
  const { root, requestid } = await pinInR2(a.token, a.account, seed, { tier: "foc-repair" }, 3100);
  const cid = root.toString();
  await runUntil(a.account, async () => replicaOf(await rootStatus(a.token, cid), "foc-repair").state === "stored", 60_000);
  const before = await copiesOf(a.token, cid);
  expect(before.map((c) => c.providerId)).toEqual(["1", "2"]);
  const [old1, kept2] = before as [Copy, Copy];
  return { a, cid, requestid, old1, kept2, piece: old1.pieceCids[0]! };
}

/**
 * Runs the account's engine until the replica, reported at risk, is stored again and the engine went on to
 * remove the old replica (the same step: a status read while its deletions are in flight would see it stored).
 */
async function untilStoredAgain(a: Account, cid: string): Promise<void> {
  await runUntil(a.account, async () => {
    const r = replicaOf(await rootStatus(a.token, cid), "foc-repair");
    return r.state === "stored" && r.log.some((l) => l.action === "at_risk") && r.log.some((l) => l.action.includes("old copy"));
  }, 60_000);
}

/**
 * The repaired copies: provider 1 again (the only endorsed provider, and 2 copies on 2 providers: it cannot be
 * avoided) but in a NEW data set, not the failing one; provider 2's copy is kept as it was. The new copy's
 * provider serves the piece: its bytes hash to the piece CID. Returns the copies, the new one first.
 */
async function expectNewCopy(a: Account, cid: string, old1: Copy, kept2: Copy, piece: string): Promise<{ after: Copy[]; new1: Copy }> {
  const after = await copiesOf(a.token, cid);
  expect(after.map((c) => c.providerId)).toEqual(["1", "2"]);
  const new1 = after[0]!;
  expect(new1.dataSetId).not.toBe(old1.dataSetId);
  expect(Number(new1.dataSetId)).toBeGreaterThan(Number(old1.dataSetId));
  expect(new1).toEqual({ providerId: "1", dataSetId: new1.dataSetId, pieceIds: ["0"], pieceCids: [piece], retrievalUrls: [`${providers[0]!.base}/piece/${piece}`], addedEpoch: String(HEAD) });
  expect(after[1]).toEqual(kept2);
  const served = await fetch(new1.retrievalUrls[0]!);
  expect(served.status).toBe(200);
  expect((await pieceCidOfStream(served.body!)).pieceCid.toString()).toBe(piece);
  return { after, new1 };
}

/**
 * The watch once the new copy is registered and the old replica removed: the new replica's two copies watched
 * (under its new remote id); the failing old copy, reported (`lost` or `at_risk`) with `reason`, dropped when the
 * new one was registered (after it was committed); the old replica's kept copy unwatched by its removal.
 */
async function expectWatchMoved(
  a: Account, cid: string, ids: { oldId: string; oldKeptId: string; newId: string; newKeptId: string }, reason: string, reported: "lost" | "at_risk",
): Promise<void> {
  expect((await filecoinWatch(env).copies(cid)).map((w) => [w.id, w.state, w.account]).sort()).toEqual([
    [ids.newId, "stored", a.account],
    [ids.newKeptId, "stored", a.account],
  ].sort());
  expect((await filecoinWatch(env).actions(ids.oldId)).map((x) => [x.kind, x.reason, x.result])).toEqual([
    ["renew", reason, `reported ${reported}: the engine makes a new copy; this one stays watched until it exists`],
    ["drop", `replaced by new copy ${ids.newId} (old copy was ${reported})`, "dropped from the watch"],
  ]);
  expect((await filecoinWatch(env).actions(ids.oldKeptId)).map((x) => [x.kind, x.reason, x.result]).slice(-1)).toEqual([
    ["unwatch", "removal requested by the engine", "removed"],
  ]);
}

describe("Filecoin repair end to end (backend foc-repair, local chain and PDP providers, the watch's cron)", () => {
  it("a terminated data set: the copy is reported lost, the engine stores a new copy in a new data set, the replica ends stored with it; the old copy leaves the record and the watch only once the new one exists; every step logged", async () => {
    // 1. Stored: two copies (provider 1, the endorsed primary, and provider 2), both watched.
    const { a, cid, requestid, old1, kept2, piece } = await storedOnTwoProviders("foc-repair", 2201);
    // The remote id names this replica's copies (data set and piece ids), not only the piece CID every copy shares.
    const remoteId = replicaOf(await rootStatus(a.token, cid), "foc-repair").remoteId;
    expect(remoteId).toBe(`${piece}@${old1.dataSetId}:0+${kept2.dataSetId}:0`);
    const oldId = `foc-repair|${remoteId}|${old1.dataSetId}/0`;
    const keptId = `foc-repair|${remoteId}|${kept2.dataSetId}/0`;
    expect((await filecoinWatch(env).copies(cid)).map((w) => [w.id, w.state, w.account, w.providerId])).toEqual([
      [oldId, "stored", a.account, "1"],
      [keptId, "stored", a.account, "2"],
    ]);

    // 2. The chain terminates provider 1's data set; the watch's cron sees it.
    await terminate(old1.dataSetId, HEAD + 40);
    const now = Date.now() + 1000;
    await cron(now);
    const reason = `data set ${old1.dataSetId} terminated (pdpEndEpoch ${HEAD + 40})`;
    const oldActions = await filecoinWatch(env).actions(oldId);
    expect(oldActions.slice(0, 1).map((x) => [x.at, x.kind, x.reason, x.result])).toEqual([
      [now, "renew", reason, "reported lost: the engine makes a new copy; this one stays watched until it exists"],
    ]);
    // The other copy is still held: checked and its bytes fetched back.
    expect((await filecoinWatch(env).actions(keptId)).map((x) => [x.at, x.kind, x.reason, x.result])).toEqual([[now, "verify", "fetch-back sample", "piece CID matches"]]);

    // 3. The account's engine: at risk (one of two copies lost), a new store, stored again.
    const lostMessage = `copy ${oldId} lost (${reason}); 1 other copies remain`;
    await untilStoredAgain(a, cid);
    const status = await rootStatus(a.token, cid);
    const replica = replicaOf(status, "foc-repair");
    expect(status.aggregate).toBe("stored");
    const newRemoteId = remoteIdOf(piece, await copiesOf(a.token, cid));
    expect(newRemoteId).not.toBe(remoteId);
    expect(replica).toMatchObject({ state: "stored", remoteId: newRemoteId, lastError: null });
    const carBytes = replica.bytes;
    expect(replica.log.map((l) => [l.action, l.message])).toEqual([
      ["planned", "policy rules[9]"],
      ["store", "attempt 1"],
      ["stored", `${carBytes} bytes as ${remoteId}`],
      ["at_risk", lostMessage],
      ["store", "attempt 1"],
      ["stored", `${carBytes} bytes as ${newRemoteId}`],
      ["removed old copy", remoteId],
    ]);
    // Time of every step: ISO dates, in the order they happened.
    const times = replica.log.map((l) => Date.parse(l.at));
    expect(times.every((t) => Number.isFinite(t))).toBe(true);
    expect([...times].sort((x, y) => x - y)).toEqual(times);

    // 4. The new copy: provider 1 again in a NEW data set, not the terminated one; provider 2's copy, still live,
    // is kept as it was; the new copy's provider serves the piece.
    const { after, new1 } = await expectNewCopy(a, cid, old1, kept2, piece);
    expect(newRemoteId).toBe(`${piece}@${new1.dataSetId}:0+${kept2.dataSetId}:${kept2.pieceIds[0]}`);
    // The old replica was removed once the new one was stored, and nothing was deleted on chain: the terminated
    // data set ends by itself (nothing more is paid; no deletion is asked), and provider 2's piece is the new
    // replica's too. No provider was asked, the chain scheduled no removal in any of the three data sets.
    expect(await deletionsOf([old1, kept2, new1])).toEqual([]);
    for (const c of [old1, kept2, new1]) expect(await scheduledRemovals(c)).toEqual([]);
    const rows = await runInDurableObject(registryStub(env, a.account), (_i: PinRegistry, state) =>
      state.storage.sql.exec<{ superseded: string; details: string }>("SELECT superseded, details FROM replicas WHERE root = ? AND backend = 'foc-repair'", cid).toArray(),
    );
    expect(rows.map((r) => r.superseded)).toEqual(["[]"]);
    expect(JSON.parse(rows[0]!.details).copies.map((c: Copy) => c.dataSetId)).toEqual([new1.dataSetId, kept2.dataSetId]);

    // 5. The watch: the new copy watched; the old one dropped when the new one was registered (after it was committed).
    const newId = `foc-repair|${newRemoteId}|${new1.dataSetId}/0`;
    const newKeptId = `foc-repair|${newRemoteId}|${kept2.dataSetId}/${kept2.pieceIds[0]}`;
    await expectWatchMoved(a, cid, { oldId, oldKeptId: keptId, newId, newKeptId }, reason, "lost");

    // 6. The status API shows the new copy (record and watch); the PSA pin summarises it.
    const res = await call("GET", `/api/v1/pins/${cid}`, { token: a.token });
    expect(res.status).toBe(200);
    const full = (await res.json()) as RootStatusWithFilecoin;
    const shown = full.replicas.find((r) => r.backend === "foc-repair")!;
    expect(shown.state).toBe("stored");
    expect((shown.details.copies as unknown as Copy[]).map((c) => [c.providerId, c.dataSetId])).toEqual([["1", new1.dataSetId], ["2", kept2.dataSetId]]);
    expect(shown.filecoin!.copies.map((c) => [c.provider, c.dataSet, c.pieceId, c.pieceCid, c.state]).sort()).toEqual([
      ["1", new1.dataSetId, "0", piece, "stored"],
      ["2", kept2.dataSetId, "0", piece, "stored"],
    ]);
    const psa = await pinJson(await call("GET", `/psa/pins/${requestid}`, { token: a.token }), 200);
    expect(psa.info.replicas).toBe("foc-repair=stored r2=stored");
    expect(psa.info["foc-repair.copies"]).toBe(after.map((c) => `provider ${c.providerId}: data set ${c.dataSetId}, piece 0 ${piece} ${c.retrievalUrls[0]}`).join("; "));

    // 7. The next cron checks the new copy on chain: live, not terminated, bytes fetched back; nothing reported.
    const later = Date.now() + 2000;
    await cron(later);
    expect((await filecoinWatch(env).actions(newId)).map((x) => [x.at, x.kind, x.reason, x.result])).toEqual([[later, "verify", "fetch-back sample", "piece CID matches"]]);
    expect((await filecoinWatch(env).copies(cid)).find((w) => w.id === newId)).toMatchObject({ state: "stored", proof: `not proven yet, next challenge ${HEAD + 2880}`, lastError: null });
    expect(replicaOf(await rootStatus(a.token, cid), "foc-repair").log).toHaveLength(7);

    for (const id of [newId, newKeptId]) await filecoinWatch(env).unwatch(id, "test cleanup");
  }, 150_000);

  it("proofs overdue (the data set still live): the copy is reported at_risk, the engine stores a new copy in a NEW data set (not the failing one, which the SDK would reuse), the replica ends stored; the old copy leaves the watch only once the new one is registered", async () => {
    const { a, cid, old1, kept2, piece } = await storedOnTwoProviders("foc-repair-proofs", 2202);
    const remoteId = remoteIdOf(piece, [old1, kept2]);
    const oldId = `foc-repair|${remoteId}|${old1.dataSetId}/${old1.pieceIds[0]}`;
    const keptId = `foc-repair|${remoteId}|${kept2.dataSetId}/${kept2.pieceIds[0]}`;

    // 1. Provider 1's data set misses its proofs: last proven more than two proving periods (2 × 2,880) back.
    const lastProven = HEAD - 2 * 2880 - 10;
    await proving(old1.dataSetId, lastProven, lastProven + 2880);
    const now = Date.now() + 1000;
    await cron(now);
    const reason = `proofs overdue for 2 proving periods (last proven at epoch ${lastProven}, next challenge ${lastProven + 2880})`;
    expect((await filecoinWatch(env).actions(oldId)).slice(0, 1).map((x) => [x.at, x.kind, x.reason, x.result])).toEqual([
      [now, "renew", reason, "reported at_risk: the engine makes a new copy; this one stays watched until it exists"],
    ]);

    // 2. The engine: at risk, a new store, stored again.
    await untilStoredAgain(a, cid);
    const replica = replicaOf(await rootStatus(a.token, cid), "foc-repair");
    const newRemoteId = remoteIdOf(piece, await copiesOf(a.token, cid));
    expect(replica).toMatchObject({ state: "stored", remoteId: newRemoteId, lastError: null });
    expect(replica.log.map((l) => [l.action, l.message])).toEqual([
      ["planned", "policy rules[9]"],
      ["store", "attempt 1"],
      ["stored", `${replica.bytes} bytes as ${remoteId}`],
      ["at_risk", reason],
      ["store", "attempt 1"],
      ["stored", `${replica.bytes} bytes as ${newRemoteId}`],
      ["removed old copy", remoteId],
    ]);

    // 3. Provider 1 again (the only endorsed provider: 2 copies on 2 providers cannot avoid it) but in a NEW data set,
    // not the failing one (still live, it holds the pieces: without DagToStore.avoid the SDK hands it back and nothing
    // is committed); provider 2's healthy copy is kept as it was.
    const { new1 } = await expectNewCopy(a, cid, old1, kept2, piece);
    expect(newRemoteId).toBe(`${piece}@${new1.dataSetId}:0+${kept2.dataSetId}:${kept2.pieceIds[0]}`);

    // 4. The old copy's data set stays live (and paid for) after overdue proofs: once the new copy was stored, the
    // engine removed the old replica. Provider 1 was asked, signed by our session key, to delete exactly the old
    // copy's piece in exactly the old data set, and the chain recorded that removal; provider 2's piece, which the
    // new replica keeps, and the new data set were left alone.
    expect(await deletionsOf([old1, kept2, new1])).toEqual([
      { provider: "1", dataSetId: old1.dataSetId, pieceId: old1.pieceIds[0]!, result: "scheduled" },
    ]);
    const signers = (await (await fetch(`${providers[0]!.base}/__log`)).json() as ProviderLog).deletions.filter((d) => d.dataSetId === old1.dataSetId).map((d) => d.signer?.toLowerCase());
    expect(signers).toEqual([FOC_SESSION_KEY_ADDRESS.toLowerCase()]);
    expect(await scheduledRemovals(old1)).toEqual([old1.pieceIds[0]]);
    expect(await scheduledRemovals(kept2)).toEqual([]);
    expect(await scheduledRemovals(new1)).toEqual([]);
    const superseded = await runInDurableObject(registryStub(env, a.account), (_i: PinRegistry, state) =>
      state.storage.sql.exec<{ superseded: string }>("SELECT superseded FROM replicas WHERE root = ? AND backend = 'foc-repair'", cid).one().superseded,
    );
    expect(superseded).toBe("[]");

    // 5. The watch: the new copy watched, the old one dropped when the new one was registered.
    const newId = `foc-repair|${newRemoteId}|${new1.dataSetId}/0`;
    const newKeptId = `foc-repair|${newRemoteId}|${kept2.dataSetId}/${kept2.pieceIds[0]}`;
    await expectWatchMoved(a, cid, { oldId, oldKeptId: keptId, newId, newKeptId }, reason, "at_risk");

    for (const id of [newId, newKeptId]) await filecoinWatch(env).unwatch(id, "test cleanup");
  }, 150_000);
  it("the old copy's deletion fails (the provider answers 503): the new copy is stored all the same, the old replica stays in `superseded` with a check due in 15 min; that check removes it, exactly once", async () => {
    const { a, cid, old1, kept2, piece } = await storedOnTwoProviders("foc-repair-retry", 2203);
    const remoteId = remoteIdOf(piece, [old1, kept2]);
    const pieceId = old1.pieceIds[0]!;
    // Provider 1 refuses the next deletion in the old data set (test/servers/pdp-provider-server.ts `/__refuse-deletions`).
    expect((await fetch(`${providers[0]!.base}/__refuse-deletions`, { method: "POST", body: JSON.stringify({ dataSetId: old1.dataSetId, count: 1 }) })).status).toBe(204);
    const lastProven = HEAD - 2 * 2880 - 10;
    await proving(old1.dataSetId, lastProven, lastProven + 2880);
    await cron(Date.now() + 1000);

    // 1. Stored again with the new copy; the removal failed, said so, and is kept for later.
    await untilStoredAgain(a, cid);
    const replica = replicaOf(await rootStatus(a.token, cid), "foc-repair");
    const newRemoteId = remoteIdOf(piece, await copiesOf(a.token, cid));
    expect(replica).toMatchObject({ state: "stored", remoteId: newRemoteId, lastError: null });
    const failed = replica.log.at(-1)!;
    expect(failed.action).toBe("remove old copy failed");
    expect(failed.message).toMatch(new RegExp(`^${remoteId.replace(/[+]/g, "\\+")}: .+; tried again at the next check$`));
    const row = () => runInDurableObject(registryStub(env, a.account), (_i: PinRegistry, state) => ({
      superseded: JSON.parse(state.storage.sql.exec<{ superseded: string }>("SELECT superseded FROM replicas WHERE root = ? AND backend = 'foc-repair'", cid).one().superseded) as Array<{ remoteId: string }>,
      due: state.storage.sql.exec<{ due_at: number }>("SELECT due_at FROM work WHERE kind = 'replica' AND target = ?", `${cid} foc-repair`).toArray()[0]?.due_at ?? null,
    }));
    const kept = await row();
    expect(kept.superseded.map((r) => r.remoteId)).toEqual([remoteId]);
    expect(kept.due).toBeGreaterThan(Date.now() + 14 * 60_000);
    expect(await deletionsOf([old1, kept2])).toEqual([{ provider: "1", dataSetId: old1.dataSetId, pieceId, result: "refused" }]);
    expect(await scheduledRemovals(old1)).toEqual([]);

    // 2. The check comes (made due now): the new copy is checked, then the old replica's piece is deleted.
    await makeDue(a.account, "foc-repair");
    await runUntil(a.account, async () => replicaOf(await rootStatus(a.token, cid), "foc-repair").log.at(-1)?.action === "removed old copy", 30_000);
    const after = replicaOf(await rootStatus(a.token, cid), "foc-repair");
    expect(after.state).toBe("stored");
    expect(after.log.slice(-3).map((l) => [l.action, l.message])).toEqual([
      ["remove old copy failed", failed.message],
      ["checked", "present"],
      ["removed old copy", remoteId],
    ]);
    expect(await deletionsOf([old1, kept2])).toEqual([
      { provider: "1", dataSetId: old1.dataSetId, pieceId, result: "refused" },
      { provider: "1", dataSetId: old1.dataSetId, pieceId, result: "scheduled" },
    ]);
    expect(await scheduledRemovals(old1)).toEqual([pieceId]);
    expect(await scheduledRemovals(kept2)).toEqual([]);
    expect((await row()).superseded).toEqual([]);

    const newCopies = await copiesOf(a.token, cid);
    for (const c of newCopies) await filecoinWatch(env).unwatch(`foc-repair|${newRemoteId}|${c.dataSetId}/${c.pieceIds[0]}`, "test cleanup");
  }, 150_000);
});
