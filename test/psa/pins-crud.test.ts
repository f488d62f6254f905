import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { registryStub } from "../../src/durable-objects/pin-registry";
import { call, expectFailure, identityCid, newAccount, pinJson, pseudoRandomBytes, putInR2, settle, unixfsDag } from "../pinning/helpers";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("PSA POST/GET/DELETE /pins/{requestid}", () => {
  it("POST answers 202 PinStatus queued; the alarm pins a DAG already in R2; GET shows pinned with dag_size", async () => {
    const { token, account } = await newAccount();
    const dag = await unixfsDag(pseudoRandomBytes(5000, 7), 1024);
    await putInR2(dag.blocks);
    const total = dag.blocks.reduce((n, b) => n + b.bytes.length, 0);
    const created = await pinJson(
      await call("POST", "/psa/pins", { token, body: { cid: dag.root.toString(), name: "file.bin", meta: { app: "x" }, origins: ["/ip4/127.0.0.1/tcp/1/http"] } }),
    );
    expect(created.requestid).toMatch(UUID);
    expect(created.status).toBe("queued");
    expect(created.created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(created.pin).toEqual({ cid: dag.root.toString(), name: "file.bin", meta: { app: "x" }, origins: ["/ip4/127.0.0.1/tcp/1/http"] });
    expect(created.delegates).toHaveLength(1);
    expect(created.delegates[0]).toMatch(/^\/dns\/edge\.test\/tcp\/80\/http\/p2p\/12D3KooW[1-9A-HJ-NP-Za-km-z]{44}$/);

    await settle(account);
    const got = await pinJson(await call("GET", `/psa/pins/${created.requestid}`, { token }), 200);
    expect(got.status).toBe("pinned");
    expect(got.created).toBe(created.created);
    expect(got.info.dag_size).toBe(String(total));
    expect(got.info.attempt_count).toBe("1");
    expect(got.delegates).toEqual(created.delegates);
  });

  it("a CID whose root is already held by the account is pinned at once", async () => {
    const { token, account } = await newAccount();
    const cid = identityCid("held");
    await pinJson(await call("POST", "/psa/pins", { token, body: { cid: cid.toString() } }));
    await settle(account);
    const second = await pinJson(await call("POST", "/psa/pins", { token, body: { cid: cid.toString() } }));
    expect(second.status).toBe("pinned");
  });

  it("DELETE answers 202 with no body, then the pin is 404; unknown ids are 404 with the spec body", async () => {
    const { token } = await newAccount();
    const created = await pinJson(await call("POST", "/psa/pins", { token, body: { cid: identityCid("del").toString() } }));
    const del = await call("DELETE", `/psa/pins/${created.requestid}`, { token });
    expect(del.status).toBe(202);
    expect(await del.text()).toBe("");
    await expectFailure(await call("GET", `/psa/pins/${created.requestid}`, { token }), 404, "NOT_FOUND");
    await expectFailure(await call("DELETE", `/psa/pins/${created.requestid}`, { token }), 404, "NOT_FOUND");
    await expectFailure(await call("GET", "/psa/pins/not-a-pin", { token }), 404, "NOT_FOUND");
    await expectFailure(await call("GET", "/psa/nothing-here", { token }), 404, "NOT_FOUND");
  });

  it("replace gives a new requestid and deletes the old pin at once", async () => {
    const { token, account } = await newAccount();
    const old = await pinJson(await call("POST", "/psa/pins", { token, body: { cid: identityCid("v1").toString(), name: "site" } }));
    await settle(account);
    const dag = await unixfsDag(pseudoRandomBytes(3000, 3), 1024);
    await putInR2(dag.blocks);
    const next = await pinJson(await call("POST", `/psa/pins/${old.requestid}`, { token, body: { cid: dag.root.toString(), name: "site" } }));
    expect(next.requestid).not.toBe(old.requestid);
    expect(next.status).toBe("queued");
    // Spec: "The old pin object is deleted automatically" — at once, before the new one is pinned.
    await expectFailure(await call("GET", `/psa/pins/${old.requestid}`, { token }), 404, "NOT_FOUND");
    await settle(account);
    expect((await pinJson(await call("GET", `/psa/pins/${next.requestid}`, { token }), 200)).status).toBe("pinned");
    await expectFailure(await call("GET", `/psa/pins/${old.requestid}`, { token }), 404, "NOT_FOUND");
    await expectFailure(await call("POST", `/psa/pins/${old.requestid}`, { token, body: { cid: dag.root.toString() } }), 404, "NOT_FOUND");
  });

  it("replace with an already-held root removes the old pin at once", async () => {
    const { token, account } = await newAccount();
    const cid = identityCid("same").toString();
    const old = await pinJson(await call("POST", "/psa/pins", { token, body: { cid } }));
    await settle(account);
    const next = await pinJson(await call("POST", `/psa/pins/${old.requestid}`, { token, body: { cid, name: "renamed" } }));
    expect(next.status).toBe("pinned");
    expect(next.pin.name).toBe("renamed");
    expect((await call("GET", `/psa/pins/${old.requestid}`, { token })).status).toBe(404);
  });

  it("rejects bad input with 400 BAD_REQUEST, never 500", async () => {
    const { token } = await newAccount();
    const post = (body: unknown) => call("POST", "/psa/pins", { token, body });
    await expectFailure(await post("{oops"), 400, "BAD_REQUEST");
    await expectFailure(await post([]), 400, "BAD_REQUEST");
    await expectFailure(await post({}), 400, "BAD_REQUEST");
    await expectFailure(await post({ cid: "not-a-cid" }), 400, "BAD_REQUEST");
    await expectFailure(await post({ cid: "bafy" }), 400, "BAD_REQUEST");
    await expectFailure(await post({ cid: 42 }), 400, "BAD_REQUEST");
    await expectFailure(await post({ cid: "bafkqaaa", name: "n".repeat(256) }), 400, "BAD_REQUEST");
    await expectFailure(await post({ cid: "bafkqaaa", name: 5 }), 400, "BAD_REQUEST");
    await expectFailure(await post({ cid: "bafkqaaa", meta: { a: 1 } }), 400, "BAD_REQUEST");
    await expectFailure(await post({ cid: "bafkqaaa", meta: "x" }), 400, "BAD_REQUEST");
    await expectFailure(await post({ cid: "bafkqaaa", meta: { big: "v".repeat(5000) } }), 400, "BAD_REQUEST");
    await expectFailure(await post({ cid: "bafkqaaa", origins: "x" }), 400, "BAD_REQUEST");
    await expectFailure(await post({ cid: "bafkqaaa", origins: Array.from({ length: 21 }, (_, i) => `/ip4/1.2.3.${i}/tcp/1`) }), 400, "BAD_REQUEST");
    await expectFailure(await post({ cid: "bafkqaaa", origins: ["/a", "/a"] }), 400, "BAD_REQUEST");
    await expectFailure(await post({ cid: "bafkqaaa", meta: Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`k${i}`, "v"])) }), 400, "BAD_REQUEST");
    // A 255-character name and CIDv0 are fine.
    const ok = await pinJson(await post({ cid: "QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR", name: "n".repeat(255) }));
    expect(ok.pin.cid).toBe("QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR");
  });

  it("accounts are isolated: another account cannot list, get, replace or delete a pin", async () => {
    const a = await newAccount("a");
    const b = await newAccount("b");
    const pin = await pinJson(await call("POST", "/psa/pins", { token: a.token, body: { cid: identityCid("mine").toString(), name: "mine" } }));
    await settle(a.account);
    const listB = (await (await call("GET", "/psa/pins?status=queued,pinning,pinned,failed", { token: b.token })).json()) as { count: number };
    expect(listB.count).toBe(0);
    await expectFailure(await call("GET", `/psa/pins/${pin.requestid}`, { token: b.token }), 404, "NOT_FOUND");
    await expectFailure(await call("DELETE", `/psa/pins/${pin.requestid}`, { token: b.token }), 404, "NOT_FOUND");
    await expectFailure(await call("POST", `/psa/pins/${pin.requestid}`, { token: b.token, body: { cid: "bafkqaaa" } }), 404, "NOT_FOUND");
    expect((await pinJson(await call("GET", `/psa/pins/${pin.requestid}`, { token: a.token }), 200)).status).toBe("pinned");
  });

  it("quota on pins: the next POST is 409 INSUFFICIENT_FUNDS", async () => {
    const { token, account } = await newAccount();
    await registryStub(env, account).setLimits({ maxPins: 2 });
    await pinJson(await call("POST", "/psa/pins", { token, body: { cid: identityCid("q1").toString() } }));
    await pinJson(await call("POST", "/psa/pins", { token, body: { cid: identityCid("q2").toString() } }));
    const details = await expectFailure(await call("POST", "/psa/pins", { token, body: { cid: identityCid("q3").toString() } }), 409, "INSUFFICIENT_FUNDS");
    expect(details).toBe("pin quota of this account reached (2 pins)");
  });
});
