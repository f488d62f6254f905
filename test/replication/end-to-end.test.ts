import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { create as createS3 } from "../../src/backends/s3/s3-backend";
import { verifyReplicas } from "../../src/replication/verify-cron";
import { parseCar } from "../helpers/car";
import { call, newAccount, pseudoRandomBytes, unixfsDag } from "../pinning/helpers";
import { KUBO_TEST_BEARER } from "../servers/kubo-rpc-server";
import { S3_TEST_ACCESS_KEY_ID, S3_TEST_BUCKET, S3_TEST_SECRET_ACCESS_KEY } from "../servers/s3-server";
import { makeDue, pinInR2, replicaOf, rootStatus, runUntil } from "./helpers";

/**
 * Replication through the engine (PinRegistry alarm, policy, unified
 * status, verification cron, unpin) to the S3 and Kubo backends, against
 * the local S3 server (s3rver, SigV4 checked) and the local Kubo RPC node.
 * BACKENDS / REPLICATION_POLICY in vitest.config.ts: `meta.tier = s3` →
 * R2 + `archive-s3` (prefix `engine/`), `meta.tier = kubo` → R2 + `home-kubo`.
 */
const s3Base = inject("s3Base");
const kuboBase = inject("kuboBase");
const SIZE = 5000;

const stored = (token: string, cid: string) => async () => (await rootStatus(token, cid)).aggregate === "stored";

/** The DAG pinInR2 put in R2 for `seed` (same bytes, same chunking): what every copy must hold. */
async function dagOf(seed: number) {
  return unixfsDag(pseudoRandomBytes(SIZE, seed), 1000);
}

async function s3Object(key: string): Promise<{ status: number; bytes: Uint8Array }> {
  const res = await fetch(`${s3Base}/__storage/${S3_TEST_BUCKET}/${key}`);
  return { status: res.status, bytes: new Uint8Array(await res.arrayBuffer()) };
}

async function kuboPinned(cid: string): Promise<boolean> {
  const res = await fetch(`${kuboBase}/api/v0/pin/ls?arg=${cid}&type=recursive`, { method: "POST", headers: { Authorization: `Bearer ${KUBO_TEST_BEARER}` } });
  const body = (await res.json()) as { Keys?: Record<string, { Type: string }>; Message?: string };
  if (res.status === 200) return body.Keys?.[cid]?.Type === "recursive";
  expect(body.Message).toBe(`path '/ipfs/${cid}' is not pinned`);
  return false;
}

/** The verification cron until it scheduled at least one check (it visits replicating accounts in batches). */
async function verifyNow(): Promise<void> {
  let scheduled = 0;
  for (let i = 0; i < 20 && scheduled === 0; i++) scheduled += await verifyReplicas(env, { minAgeMs: 0, accounts: 1000 });
  expect(scheduled).toBeGreaterThanOrEqual(1);
}

describe("replication end to end: engine → S3 and Kubo backends (local servers)", () => {
  it("S3: the CAR lands in the bucket (exact blocks, metadata), a deleted object is found by the cron and stored again, unpin deletes it after the grace period", async () => {
    const { token, account } = await newAccount("e2e-s3");
    const { root, requestid } = await pinInR2(token, account, 1301, { tier: "s3" }, SIZE);
    const cid = root.toString();
    await runUntil(account, stored(token, cid), 15_000);

    const status = await rootStatus(token, cid);
    expect(status.plan).toEqual({ backends: ["r2", "archive-s3"], minCopies: 2, rule: "rules[4]", problems: [] });
    const key = `engine/${cid}.car`;
    const replica = replicaOf(status, "archive-s3");
    expect(replica).toMatchObject({ state: "stored", remoteId: key, bytes: status.carSize, details: { bucket: S3_TEST_BUCKET, key, bytes: status.carSize, parts: 1 } });
    expect(replica.log.map((l) => l.action)).toEqual(["planned", "store", "stored"]);

    // On the server: one CARv1 of exactly carSize bytes, root in the header, every block of the DAG once with its bytes.
    const dag = await dagOf(1301);
    const object = await s3Object(key);
    expect(object.status).toBe(200);
    expect(object.bytes.length).toBe(status.carSize);
    const car = await parseCar(object.bytes);
    expect(car.roots).toEqual([cid]);
    expect(car.blocks.map((b) => b.cid).sort()).toEqual(dag.blocks.map((b) => b.cid.toString()).sort());
    for (const block of dag.blocks) expect(car.blocks.find((b) => b.cid === block.cid.toString())!.bytes).toEqual(block.bytes);
    const meta = (await (await fetch(`${s3Base}/__metadata/${S3_TEST_BUCKET}/${key}`)).json()) as Record<string, string>;
    expect(meta["x-amz-meta-root-cid"]).toBe(cid);
    expect(meta["x-amz-meta-blocks"]).toBe(String(dag.blocks.length));

    // Deleted behind our back (another client with the bucket's keys).
    const other = await createS3({ name: "someone-else", settings: { type: "s3", endpoint: s3Base, bucket: S3_TEST_BUCKET, region: "us-east-1" }, secret: (f) => ({ ACCESS_KEY_ID: S3_TEST_ACCESS_KEY_ID, SECRET_ACCESS_KEY: S3_TEST_SECRET_ACCESS_KEY })[f], env });
    await other.remove({ backend: "someone-else", remoteId: key, details: {} });
    expect((await s3Object(key)).status).toBe(404);
    await verifyNow();
    await runUntil(account, async () => {
      const r = replicaOf(await rootStatus(token, cid), "archive-s3");
      return r.state === "stored" && r.log.some((l) => l.action === "lost");
    }, 15_000);
    const repaired = replicaOf(await rootStatus(token, cid), "archive-s3");
    expect(repaired.log.find((l) => l.action === "lost")!.message).toBe(`object ${key} is gone`);
    expect(repaired.log.map((l) => l.action).slice(-3)).toEqual(["lost", "store", "stored"]);
    expect(repaired.remoteId).toBe(key);
    // Stored again under the same key, and not removed as "the old copy" (same remote id).
    expect((await s3Object(key)).bytes).toEqual(object.bytes);

    // Unpin: removing, kept through the grace period, then deleted.
    expect((await call("DELETE", `/psa/pins/${requestid}`, { token })).status).toBe(202);
    const removing = replicaOf(await rootStatus(token, cid), "archive-s3");
    expect(removing.state).toBe("removing");
    expect(Date.parse(removing.removeAfter!) - Date.now()).toBeGreaterThan(3_590_000); // GC_GRACE_MS = 1 h
    expect((await s3Object(key)).status).toBe(200);
    for (const b of ["archive-s3", "r2"]) await makeDue(account, b);
    await runUntil(account, async () => (await call("GET", `/api/v1/pins/${cid}`, { token })).status === 404, 10_000);
    expect((await s3Object(key)).status).toBe(404);
  }, 60_000);

  it("Kubo: the node pins the root recursively and holds every block, an unpin behind our back is repaired by the cron, unpin removes the pin after the grace period", async () => {
    const { token, account } = await newAccount("e2e-kubo");
    const { root, requestid } = await pinInR2(token, account, 1302, { tier: "kubo" }, SIZE);
    const cid = root.toString();
    await runUntil(account, stored(token, cid), 15_000);

    const status = await rootStatus(token, cid);
    expect(status.plan).toEqual({ backends: ["r2", "home-kubo"], minCopies: 2, rule: "rules[3]", problems: [] });
    const replica = replicaOf(status, "home-kubo");
    expect(replica).toMatchObject({ state: "stored", remoteId: cid, bytes: status.carSize });

    // On the node: pinned recursively, every block held with its exact bytes.
    expect(await kuboPinned(cid)).toBe(true);
    const dag = await dagOf(1302);
    for (const block of dag.blocks) {
      const res = await fetch(`${kuboBase}/__blocks/${block.cid.toString()}`);
      expect(res.status).toBe(200);
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(block.bytes);
    }

    // Unpinned behind our back: the cron's check finds it, the engine imports and pins again.
    expect((await fetch(`${kuboBase}/__pins/${cid}`, { method: "DELETE" })).status).toBe(204);
    expect(await kuboPinned(cid)).toBe(false);
    await verifyNow();
    await runUntil(account, async () => {
      const r = replicaOf(await rootStatus(token, cid), "home-kubo");
      return r.state === "stored" && r.log.some((l) => l.action === "lost");
    }, 15_000);
    const repaired = replicaOf(await rootStatus(token, cid), "home-kubo");
    expect(repaired.log.find((l) => l.action === "lost")!.message).toBe(`the node does not pin ${cid}`);
    expect(repaired.log.map((l) => l.action).slice(-3)).toEqual(["lost", "store", "stored"]);
    expect(await kuboPinned(cid)).toBe(true);

    // Unpin: the node keeps the pin through the grace period, then pin/rm.
    expect((await call("DELETE", `/psa/pins/${requestid}`, { token })).status).toBe(202);
    expect(replicaOf(await rootStatus(token, cid), "home-kubo").state).toBe("removing");
    expect(await kuboPinned(cid)).toBe(true);
    for (const b of ["home-kubo", "r2"]) await makeDue(account, b);
    await runUntil(account, async () => (await call("GET", `/api/v1/pins/${cid}`, { token })).status === 404, 10_000);
    expect(await kuboPinned(cid)).toBe(false);
  }, 60_000);
});
