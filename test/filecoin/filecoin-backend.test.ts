import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { copyRemoteId, create, parseRemoteId } from "../../src/backends/filecoin/filecoin-backend";
import { BackendError, type ReplicaRef, type ReplicationBackend } from "../../src/backends/replication-backend";
import type { Scenario } from "../servers/filecoin-chain-server";
import { CID } from "multiformats/cid";

const base = inject("filecoinBase");
const SESSION_KEY = "0x" + "11".repeat(32);
const PAYER = "0x500d75F1329cf98352c32Cf238c2192ca78faFFE";
const HEAD = 2_000_000;

async function scenario(s: Partial<Scenario>): Promise<void> {
  expect((await fetch(`${base}/__state`, { method: "POST", body: JSON.stringify(s) })).status).toBe(204);
}
function set(over: Partial<Scenario["dataSets"][string]>): Scenario["dataSets"][string] {
  return { live: true, pdpEndEpoch: "0", lastProvenEpoch: String(HEAD - 50), nextChallengeEpoch: String(HEAD + 2830), scheduledRemovals: [], providerId: "4", pieces: ["1"], ...over };
}
async function backend(secrets: Record<string, string> = { SESSION_KEY, PAYER }): Promise<ReplicationBackend> {
  return await create({ name: "foc-test", settings: { type: "filecoin", chain: "calibration", rpcUrl: `${base}/rpc`, rpcTimeoutMs: 400 }, secret: (f) => secrets[f], env });
}
const dag = { root: CID.parse("bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"), dagSize: 5000, blocks: 1, carSize: 5100 };
const replica: ReplicaRef = {
  backend: "foc-test",
  remoteId: "bafkzcibpiece",
  details: {
    copies: [
      { providerId: "4", dataSetId: "701", pieceIds: ["1"], pieceCids: ["bafkzcibpiece"], retrievalUrls: ["https://sp4.example/piece/bafkzcibpiece"], addedEpoch: String(HEAD - 10_000) },
      { providerId: "9", dataSetId: "702", pieceIds: ["1"], pieceCids: ["bafkzcibpiece"], retrievalUrls: ["https://sp9.example/piece/bafkzcibpiece"], addedEpoch: String(HEAD - 10_000) },
    ],
  },
};

describe("Filecoin backend", () => {
  it("create(): refuses missing or malformed secrets (unauthorized, naming the secrets, never their values) and bad settings (permanent)", async () => {
    const noKey = await backend({ PAYER }).catch((e: unknown) => e);
    expect(noKey).toBeInstanceOf(BackendError);
    expect(noKey).toMatchObject({ kind: "unauthorized", message: "backend foc-test: secrets BACKEND_FOC_TEST_SESSION_KEY (0x + 64 hex) and BACKEND_FOC_TEST_PAYER (0x address) are required" });
    const badKey = (await backend({ SESSION_KEY: "0xsecret-value", PAYER }).catch((e: unknown) => e)) as BackendError;
    expect(badKey.kind).toBe("unauthorized");
    expect(badKey.message).not.toContain("secret-value");
    const badChain = await Promise.resolve(create({ name: "f", settings: { type: "filecoin", chain: "goerli" }, secret: () => undefined, env })).catch((e: unknown) => e);
    expect(badChain).toMatchObject({ kind: "permanent", message: 'backend f: chain must be "calibration" or "mainnet"' });
    const badCopies = await Promise.resolve(create({ name: "f", settings: { type: "filecoin", copies: 9 }, secret: () => undefined, env })).catch((e: unknown) => e);
    expect(badCopies).toMatchObject({ kind: "permanent", message: "backend f: copies must be an integer from 1 to 5" });
    const badAddress = await Promise.resolve(create({ name: "f", settings: { type: "filecoin", contracts: { pdp: "0x12" } }, secret: () => undefined, env })).catch((e: unknown) => e);
    expect(badAddress).toMatchObject({ kind: "permanent", message: "backend f: contracts.pdp must be a 0x address" });
  });

  it("check(): both copies proven → stored; one provider's data set terminated → at_risk; both → lost; a node that does not answer → retryable", async () => {
    const b = await backend();
    await scenario({ head: String(HEAD), dataSets: { "701": set({}), "702": set({ providerId: "9" }) } });
    expect(await b.check(replica, dag)).toEqual({ state: "stored", details: {} });

    await scenario({ head: String(HEAD), dataSets: { "701": set({}), "702": set({ providerId: "9", pdpEndEpoch: String(HEAD + 100) }) } });
    expect(await b.check(replica, dag)).toEqual({ state: "at_risk", message: `provider 9: data set 702 terminated (pdpEndEpoch ${HEAD + 100})` });

    await scenario({ head: String(HEAD), dataSets: { "701": set({ pieces: [] }), "702": set({ providerId: "9", live: false }) } });
    expect(await b.check(replica, dag)).toEqual({ state: "lost", message: "provider 4: piece 1 is no longer in data set 701; provider 9: data set 702 is no longer live" });

    await scenario({ head: String(HEAD), hang: ["701"], dataSets: { "701": set({}), "702": set({ providerId: "9" }) } });
    const err = (await b.check(replica, dag).catch((e: unknown) => e)) as BackendError;
    expect(err).toBeInstanceOf(BackendError);
    expect(err.kind).toBe("retryable");
  });

  it("retrievalUrls(): every provider's /piece URL; store() refuses a CAR below the minimum piece size without any request", async () => {
    const b = await backend();
    expect(b.retrievalUrls(replica)).toEqual(["https://sp4.example/piece/bafkzcibpiece", "https://sp9.example/piece/bafkzcibpiece"]);
    await scenario({});
    const out = await b
      .store({ ...dag, carSize: 100, meta: {}, gatewayUrl: "https://edge.test", account: "test-account", car: () => new ReadableStream() }, { checkpoint: async () => undefined, deadline: Date.now() + 10_000 })
      .catch((e: unknown) => e);
    expect(out).toMatchObject({ kind: "permanent", message: "a CAR of 100 bytes is below Filecoin's minimum piece (127 bytes)" });
    expect(((await (await fetch(`${base}/__log`)).json()) as { methods: string[] }).methods).toEqual([]);
  });
  it("remote ids: a stored replica's names its copies (piece CID, then data set:piece ids per provider) and reads back; an older id (the piece CID alone) or a malformed one names none", () => {
    const id = copyRemoteId("bafkzcibpiece", [{ dataSetId: "701", pieceIds: ["1", "2"] }, { dataSetId: "702", pieceIds: ["5", "6"] }]);
    expect(id).toBe("bafkzcibpiece@701:1,2+702:5,6");
    expect(parseRemoteId(id)).toEqual({ pieceCid: "bafkzcibpiece", copies: [{ dataSetId: "701", pieceIds: ["1", "2"] }, { dataSetId: "702", pieceIds: ["5", "6"] }] });
    expect(parseRemoteId("bafkzcibpiece")).toEqual({ pieceCid: "bafkzcibpiece", copies: [] });
    expect(parseRemoteId("bafkzcibpiece@701:1+702:x")).toEqual({ pieceCid: "bafkzcibpiece", copies: [] });
    expect(parseRemoteId("bafkzcibpiece@")).toEqual({ pieceCid: "bafkzcibpiece", copies: [] });
  });

  it("remove(): a terminated data set and one no longer live are left alone (read, nothing sent); an older record with neither details nor copies in its id asks nothing at all", async () => {
    const b = await backend();
    await scenario({ head: String(HEAD), dataSets: { "701": set({ pdpEndEpoch: String(HEAD + 100) }), "702": set({ providerId: "9", live: false }) } });
    await b.remove(replica);
    const log = (await (await fetch(`${base}/__log`)).json()) as { calls: string[]; transactions: unknown[] };
    expect(log.calls).toContain("getDataSet");
    expect(log.transactions).toEqual([]);

    await scenario({ head: String(HEAD), dataSets: { "701": set({}) } });
    await b.remove({ backend: "foc-test", remoteId: "bafkzcibpiece", details: {} });
    expect(((await (await fetch(`${base}/__log`)).json()) as { methods: string[] }).methods).toEqual([]);
  });
});
