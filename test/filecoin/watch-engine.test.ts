import { env } from "cloudflare:workers";
import { createExecutionContext, createScheduledController, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, inject, it } from "vitest";
import { filecoinWatch, FILECOIN_WATCH_CRON } from "../../src/cron/filecoin-watch";
import { registryStub, type PinRegistry } from "../../src/durable-objects/pin-registry";
import type { Scenario } from "../servers/filecoin-chain-server";
import worker from "../../src/worker";
import { call, newAccount, pinJson } from "../pinning/helpers";
import type { RootStatusWithFilecoin } from "../../src/replication/filecoin-status";
import { pieceCidOfStream } from "../../src/backends/filecoin/piece-cid";
import { pseudoRandomBytes } from "../helpers/pseudo-random";
import { pinInR2, replicaOf, rootStatus, runUntil } from "../replication/helpers";

/**
 * The Filecoin watch reports to the engine for real (no recording sink):
 * a copy registered with its account reaches that account's PinRegistry
 * (`reportReplicaCheck`), whose replica becomes lost and queued for a new
 * copy. BACKENDS has `fil` (type filecoin, the local chain server); the
 * policy sends `meta.tier = filecoin` to R2 + fil (vitest.config.ts).
 */
const base = inject("filecoinBase");
const HEAD = 1_000_000;
/** The replica's id as the Filecoin backend records it: the first piece CID (a fixed, well-formed piece CID v2). */
const PIECE = "bafkzcibcaapao7s3vvkmsqpqnhmvdccxnkjx3i7z6aq2fjszc3vsnpq7qmjfgvy";
const watched: string[] = [];

async function scenario(s: Partial<Scenario>): Promise<void> {
  const res = await fetch(`${base}/__state`, { method: "POST", body: JSON.stringify(s) });
  expect(res.status).toBe(204);
}
async function cron(scheduledTime: number): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron: FILECOIN_WATCH_CRON, scheduledTime }), env, ctx);
  await waitOnExecutionContext(ctx);
}
const dataSet = (over: Partial<Scenario["dataSets"][string]> = {}): Scenario["dataSets"][string] => ({
  live: true, pdpEndEpoch: "0", lastProvenEpoch: String(HEAD - 100), nextChallengeEpoch: String(HEAD + 2780), scheduledRemovals: [], providerId: "4", pieces: ["7"], ...over,
});

/**
 * The Filecoin copy as `FilecoinBackend.store` records it once stored (the
 * replica row: remote id = first piece CID, details.copies[]), written
 * directly to name a scenario data set of the watch (`fil`'s session key
 * is not authorised on the local chain). Its planned store attempts have
 * failed first, so the row is the engine's own.
 */
async function recordStoredFilecoinCopy(account: string, root: string, piece = PIECE): Promise<void> {
  await runInDurableObject(registryStub(env, account), (_i: PinRegistry, state) => {
    const now = Date.now();
    const details = { chain: "calibration", carSize: 3405, copies: [{ providerId: "4", dataSetId: "501", pieceIds: ["7"], pieceCids: [piece], retrievalUrls: [`${base}/piece/${piece}`], addedEpoch: String(HEAD - 5000) }] };
    state.storage.sql.exec(
      "UPDATE replicas SET state = 'stored', next = 'check', remote_id = ?, details = ?, bytes = 3405, progress = NULL, last_error = NULL, attempts = 0, stored_at = ?, checked_at = ?, updated = ? WHERE root = ? AND backend = 'fil'",
      piece, JSON.stringify(details), now, now, now, root,
    );
    state.storage.sql.exec("DELETE FROM work WHERE kind = 'replica' AND target = ?", `${root} fil`);
  });
}

afterEach(async () => {
  for (const id of watched.splice(0)) await filecoinWatch(env).unwatch(id, "test cleanup");
});

describe("Filecoin watch → the account's PinRegistry (ReplicaSink wired to reportReplicaCheck)", () => {
  it("a terminated data set: the copy is reported to its account, whose replica becomes lost and is queued for a new copy; another account pinning the root is untouched", async () => {
    const a = await newAccount("fil-a");
    const b = await newAccount("fil-b");
    const { root } = await pinInR2(a.token, a.account, 1201, { tier: "filecoin" });
    const cid = root.toString();
    await pinInR2(b.token, b.account, 1201, {});
    // The engine planned R2 + fil and tried to store (the store cannot complete here).
    await runUntil(a.account, async () => replicaOf(await rootStatus(a.token, cid), "fil").attempts >= 1 && replicaOf(await rootStatus(a.token, cid), "fil").lastError !== null, 40_000);
    // `fil`'s session key was never authorised on the local chain: store() stops there (it runs end to end
    // for the `foc` backends, test/filecoin/store-end-to-end.test.ts); the copy below is written as store() records one.
    expect(replicaOf(await rootStatus(a.token, cid), "fil").lastError).toBe("unauthorized: Session key does not have the required permissions. Please login and sync expirations with the session key first.");
    await recordStoredFilecoinCopy(a.account, cid);
    expect(replicaOf(await rootStatus(a.token, cid), "fil")).toMatchObject({ state: "stored", remoteId: PIECE });

    // What FilecoinBackend.store registers: the account comes with the DAG (DagToStore.account).
    const id = await filecoinWatch(env).watch({
      kind: "pdp", account: a.account, root: cid, backend: "fil", remoteId: PIECE,
      pieceCid: PIECE, dataSetId: "501", pieceId: "7", providerId: "4", retrievalUrl: `${base}/piece/${PIECE}`, addedEpoch: String(HEAD - 5000),
    });
    watched.push(id);
    await scenario({ head: String(HEAD), dataSets: { "501": dataSet({ pdpEndEpoch: String(HEAD + 40) }) } });
    const now = Date.now() + 1000;
    await cron(now);

    const reason = `data set 501 terminated (pdpEndEpoch ${HEAD + 40})`;
    const actions = await filecoinWatch(env).actions(id);
    expect(actions.map((x) => [x.kind, x.reason, x.result])).toEqual([["renew", reason, "reported lost: the engine makes a new copy; this one stays watched until it exists"]]);
    expect((await filecoinWatch(env).copies(cid)).map((c) => [c.id, c.state, c.account])).toEqual([[id, "lost", a.account]]);

    // The account's registry recorded it: lost, the old piece kept to remove once a new copy is stored, a new store
    // queued and attempted by the account's alarm. `fil`'s session key is not authorised on the local chain, so that
    // attempt fails `unauthorized` and the replica ends `failed` (retried later), its superseded piece still kept.
    await runUntil(a.account, async () => replicaOf(await rootStatus(a.token, cid), "fil").log.some((l, i, all) => l.action === "error" && all.slice(0, i).some((p) => p.action === "lost")), 10_000);
    const rows = await runInDurableObject(registryStub(env, a.account), (_i: PinRegistry, state) =>
      state.storage.sql.exec<{ state: string; next: string; remote_id: string | null; superseded: string; last_error: string }>(
        "SELECT state, next, remote_id, superseded, last_error FROM replicas WHERE root = ? AND backend = 'fil'", cid,
      ).toArray(),
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.state).toBe("failed");
    expect(rows[0]!.next).toBe("store");
    expect(rows[0]!.remote_id).toBeNull();
    expect((JSON.parse(rows[0]!.superseded) as { remoteId: string }[]).map((r) => r.remoteId)).toEqual([PIECE]);
    const status = await rootStatus(a.token, cid);
    const fil = replicaOf(status, "fil");
    expect(fil.log.map((l) => [l.action, l.message]).filter(([action]) => action === "lost")).toEqual([["lost", reason]]);
    expect(fil.lastError).toBe("unauthorized: Session key does not have the required permissions. Please login and sync expirations with the session key first.");
    expect(status.aggregate).toBe("failed");

    // Account b pinned the same root without the tier: no replica rows, nothing reported there.
    const other = await rootStatus(b.token, cid);
    expect(other.replicas.map((r) => [r.backend, r.state])).toEqual([["r2", "stored"]]);
    expect(other.aggregate).toBe("stored");
  }, 90_000);

  it("a copy two accounts share: a terminated data set is reported to every owner, not only the row's account; an owner whose report fails hears it next run, the others are not told twice", async () => {
    const a = await newAccount("fil-share-a");
    const b = await newAccount("fil-share-b");
    const c = await newAccount("fil-share-c");
    const { root } = await pinInR2(a.token, a.account, 1205, { tier: "filecoin" });
    const cid = root.toString();
    await pinInR2(b.token, b.account, 1205, { tier: "filecoin" });
    for (const x of [a, b]) {
      await runUntil(x.account, async () => replicaOf(await rootStatus(x.token, cid), "fil").lastError !== null, 40_000);
      await recordStoredFilecoinCopy(x.account, cid);
    }
    // Both accounts registered the same copy (same data set, piece, remote id: one row); c registered it too but its
    // registry has no such replica (its report fails).
    const copy = { kind: "pdp", root: cid, backend: "fil", remoteId: PIECE, pieceCid: PIECE, dataSetId: "501", pieceId: "7", providerId: "4", retrievalUrl: `${base}/piece/${PIECE}`, addedEpoch: String(HEAD - 5000) } as const;
    const id = await filecoinWatch(env).watch({ ...copy, account: a.account });
    watched.push(id);
    expect(await filecoinWatch(env).watch({ ...copy, account: c.account })).toBe(id);
    expect(await filecoinWatch(env).watch({ ...copy, account: b.account })).toBe(id);
    // The same copy id was watched by an earlier test of this file: only this test's actions count.
    const before = (await filecoinWatch(env).actions(id)).length;
    const actions = async () => (await filecoinWatch(env).actions(id)).slice(before);
    await scenario({ head: String(HEAD), dataSets: { "501": dataSet({ pdpEndEpoch: String(HEAD + 40) }) } });
    const now = Date.now() + 1000;
    await cron(now);

    const reason = `data set 501 terminated (pdpEndEpoch ${HEAD + 40})`;
    const heard = [a.account, b.account].sort();
    const noReplica = `${c.account}: no replica ${PIECE} of ${cid} on backend fil`;
    expect((await actions()).map((x) => [x.kind, x.reason, x.result])).toEqual([
      ["renew", reason, `report to the engine failed, retried next run: ${noReplica}; reported (to ${heard.join(", ")})`],
    ]);
    // The row is lost (the engines that heard make new copies), reported to the last registrant's account as before.
    expect((await filecoinWatch(env).copies(cid)).map((w) => [w.id, w.state, w.account])).toEqual([[id, "lost", b.account]]);
    const lostLog = async (x: { token: string }) => replicaOf(await rootStatus(x.token, cid), "fil").log.filter((l) => l.action === "lost").map((l) => l.message);
    for (const x of [a, b]) await runUntil(x.account, async () => (await lostLog(x)).length === 1, 10_000);
    for (const x of [a, b]) expect(await lostLog(x)).toEqual([reason]);

    // The next run (the retry is due a minute later): only c is asked again; a and b are not told twice.
    await cron(now + 61_000);
    expect((await actions()).map((x) => x.result).slice(1)).toEqual([`report to the engine failed, retried next run: ${noReplica}`]);
    for (const x of [a, b]) expect(await lostLog(x)).toEqual([reason]);
    const reported = await runInDurableObject(env.FILECOIN_WATCH.get(env.FILECOIN_WATCH.idFromName("filecoin-watch")), (_w, state) =>
      state.storage.sql.exec<{ account: string; reported: string }>("SELECT account, reported FROM copy_owners WHERE copy_id = ? ORDER BY account", id).toArray().map((r) => [r.account, r.reported]),
    );
    expect(reported).toEqual([[a.account, "lost"], [b.account, "lost"], [c.account, "stored"]].sort((x, y) => x[0]!.localeCompare(y[0]!)));
  }, 90_000);

  it("unified status shows the watch's view of each Filecoin copy (provider, data set, piece, proofs, checks, next action, payer runway); PSA info keeps its summary", async () => {
    const a = await newAccount("fil-status");
    const { root, requestid } = await pinInR2(a.token, a.account, 1202, { tier: "filecoin" });
    const cid = root.toString();
    await runUntil(a.account, async () => replicaOf(await rootStatus(a.token, cid), "fil").lastError !== null, 40_000);
    // The provider serves the piece's bytes (the watch fetches a sample back and hashes it).
    const bytes = pseudoRandomBytes(4096, 1202);
    const piece = (await pieceCidOfStream(new Blob([bytes]).stream())).pieceCid.toString();
    await recordStoredFilecoinCopy(a.account, cid, piece);
    const input = { kind: "pdp" as const, root: cid, backend: "fil", remoteId: piece, pieceCid: piece, dataSetId: "501", pieceId: "7", providerId: "4", retrievalUrl: `${base}/piece/${piece}`, addedEpoch: String(HEAD - 5000) };
    const id = await filecoinWatch(env).watch({ ...input, account: a.account });
    // Another account's copy of the same root on the same backend is not shown to this one.
    const foreign = await filecoinWatch(env).watch({ ...input, remoteId: "foreign-piece", account: "someone-else", dataSetId: "777" });
    watched.push(id, foreign);
    // Healthy data set; the payer has 2 USDFC at 0.001 USDFC/epoch: 2,000 epochs of runway (a top-up is made).
    const USDFC = 10n ** 18n;
    await scenario({
      head: String(HEAD),
      dataSets: { "501": dataSet(), "777": dataSet() },
      pieces: { [piece]: btoa(String.fromCharCode(...bytes)) },
      accounts: { "0x500d75f1329cf98352c32cf238c2192ca78faffe": { funds: String(2n * USDFC), lockupCurrent: "0", lockupRate: String(USDFC / 1000n), lockupLastSettledAt: String(HEAD) } },
    });
    const now = Date.now() + 1000;
    await cron(now);

    const res = await call("GET", `/api/v1/pins/${cid}`, { token: a.token });
    expect(res.status).toBe(200);
    const status = (await res.json()) as RootStatusWithFilecoin;
    expect(status.aggregate).toBe("stored");
    const fil = status.replicas.find((r) => r.backend === "fil")!;
    expect(fil.state).toBe("stored");
    const next = new Date(now + 25 * 60_000).toISOString();
    expect(fil.filecoin!.copies).toEqual([
      {
        id, kind: "pdp", provider: "4", dataSet: "501", pieceId: "7", pieceCid: piece, dealId: null, state: "stored",
        proof: `last proven at epoch ${HEAD - 100}, next challenge ${HEAD + 2780}`,
        lastCheck: new Date(now).toISOString(), nextCheck: next, failures: 0, lastError: null, lastVerified: new Date(now).toISOString(),
        nextAction: `check at ${next}`,
      },
    ]);
    expect(fil.filecoin!.payer).toMatchObject({ payer: "0x500d75F1329cf98352c32Cf238c2192ca78faFFE", at: new Date(now).toISOString(), runwayDays: 0.69, event: "deposit" });
    // Other backends carry no Filecoin view.
    expect(status.replicas.find((r) => r.backend === "r2")!.filecoin).toBeUndefined();

    const psa = await pinJson(await call("GET", `/psa/pins/${requestid}`, { token: a.token }), 200);
    expect(psa.status).toBe("pinned");
    expect(psa.info.replicas).toBe("fil=stored r2=stored");
    expect(psa.info.replication).toBe("stored");
    // The pin's own GET carries the watch's view too (this account's copy only, not the foreign one).
    expect(psa.info.filecoin).toBe(`fil provider 4 data set 501 piece 7: stored (last proven at epoch ${HEAD - 100}, next challenge ${HEAD + 2780}); check at ${next}`);
    expect(psa.info.filecoin_payer).toMatch(new RegExp(`^runway 0\\.69 days at ${new Date(now).toISOString().replace(/\./g, "\\.")} \\(deposit (submitted|confirmed)\\)$`));
  }, 90_000);

  it("a copy watched without an account cannot be reported: its state is kept and the failure logged, retried next run", async () => {
    const id = await filecoinWatch(env).watch({
      kind: "pdp", root: "bafkqaaa", backend: "fil", remoteId: "orphan-piece", pieceCid: "orphan-piece", dataSetId: "502", pieceId: "1", providerId: "4", addedEpoch: String(HEAD - 5000),
    });
    watched.push(id);
    await scenario({ head: String(HEAD), dataSets: { "502": dataSet({ live: false, pieces: [] }) } });
    const now = Date.now() + 1000;
    await cron(now);
    const copy = (await filecoinWatch(env).copies("bafkqaaa")).find((c) => c.id === id)!;
    expect(copy).toMatchObject({ state: "stored", account: null, lastError: "report failed: copy orphan-piece has no account to report to", nextCheckAt: now + 60_000 });
    expect((await filecoinWatch(env).actions(id)).map((x) => x.result)).toEqual(["report to the engine failed, retried next run: copy orphan-piece has no account to report to"]);
  });

  it("proofs overdue: the copy is reported at_risk to its account, whose replica is queued for a new copy (the old piece kept until it is stored); logged with time and reason on both sides", async () => {
    const a = await newAccount("fil-proofs");
    const { root } = await pinInR2(a.token, a.account, 1203, { tier: "filecoin" });
    const cid = root.toString();
    await runUntil(a.account, async () => replicaOf(await rootStatus(a.token, cid), "fil").lastError !== null, 40_000);
    await recordStoredFilecoinCopy(a.account, cid);
    const id = await filecoinWatch(env).watch({
      kind: "pdp", account: a.account, root: cid, backend: "fil", remoteId: PIECE,
      pieceCid: PIECE, dataSetId: "503", pieceId: "7", providerId: "4", addedEpoch: String(HEAD - 9000),
    });
    watched.push(id);
    // Last proof more than two proving periods (2 × 2,880 epochs) ago: at risk (FOC_PROOF_AT_RISK_PERIODS = 2).
    const lastProven = HEAD - 2 * 2880 - 10;
    await scenario({ head: String(HEAD), dataSets: { "503": dataSet({ lastProvenEpoch: String(lastProven), nextChallengeEpoch: String(lastProven + 2880) }) } });
    const now = Date.now() + 1000;
    await cron(now);

    const reason = `proofs overdue for 2 proving periods (last proven at epoch ${lastProven}, next challenge ${lastProven + 2880})`;
    expect((await filecoinWatch(env).actions(id)).map((x) => [x.at, x.kind, x.reason, x.result])).toEqual([
      [now, "renew", reason, "reported at_risk: the engine makes a new copy; this one stays watched until it exists"],
    ]);
    // The account's registry recorded it: at risk, the old piece kept to remove once a new copy is stored, a new
    // store queued and attempted by the account's alarm. `fil`'s session key is not authorised on the local chain,
    // so that attempt fails `unauthorized` and the replica ends `failed` (retried later), its superseded piece kept.
    await runUntil(a.account, async () => replicaOf(await rootStatus(a.token, cid), "fil").log.some((l, i, all) => l.action === "error" && all.slice(0, i).some((p) => p.action === "at_risk")), 10_000);
    const rows = await runInDurableObject(registryStub(env, a.account), (_i: PinRegistry, state) =>
      state.storage.sql.exec<{ state: string; next: string; remote_id: string | null; superseded: string; last_error: string }>(
        "SELECT state, next, remote_id, superseded, last_error FROM replicas WHERE root = ? AND backend = 'fil'", cid,
      ).toArray(),
    );
    expect(rows.map((r) => [r.state, r.next, r.remote_id])).toEqual([["failed", "store", null]]);
    expect((JSON.parse(rows[0]!.superseded) as { remoteId: string }[]).map((r) => r.remoteId)).toEqual([PIECE]);
    const status = await rootStatus(a.token, cid);
    const fil = replicaOf(status, "fil");
    const logged = fil.log.filter((l) => l.action === "at_risk");
    expect(logged.map((l) => l.message)).toEqual([reason]);
    expect(Date.parse(logged[0]!.at)).toBeGreaterThan(0);
    expect(fil.lastError).toBe("unauthorized: Session key does not have the required permissions. Please login and sync expirations with the session key first.");
    expect(status.aggregate).toBe("failed");
  }, 90_000);

  it("a classic deal near its end: reported to its account, which plans a new copy on the Filecoin backend (renewal); a deal of a root not pinned there cannot be reported", async () => {
    const a = await newAccount("fil-deal");
    const { root } = await pinInR2(a.token, a.account, 1204, {});
    const cid = root.toString();
    expect((await rootStatus(a.token, cid)).replicas.map((r) => r.backend)).toEqual(["r2"]);
    const res = await call("POST", "/api/v1/filecoin/deals", { token: "test-admin-token", body: { root: cid, dealId: "9101", account: a.account } });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    const orphan = await filecoinWatch(env).watch({ kind: "deal", root: "bafkqaaa", backend: "filecoin-deal", remoteId: "deal-9102", dealId: "9102", account: a.account });
    watched.push(id, orphan);
    const lotusHead = 5_000_000;
    const deal = { PieceCID: "baga6ea4seaq", Provider: "f01000", StartEpoch: 4_000_000, EndEpoch: lotusHead + 10 * 2880, SectorStartEpoch: 4_000_100, SlashEpoch: -1 };
    await scenario({ lotusHead: String(lotusHead), deals: { "9101": deal, "9102": deal } });
    const now = Date.now() + 1000;
    await cron(now);

    const reason = "deal ends at epoch 5028800, within the renew window (28800 epochs left) (ends 2025-06-06T00:40:00.000Z)";
    expect((await filecoinWatch(env).actions(id)).map((x) => [x.kind, x.reason, x.result])).toEqual([
      ["renew", reason, "reported at_risk: the engine makes a new copy; this one stays watched until it exists"],
    ]);
    const status = await rootStatus(a.token, cid);
    expect(status.plan).toMatchObject({ backends: ["r2", "fil"], rule: "default + migration" });
    const fil = replicaOf(status, "fil");
    expect(fil.log.map((l) => [l.action, l.message]).slice(0, 2)).toEqual([["planned", "policy default + migration"], ["renew deal", `deal-9101/${cid} at_risk: ${reason}`]]);
    // The new copy is attempted by the account's alarm (it cannot complete here: no provider).
    await runUntil(a.account, async () => replicaOf(await rootStatus(a.token, cid), "fil").attempts >= 1, 20_000);
    // The root of the other deal is not pinned by the account: the report fails, the deal keeps its state, retried next run.
    const other = (await filecoinWatch(env).copies("bafkqaaa")).find((c) => c.id === orphan)!;
    expect(other).toMatchObject({ state: "stored", lastError: `report failed: deal-9102: bafkqaaa is not pinned by this account, nothing to renew it from` });
  }, 90_000);
});
