import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, inject, it } from "vitest";
import { CarBlockIterator } from "@ipld/car";
import { filecoinWatch } from "../../src/cron/filecoin-watch";
import { pieceCidOfStream } from "../../src/backends/filecoin/piece-cid";
import type { RootStatusWithFilecoin } from "../../src/replication/filecoin-status";
import type { ProviderLog, Mode } from "../servers/pdp-provider-server";
import { call, pinJson, newAccount, pseudoRandomBytes, unixfsDag, putInR2 } from "../pinning/helpers";
import { makeDue, pinInR2, replicaOf, rootStatus, runUntil } from "../replication/helpers";
import { registryStub } from "../../src/durable-objects/pin-registry";
import { FOC_PAYER, FOC_SESSION_KEY, FOC_SESSION_KEY_ADDRESS } from "./foc-test-keys";

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
    expect(foc.remoteId).toBe(pieceCid);
    // Provider 2 pulled the piece from provider 1 (provider to provider), not from us.
    expect(log2.uploads).toEqual([]);
    expect(log2.pulls).toEqual([{ pieceCid, sourceUrl: `${p1.base}/piece/${pieceCid}`, result: "complete" }]);

    const copies = await copiesOf(a.token, cid);
    expect(copies.map((c) => c.providerId)).toEqual(["1", "2"]);
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
    }
    // The watch has every copy.
    const watched = await filecoinWatch(env).copies(cid);
    expect(watched.map((w) => [w.providerId, w.dataSetId, w.pieceId, w.pieceCid]).sort()).toEqual(copies.map((c) => [c.providerId, c.dataSetId, "0", pieceCid]));
    const psa = await pinJson(await call("GET", `/psa/pins/${requestid}`, { token: a.token }), 200);
    expect(psa.info.replicas).toBe("foc=stored r2=stored");
  }, 90_000);
});
