import { env } from "cloudflare:workers";
import { createExecutionContext, createScheduledController, runDurableObjectAlarm, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, inject, it, vi } from "vitest";
import { replicaSinks, type ReportedCopy } from "../../src/backends/filecoin/replica-sink";
import type { ReplicaCheck } from "../../src/backends/replication-backend";
import { filecoinWatch, FILECOIN_WATCH_CRON } from "../../src/cron/filecoin-watch";
import type { WatchCopyInput } from "../../src/durable-objects/filecoin-watch";
import { pieceCidOfStream } from "../../src/backends/filecoin/piece-cid";
import type { Scenario, ChainLog } from "../servers/filecoin-chain-server";
import worker from "../../src/worker";
import { pseudoRandomBytes } from "../helpers/pseudo-random";
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import { holdersKey } from "../../src/replication/holder-index";
import { requestLog, uniquePersonality, upstreamUrl } from "../helpers/upstream";
import { fiveLeafFile, honestCar } from "../gateway/racing/dag-fixture";

const base = inject("filecoinBase");
const HEAD = 1_000_000;
const PAYER = "0x500d75f1329cf98352c32cf238c2192ca78faffe";
const USDFC = 10n ** 18n;

async function scenario(s: Partial<Scenario>): Promise<void> {
  const res = await fetch(`${base}/__state`, { method: "POST", body: JSON.stringify(s) });
  expect(res.status).toBe(204);
}
async function chainLog(): Promise<ChainLog> {
  return (await (await fetch(`${base}/__log`)).json()) as ChainLog;
}
function dataSet(over: Partial<Scenario["dataSets"][string]> = {}): Scenario["dataSets"][string] {
  return { live: true, pdpEndEpoch: "0", lastProvenEpoch: String(HEAD - 100), nextChallengeEpoch: String(HEAD + 2780), scheduledRemovals: [], providerId: "4", pieces: [], ...over };
}

/** What the engine received (the watch's ReplicaSink), in order. */
let reports: Array<{ copy: ReportedCopy; check: ReplicaCheck }> = [];
const watched: string[] = [];
const watch = filecoinWatch(env);

async function put(copy: Omit<WatchCopyInput, "backend" | "account"> & { backend?: string }): Promise<string> {
  const id = await watch.watch({ backend: "foc", account: "acct-1", ...copy });
  watched.push(id);
  return id;
}
function pdp(root: string, dataSetId: number, pieceId: number, extra: Partial<WatchCopyInput> = {}) {
  return { kind: "pdp" as const, root, remoteId: `4:${dataSetId}:${pieceId}`, pieceCid: `bafkzcib-${root}-${pieceId}`, dataSetId: String(dataSetId), pieceId: String(pieceId), providerId: "4", addedEpoch: String(HEAD - 5000), ...extra };
}
async function cron(scheduledTime: number): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron: FILECOIN_WATCH_CRON, scheduledTime }), env, ctx);
  await waitOnExecutionContext(ctx);
}

beforeEach(() => {
  reports = [];
  vi.spyOn(replicaSinks, "forEnv").mockReturnValue({
    async reportReplicaCheck(copy, check) {
      reports.push({ copy, check });
    },
  });
});
afterEach(async () => {
  vi.restoreAllMocks();
  await watch.unwatchMany(watched.splice(0), "test cleanup");
});

describe("Filecoin watch (cron)", () => {
  it("a terminated data set: its copy is reported lost (a new copy is requested), the healthy one is not; the old record is dropped only when the new copy is watched", async () => {
    await scenario({
      head: String(HEAD),
      dataSets: { "101": dataSet({ pieces: ["1"] }), "102": dataSet({ pieces: ["5"], pdpEndEpoch: String(HEAD + 500) }) },
    });
    const healthy = await put(pdp("rootA", 101, 1));
    const doomed = await put(pdp("rootB", 102, 5));
    const now = Date.now() + 1000;
    await cron(now);

    expect(reports).toEqual([
      {
        copy: { account: "acct-1", root: "rootB", backend: "foc", remoteId: "4:102:5" },
        check: { state: "lost", message: `data set 102 terminated (pdpEndEpoch ${HEAD + 500})` },
      },
    ]);
    const copies = await watch.copies();
    expect(copies.find((c) => c.id === healthy)).toMatchObject({ state: "stored", failures: 0, lastCheckAt: now, proof: `last proven at epoch ${HEAD - 100}, next challenge ${HEAD + 2780}` });
    expect(copies.find((c) => c.id === doomed)).toMatchObject({ state: "lost", lastCheckAt: now });
    const actions = await watch.actions(doomed);
    expect(actions).toHaveLength(1);
    expect(actions[0]).toMatchObject({ at: now, kind: "renew", reason: `data set 102 terminated (pdpEndEpoch ${HEAD + 500})` });
    expect(actions[0]!.result).toMatch(/^reported lost: the engine makes a new copy/);
    // Both data sets and both pieces were read in one Multicall3 request each (plus head and PDP config).
    const log = await chainLog();
    expect(log.methods.filter((m) => m === "eth_call").length).toBe(3 + 1 /* accounts (funding) */);
    expect(log.calls.filter((c) => c === "dataSetLive")).toHaveLength(2);

    // The engine stored the replacement: the lost record goes, logged.
    const replacement = await put(pdp("rootB", 103, 1));
    const after = await watch.copies("rootB");
    expect(after.map((c) => c.id)).toEqual([replacement]);
    expect((await watch.actions(doomed)).at(-1)).toMatchObject({ kind: "drop", reason: `replaced by new copy ${replacement} (old copy was lost)`, result: "dropped from the watch" });
  });

  it("one replica on two providers: the first provider losing its copy puts the replica at risk; losing both makes it lost", async () => {
    await scenario({ head: String(HEAD), dataSets: { "301": dataSet({ pieces: ["2"], pdpEndEpoch: String(HEAD + 9) }), "302": dataSet({ pieces: ["2"], providerId: "9" }) } });
    const a = await put(pdp("rootR", 301, 2, { remoteId: "bafkzcib-replica" }));
    const b = await put(pdp("rootR", 302, 2, { remoteId: "bafkzcib-replica", providerId: "9" }));
    const t0 = Date.now() + 1000;
    await cron(t0);
    expect(reports).toEqual([
      {
        copy: { account: "acct-1", root: "rootR", backend: "foc", remoteId: "bafkzcib-replica" },
        check: { state: "at_risk", message: `copy ${a} lost (data set 301 terminated (pdpEndEpoch ${HEAD + 9})); 1 other copies remain` },
      },
    ]);
    await scenario({ head: String(HEAD), dataSets: { "301": dataSet({ pieces: ["2"], pdpEndEpoch: String(HEAD + 9) }), "302": dataSet({ pieces: [], providerId: "9" }) } });
    await cron(t0 + 26 * 60_000);
    expect(reports[1]).toEqual({
      copy: { account: "acct-1", root: "rootR", backend: "foc", remoteId: "bafkzcib-replica" },
      check: { state: "lost", message: "piece 2 is no longer in data set 302" },
    });
    expect((await watch.copies("rootR")).map((c) => [c.id, c.state])).toEqual([
      [a, "lost"],
      [b, "lost"],
    ]);
  });

  it("proofs overdue: at_risk after FOC_PROOF_AT_RISK_PERIODS periods, lost after FOC_PROOF_LOST_PERIODS", async () => {
    const lastProven = HEAD - 2 * 2880 - 10;
    await scenario({ head: String(HEAD), dataSets: { "201": dataSet({ pieces: ["3"], lastProvenEpoch: String(lastProven), nextChallengeEpoch: String(lastProven + 2880) }) } });
    const id = await put(pdp("rootP", 201, 3));
    const t0 = Date.now() + 1000;
    await cron(t0);
    expect(reports.map((r) => r.check)).toEqual([
      { state: "at_risk", message: `proofs overdue for 2 proving periods (last proven at epoch ${lastProven}, next challenge ${lastProven + 2880})`, details: { proof: `last proven at epoch ${lastProven}, next challenge ${lastProven + 2880}` } },
    ]);
    // Same facts a run later: no second report.
    await cron(t0 + 26 * 60_000);
    expect(reports).toHaveLength(1);
    // Four more periods without a proof: lost.
    await scenario({ head: String(HEAD + 4 * 2880), dataSets: { "201": dataSet({ pieces: ["3"], lastProvenEpoch: String(lastProven), nextChallengeEpoch: String(lastProven + 2880) }) } });
    await cron(t0 + 52 * 60_000);
    expect(reports.map((r) => r.check.state)).toEqual(["at_risk", "lost"]);
    expect(reports[1]!.check).toMatchObject({ message: expect.stringMatching(/^no proof for 6 proving periods/) });
    expect((await watch.copies("rootP"))[0]).toMatchObject({ id, state: "lost" });
    expect((await watch.actions(id)).map((a) => a.kind)).toEqual(["renew", "renew"]);
  });

  it("runway below FOC_MIN_RUNWAY_DAYS: exactly one deposit, clamped to FOC_MAX_BALANCE, then only an alert", async () => {
    // 2 USDFC at 0.001 USDFC/epoch: 2,000 epochs (< 1 day). Target 60 days = 172.8 USDFC; the 50 USDFC cap leaves room for 48.
    await scenario({ head: String(HEAD), accounts: { [PAYER]: { funds: String(2n * USDFC), lockupCurrent: "0", lockupRate: String(USDFC / 1000n), lockupLastSettledAt: String(HEAD) } } });
    const before = (await watch.funding()).length;
    const t0 = Date.now() + 1000;
    await cron(t0);
    await cron(t0 + 60_000);
    await cron(t0 + 120_000);
    const log = await chainLog();
    expect(log.transactions).toEqual([
      { from: "0x500d75F1329cf98352c32Cf238c2192ca78faFFE", to: "0x09a0fdc2723fad1a7b8e3e00ee5df73841df55a0", functionName: "depositWithPermit", args: expect.any(Array) },
    ]);
    // depositWithPermit(token, to, amount, deadline, v, r, s): USDFC of calibration, to the payer, the clamped amount.
    expect(log.transactions[0]!.args.slice(0, 3)).toEqual(["0xb3042734b608a1B16e9e86B374A3f3e389B4cDf0", "0x500d75F1329cf98352c32Cf238c2192ca78faFFE", String(48n * USDFC)]);
    expect(log.errors).toEqual(["eth_fillTransaction: not played"]);
    const events = (await watch.funding()).slice(before);
    expect(events.map((e) => [e.kind, e.amount, e.state])).toEqual([
      ["deposit", String(48n * USDFC), "confirmed"],
      ["alert", "0", "open"],
    ]);
    expect(events[0]!.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(events[1]!.message).toMatch(/at FOC_MAX_BALANCE/);
    // The funds on chain: exactly the cap.
    const state = (await (await fetch(`${base}/__state`)).json()) as Scenario;
    expect(state.accounts[PAYER]!.funds).toBe(String(50n * USDFC));
  });

  it("classic deals over Lotus: near its end → renewal, slashed or gone → lost, healthy → nothing", async () => {
    const lotusHead = 5_000_000;
    const deal = (end: number, slash = -1) => ({ PieceCID: "baga6ea4seaq", Provider: "f01000", StartEpoch: 4_000_000, EndEpoch: end, SectorStartEpoch: 4_000_100, SlashEpoch: slash });
    await scenario({ lotusHead: String(lotusHead), deals: { "9001": deal(lotusHead + 10 * 2880), "9002": deal(lotusHead + 400 * 2880), "9004": deal(lotusHead + 400 * 2880, 4_900_000) } });
    const ids = [];
    for (const d of ["9001", "9002", "9003", "9004"]) ids.push(await put({ kind: "deal", root: `rootD${d}`, remoteId: `deal-${d}`, dealId: d }));
    await cron(Date.now() + 1000);
    const byRoot = Object.fromEntries(reports.map((r) => [r.copy.root, r.check]));
    expect(Object.keys(byRoot).sort()).toEqual(["rootD9001", "rootD9003", "rootD9004"]);
    expect(byRoot.rootD9001).toMatchObject({ state: "at_risk", message: expect.stringMatching(/^deal ends at epoch 5028800, within the renew window \(28800 epochs left\) \(ends 2025-06-06T00:40:00.000Z\)$/) });
    expect(byRoot.rootD9003).toEqual({ state: "lost", message: "deal not found on chain (expired and cleaned up, or never existed)" });
    expect(byRoot.rootD9004).toEqual({ state: "lost", message: "deal slashed at epoch 4900000" });
    expect((await watch.copies("rootD9002"))[0]).toMatchObject({ state: "stored", failures: 0 });
    const log = await chainLog();
    expect(log.lotus).toEqual(["Filecoin.ChainHead", "Filecoin.StateMarketStorageDeal", "Filecoin.StateMarketStorageDeal", "Filecoin.StateMarketStorageDeal", "Filecoin.StateMarketStorageDeal"]);
  });

  it("fetch-back verification: a provider serving wrong bytes → lost; the right bytes → piece CID matches", async () => {
    const good = pseudoRandomBytes(5000, 11);
    const asked = pseudoRandomBytes(5000, 12);
    const goodCid = (await pieceCidOfStream(new Blob([good]).stream())).pieceCid.toString();
    const askedCid = (await pieceCidOfStream(new Blob([asked]).stream())).pieceCid.toString();
    const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));
    // The provider answers the second piece with other bytes.
    await scenario({ head: String(HEAD), dataSets: { "501": dataSet({ pieces: ["1", "2"] }) }, pieces: { [goodCid]: b64(good), [askedCid]: b64(good) } });
    const ok = await put(pdp("rootV1", 501, 1, { pieceCid: goodCid, retrievalUrl: `${base}/piece/${goodCid}` }));
    const bad = await put(pdp("rootV2", 501, 2, { pieceCid: askedCid, retrievalUrl: `${base}/piece/${askedCid}` }));
    const now = Date.now() + 1000;
    await cron(now);
    expect(reports).toEqual([
      {
        copy: { account: "acct-1", root: "rootV2", backend: "foc", remoteId: "4:501:2" },
        check: { state: "lost", message: `fetch-back: the provider served bytes whose piece CID is ${goodCid}, expected ${askedCid}` },
      },
    ]);
    expect((await chainLog()).pieces.sort()).toEqual([askedCid, goodCid].sort());
    expect((await watch.actions(ok)).map((a) => [a.kind, a.result])).toEqual([["verify", "piece CID matches"]]);
    expect((await watch.actions(bad)).map((a) => a.kind)).toEqual(["verify", "renew"]);
    expect((await watch.copies("rootV1"))[0]).toMatchObject({ state: "stored", lastVerifiedAt: now });
  });

  it("an RPC that times out: the run finishes the other copies, the stuck one is retried later and then checked", async () => {
    await scenario({ head: String(HEAD), hang: ["601"], dataSets: { "601": dataSet({ pieces: ["1"], pdpEndEpoch: "5" }), "602": dataSet({ pieces: ["1"], pdpEndEpoch: "7" }) } });
    const stuck = await put(pdp("rootT1", 601, 1));
    const other = await put(pdp("rootT2", 602, 1));
    const now = Date.now() + 1000;
    const started = Date.now();
    await cron(now);
    expect(Date.now() - started).toBeLessThan(5000);
    // The other copy was checked (and its terminated data set reported); the stuck one waits for a retry.
    expect(reports.map((r) => r.copy.root)).toEqual(["rootT2"]);
    const s1 = (await watch.copies("rootT1"))[0]!;
    expect(s1).toMatchObject({ id: stuck, state: "stored", failures: 1, nextCheckAt: now + 60_000 });
    expect(s1.lastError).toMatch(/took too long|timed out|timeout/i);
    expect((await watch.copies("rootT2"))[0]).toMatchObject({ id: other, state: "lost" });
    // Not due yet: a run a moment later leaves it alone.
    await cron(now + 30_000);
    expect(reports).toHaveLength(1);
    // The node answers again: the retry finds the terminated data set.
    await scenario({ head: String(HEAD), dataSets: { "601": dataSet({ pieces: ["1"], pdpEndEpoch: "5" }) } });
    await cron(now + 61_000);
    expect(reports.map((r) => [r.copy.root, r.check.state])).toEqual([["rootT2", "lost"], ["rootT1", "lost"]]);
    expect((await watch.copies("rootT1"))[0]).toMatchObject({ failures: 0, lastError: null });
  });

  it("a piece scheduled for removal that we did not ask for: reported lost, logged with the reason", async () => {
    await scenario({ head: String(HEAD), dataSets: { "701": dataSet({ pieces: ["1", "2"], scheduledRemovals: ["2"] }) } });
    const kept = await put(pdp("rootS1", 701, 1));
    const removed = await put(pdp("rootS2", 701, 2));
    const now = Date.now() + 1000;
    await cron(now);
    expect(reports).toEqual([
      {
        copy: { account: "acct-1", root: "rootS2", backend: "foc", remoteId: "4:701:2" },
        check: { state: "lost", message: "piece 2 is scheduled for removal and we did not ask for it" },
      },
    ]);
    expect((await watch.copies("rootS1"))[0]).toMatchObject({ id: kept, state: "stored", lastCheckAt: now });
    const actions = await watch.actions(removed);
    expect(actions.map((a) => [a.at, a.kind, a.reason])).toEqual([[now, "renew", "piece 2 is scheduled for removal and we did not ask for it"]]);
    expect(actions[0]!.result).toMatch(/^reported lost: the engine makes a new copy/);
    expect((await chainLog()).calls.filter((c) => c === "getScheduledRemovals")).toHaveLength(1);
  });

  it("a lost copy's provider leaves the root's holder record (the gateway stops racing it); the one still stored stays", async () => {
    const root = CID.create(1, 0x55, await sha256.digest(pseudoRandomBytes(64, 77))).toString();
    await scenario({ head: String(HEAD), dataSets: { "801": dataSet({ pieces: ["1"], pdpEndEpoch: String(HEAD - 1) }), "802": dataSet({ pieces: ["1"], providerId: "9" }) } });
    await put(pdp(root, 801, 1, { remoteId: "bafkzcib-holders", retrievalUrl: "http://127.0.0.1:9/sp-a/piece/bafkzcib-holders" }));
    await put(pdp(root, 802, 1, { remoteId: "bafkzcib-holders", providerId: "9", retrievalUrl: "http://127.0.0.1:9/sp-b/piece/bafkzcib-holders" }));
    const record = async () => JSON.parse(await (await env.BLOCKS.get(holdersKey(CID.parse(root))))!.text()) as unknown;
    expect(await record()).toEqual({ v: 1, sources: { filecoin: ["http://127.0.0.1:9/sp-a", "http://127.0.0.1:9/sp-b"] } });
    await cron(Date.now() + 1000);
    expect(reports.map((r) => r.check.state)).toEqual(["at_risk"]);
    expect(await record()).toEqual({ v: 1, sources: { filecoin: ["http://127.0.0.1:9/sp-b"] } });
  });

  it("10,000 copies: checked in steps of 2,500 until FOC_WATCH_SUBREQUESTS is spent, the rest resumed by the object's alarm, none twice", async () => {
    // 100 data sets of 100 pieces; piece 7 of data set 1042 is gone.
    const sets: Scenario["dataSets"] = {};
    for (let d = 0; d < 100; d++) sets[String(1000 + d)] = dataSet({ pieces: Array.from({ length: 100 }, (_, p) => String(p + 1)).filter((p) => !(d === 42 && p === "7")) });
    const inputs = [];
    for (let d = 0; d < 100; d++) for (let p = 1; p <= 100; p++) inputs.push({ ...pdp(`rootM${d}-${p}`, 1000 + d, p), backend: "foc", account: "acct-1" });
    const t0 = Date.now();
    for (let i = 0; i < inputs.length; i += 2000) watched.push(...(await watch.watchMany(inputs.slice(i, i + 2000), t0)));
    // The scenario last: the chain server is shared with the other Filecoin test files.
    await scenario({ head: String(HEAD), dataSets: sets });
    const before = (await chainLog()).methods.length;

    const now = t0 + 1000;
    await cron(now);
    const first = await watch.copies();
    const checkedFirst = first.filter((c) => c.lastCheckAt === now).length;
    const afterCron = (await chainLog()).methods.length;
    // A step of 2,500 copies costs about 16 requests: the budget of 20 is spent after one or two
    // steps (two on a quiet machine), never all four; the rest waits for the alarm. No check failed.
    expect([2500, 5000]).toContain(checkedFirst);
    expect(first.filter((c) => c.failures > 0)).toEqual([]);
    expect(afterCron - before).toBeGreaterThanOrEqual(20);
    expect(afterCron - before).toBeLessThanOrEqual(40);
    const stub = watch as unknown as DurableObjectStub;
    // The alarm the run set (1 s ahead): run now, unless the runtime already fired it (then wait for it).
    await runDurableObjectAlarm(stub);
    let second = await watch.copies();
    for (let i = 0; i < 50 && second.some((c) => c.lastCheckAt === null); i++) {
      await new Promise((r) => setTimeout(r, 200));
      second = await watch.copies();
    }
    expect(second.filter((c) => c.lastCheckAt !== null)).toHaveLength(10_000);
    // Those of the first run were not checked again by the alarm.
    expect(second.filter((c) => c.lastCheckAt === now)).toHaveLength(checkedFirst);
    expect(reports.map((r) => [r.copy.root, r.check])).toEqual([["rootM42-7", { state: "lost", message: "piece 7 is no longer in data set 1042" }]]);
    // Subrequests per copy over both invocations (Multicall3 batches: data sets by 40, pieces by 200).
    const total = (await chainLog()).methods.length - before;
    expect(total / 10_000).toBeLessThan(0.01);
  });

  it("fetch-back through the provider's /ipfs/ gateway when it does not serve the piece: checked block by block; a lying provider → lost", async () => {
    const good = await fiveLeafFile(8101);
    const bad = await fiveLeafFile(8102);
    const honest = uniquePersonality("honest");
    const liar = uniquePersonality("flip-byte-2");
    await scenario({ head: String(HEAD), dataSets: { "901": dataSet({ pieces: ["1", "2"] }) } });
    // The test gateway answers /piece/ with 501 (it only serves /ipfs/): the watch turns to /ipfs/.
    const ok = await put(pdp(good.cid.toString(), 901, 1, { retrievalUrl: `${upstreamUrl(honest)}/piece/bafkzcib-ipfs-1` }));
    const lied = await put(pdp(bad.cid.toString(), 901, 2, { retrievalUrl: `${upstreamUrl(liar)}/piece/bafkzcib-ipfs-2` }));
    const now = Date.now() + 1000;
    await cron(now);

    const reason = `fetch-back: ${upstreamUrl(liar)}/ipfs/${bad.cid} served a block that does not match its CID (HTTP 501 on /piece)`;
    expect(reports).toEqual([{ copy: { account: "acct-1", root: bad.cid.toString(), backend: "foc", remoteId: "4:901:2" }, check: { state: "lost", message: reason } }]);
    expect((await watch.actions(ok)).map((a) => [a.kind, a.result])).toEqual([
      ["verify", `${upstreamUrl(honest)}/piece/bafkzcib-ipfs-1 answered HTTP 501; 6 blocks (${good.bytes.length + (await honestCar(`/ipfs/${good.cid}`)).blocks[0]!.bytes.length} bytes) from ${upstreamUrl(honest)}/ipfs/${good.cid} match their CIDs`],
    ]);
    expect((await watch.actions(lied)).map((a) => [a.kind, a.reason])).toEqual([["verify", "fetch-back sample"], ["renew", reason]]);
    expect((await watch.copies(good.cid.toString()))[0]).toMatchObject({ state: "stored", lastVerifiedAt: now });
    // What each provider was asked: the piece, then the whole DAG as a CAR.
    expect((await requestLog(honest)).map((e) => e.url)).toEqual([
      `/${honest}/piece/bafkzcib-ipfs-1`,
      `/${honest}/ipfs/${good.cid}?format=car&dag-scope=all&car-version=1&car-order=dfs&car-dups=y`,
    ]);
    expect((await requestLog(liar)).map((e) => e.url)).toEqual([
      `/${liar}/piece/bafkzcib-ipfs-2`,
      `/${liar}/ipfs/${bad.cid}?format=car&dag-scope=all&car-version=1&car-order=dfs&car-dups=y`,
    ]);
  });
});
