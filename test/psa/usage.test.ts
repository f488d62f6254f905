/**
 * What `usage.bytes` counts (docs/pinning.md "Operator API"): the sum over
 * the account's distinct complete roots of each root's DAG size (distinct
 * blocks of that DAG). A root pinned twice counts once; a block shared by two
 * roots counts once per root. Every byte quota uses the same number.
 */
import { env } from "cloudflare:workers";
import * as dagCbor from "@ipld/dag-cbor";
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import { describe, expect, it } from "vitest";
import { registryStub } from "../../src/durable-objects/pin-registry";
import { ADMIN, call, expectFailure, newAccount, pinJson, pseudoRandomBytes, putInR2, settle, unixfsDag } from "../pinning/helpers";

type Usage = { limits: { maxBytes: number }; usage: { pins: number; bytes: number } };

async function usageOf(account: string): Promise<Usage["usage"]> {
  const res = await call("GET", `/api/v1/accounts/${account}/limits`, { token: ADMIN });
  expect(res.status).toBe(200);
  return ((await res.json()) as Usage).usage;
}

describe("usage.bytes and the byte quota", () => {
  it("a root pinned twice counts once; a DAG inside another root counts once per root; a duplicate block inside one DAG once", async () => {
    const { token, account } = await newAccount("usage");
    const file = await unixfsDag(pseudoRandomBytes(3000, 81), 1024); // 3 raw leaves + a dag-pb root
    const fileSize = file.blocks.reduce((n, b) => n + b.bytes.length, 0);
    // A dag-cbor root that links to the file twice: its DAG is itself plus the file's blocks, once.
    const wrapperBytes = dagCbor.encode({ a: file.root, b: file.root, note: "wrapper" });
    const wrapper = CID.createV1(dagCbor.code, await sha256.digest(wrapperBytes));
    await putInR2([...file.blocks, { cid: wrapper, bytes: wrapperBytes }]);

    const p1 = await pinJson(await call("POST", "/psa/pins", { token, body: { cid: file.root.toString() } }));
    await settle(account);
    const p2 = await pinJson(await call("POST", "/psa/pins", { token, body: { cid: file.root.toString(), name: "again" } }));
    expect(p2.status).toBe("pinned");
    expect(await usageOf(account)).toEqual({ pins: 2, bytes: fileSize });

    const p3 = await pinJson(await call("POST", "/psa/pins", { token, body: { cid: wrapper.toString() } }));
    await settle(account);
    const wrapped = await pinJson(await call("GET", `/psa/pins/${p3.requestid}`, { token }), 200);
    expect(wrapped.status).toBe("pinned");
    expect(wrapped.info.dag_size).toBe(String(wrapperBytes.length + fileSize));
    // The file's blocks are charged to both roots.
    expect(await usageOf(account)).toEqual({ pins: 3, bytes: fileSize + wrapperBytes.length + fileSize });

    // Dropping one pin of the file changes nothing; dropping the other removes its root's charge only.
    expect((await call("DELETE", `/psa/pins/${p1.requestid}`, { token })).status).toBe(202);
    expect((await usageOf(account)).bytes).toBe(2 * fileSize + wrapperBytes.length);
    expect((await call("DELETE", `/psa/pins/${p2.requestid}`, { token })).status).toBe(202);
    expect(await usageOf(account)).toEqual({ pins: 1, bytes: wrapperBytes.length + fileSize });
  });

  it("the byte quota is checked against that number: at maxBytes the next pin is 409, and uploads get 409 too", async () => {
    const { token, account } = await newAccount("usage-quota");
    const file = await unixfsDag(pseudoRandomBytes(2000, 82), 1024);
    const fileSize = file.blocks.reduce((n, b) => n + b.bytes.length, 0);
    await putInR2(file.blocks);
    await pinJson(await call("POST", "/psa/pins", { token, body: { cid: file.root.toString() } }));
    await settle(account);
    await registryStub(env, account).setLimits({ maxBytes: fileSize });
    const details = await expectFailure(await call("POST", "/psa/pins", { token, body: { cid: "bafkqaaa" } }), 409, "INSUFFICIENT_FUNDS");
    expect(details).toBe(`storage quota of this account reached (${fileSize} bytes)`);
    const upload = await call("POST", "/api/v1/upload", { token, body: new TextEncoder().encode("one more byte") });
    expect(upload.status).toBe(409);
    // One byte more room: the upload fits only if it is at most that big.
    await registryStub(env, account).setLimits({ maxBytes: fileSize + 13 });
    expect((await call("POST", "/api/v1/upload", { token, body: new TextEncoder().encode("one more byte") })).status).toBe(201);
    expect((await usageOf(account)).bytes).toBe(fileSize + 13);
  });
});
