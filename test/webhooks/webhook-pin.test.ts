import { env } from "cloudflare:workers";
import { base64 } from "multiformats/bases/base64";
import { beforeAll, describe, expect, it } from "vitest";
import { registryStub } from "../../src/durable-objects/pin-registry";
import { hmacSha256 } from "../../src/webhooks/signature";
import { importFile } from "../helpers/upstream";
import { ADMIN, call, expectFailure, identityCid, newAccount, pinJson, pseudoRandomBytes, settle, type PinStatusJson } from "../pinning/helpers";

const SECRET_A = "whsec_" + base64.baseEncode(new TextEncoder().encode("first secret of thirty-two bytes"));
const SECRET_B = "whsec_" + base64.baseEncode(new TextEncoder().encode("rotated secret, thirty-two bytes"));
const GITHUB_SECRET = "github-shared-secret-value";

let account: string;
let token: string;

beforeAll(async () => {
  ({ account, token } = await newAccount("webhooks"));
  const res = await call("PUT", `/api/v1/accounts/${account}/webhook-secrets`, { token: ADMIN, body: { secrets: [SECRET_A, SECRET_B, GITHUB_SECRET] } });
  expect(res.status).toBe(204);
});

async function standardSignature(secret: string, id: string, ts: number, body: string): Promise<string> {
  const key = base64.baseDecode(secret.slice("whsec_".length));
  return "v1," + base64.baseEncode(await hmacSha256(key, new TextEncoder().encode(`${id}.${ts}.${body}`)));
}

async function send(body: string, headers: Record<string, string>, acct = account): Promise<Response> {
  return call("POST", `/webhooks/pin?account=${acct}`, { body, headers: { "Content-Type": "application/json", ...headers } });
}

async function signed(payload: unknown, opts: { id?: string; ts?: number; secret?: string; extraSig?: string } = {}): Promise<Response> {
  const body = JSON.stringify(payload);
  const id = opts.id ?? `msg_${crypto.randomUUID()}`;
  const ts = opts.ts ?? Math.floor(Date.now() / 1000);
  const sig = await standardSignature(opts.secret ?? SECRET_A, id, ts, body);
  return send(body, { "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": opts.extraSig ? `${opts.extraSig} ${sig}` : sig });
}

async function pinCount(): Promise<number> {
  return (await registryStub(env, account).usage()).pins;
}

describe("POST /webhooks/pin (Standard Webhooks)", () => {
  it("a signed payload creates a pin that gets pinned from the upstream", async () => {
    const dag = await importFile(pseudoRandomBytes(3000, 41), { chunkSize: 1024 });
    const res = await signed({ cid: dag.cid.toString(), name: "ci-build", meta: { repo: "x/y" } });
    const pin = await pinJson(res, 202);
    expect(pin.pin).toEqual({ cid: dag.cid.toString(), name: "ci-build", meta: { repo: "x/y" }, origins: [] });
    await settle(account);
    expect((await pinJson(await call("GET", `/psa/pins/${pin.requestid}`, { token }), 200)).status).toBe("pinned");
  });

  it("a replayed webhook-id answers 200 with the original pin and creates nothing", async () => {
    const id = `msg_${crypto.randomUUID()}`;
    const first = await pinJson(await signed({ cid: identityCid("replay").toString() }, { id }), 202);
    const before = await pinCount();
    const again = await pinJson(await signed({ cid: identityCid("replay").toString() }, { id }), 200);
    expect(again.requestid).toBe(first.requestid);
    expect(await pinCount()).toBe(before);
  });

  it("a replay answers what the first delivery answered, even after the pin was pinned and then deleted", async () => {
    const id = `msg_${crypto.randomUUID()}`;
    const dag = await importFile(pseudoRandomBytes(2000, 42), { chunkSize: 1024 });
    const payload = { cid: dag.cid.toString(), name: "replay-after-delete", meta: { run: "7" } };
    const firstRes = await signed(payload, { id });
    expect(firstRes.status).toBe(202);
    const firstBody = await firstRes.text();
    const first = JSON.parse(firstBody) as PinStatusJson;
    expect(first.status).toBe("queued");
    await settle(account);
    expect((await pinJson(await call("GET", `/psa/pins/${first.requestid}`, { token }), 200)).status).toBe("pinned");
    expect((await call("DELETE", `/psa/pins/${first.requestid}`, { token })).status).toBe(202);
    await expectFailure(await call("GET", `/psa/pins/${first.requestid}`, { token }), 404, "NOT_FOUND");

    const before = await pinCount();
    const replay = await signed(payload, { id });
    expect(replay.status).toBe(200);
    expect(replay.headers.get("Content-Type")).toBe("application/json");
    expect(await replay.text()).toBe(firstBody);
    expect(await pinCount()).toBe(before); // nothing re-created
    await expectFailure(await call("GET", `/psa/pins/${first.requestid}`, { token }), 404, "NOT_FOUND");
  });

  it("secret rotation: any configured secret, and any of several signatures, may match", async () => {
    await pinJson(await signed({ cid: identityCid("rot1").toString() }, { secret: SECRET_B }), 202);
    await pinJson(await signed({ cid: identityCid("rot2").toString() }, { extraSig: "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" }), 202);
  });

  it("rejects bad, missing or stale signatures with 401 and pins nothing", async () => {
    const before = await pinCount();
    const payload = JSON.stringify({ cid: identityCid("nope").toString() });
    const now = Math.floor(Date.now() / 1000);
    const good = await standardSignature(SECRET_A, "msg_1", now, payload);
    const wrongSecret = await standardSignature("whsec_" + base64.baseEncode(new TextEncoder().encode("some other secret entirely.....")), "msg_1", now, payload);
    const cases: Record<string, string>[] = [
      {},
      { "webhook-id": "msg_1", "webhook-timestamp": String(now) },
      { "webhook-id": "msg_1", "webhook-timestamp": String(now), "webhook-signature": wrongSecret },
      { "webhook-id": "msg_1", "webhook-timestamp": String(now), "webhook-signature": good.replace("v1,", "v2,") },
      { "webhook-id": "msg_2", "webhook-timestamp": String(now), "webhook-signature": good },
      { "webhook-id": "msg_1", "webhook-timestamp": "yesterday", "webhook-signature": good },
    ];
    for (const headers of cases) await expectFailure(await send(payload, headers), 401, "UNAUTHORIZED");
    // The body is part of what is signed.
    await expectFailure(await send(payload.replace("}", ', "name": "x"}'), { "webhook-id": "msg_1", "webhook-timestamp": String(now), "webhook-signature": good }), 401, "UNAUTHORIZED");
    // ±5 minutes (timestamps taken at each call: a loaded machine may take seconds to get here).
    const fresh = () => Math.floor(Date.now() / 1000);
    await expectFailure(await signed({ cid: "bafkqaaa" }, { ts: fresh() - 302 }), 401, "UNAUTHORIZED");
    await expectFailure(await signed({ cid: "bafkqaaa" }, { ts: fresh() + 305 }), 401, "UNAUTHORIZED");
    await pinJson(await signed({ cid: identityCid("edge").toString() }, { ts: fresh() - 290 }), 202);
    expect(await pinCount()).toBe(before + 1);
  });

  it("unknown accounts and accounts without secrets are 401", async () => {
    const other = await newAccount("no-secrets");
    const body = JSON.stringify({ cid: "bafkqaaa" });
    const now = Math.floor(Date.now() / 1000);
    const sig = await standardSignature(SECRET_A, "m", now, body);
    const headers = { "webhook-id": "m", "webhook-timestamp": String(now), "webhook-signature": sig };
    await expectFailure(await send(body, headers, other.account), 401, "UNAUTHORIZED");
    await expectFailure(await send(body, headers, "acc_000000000000000000000000"), 401, "UNAUTHORIZED");
    await expectFailure(await send(body, headers, "nobody"), 401, "UNAUTHORIZED");
  });

  it("a validly signed but malformed payload is 400", async () => {
    await expectFailure(await signed("not an object"), 400, "BAD_REQUEST");
    await expectFailure(await signed({ name: "no cid" }), 400, "BAD_REQUEST");
    await expectFailure(await signed({ cid: "bafy-not-a-cid" }), 400, "BAD_REQUEST");
    await expectFailure(await signed({ cid: "bafkqaaa", meta: { n: 1 } }), 400, "BAD_REQUEST");
    const body = "{broken";
    const now = Math.floor(Date.now() / 1000);
    const sig = await standardSignature(SECRET_A, "m-broken", now, body);
    await expectFailure(await send(body, { "webhook-id": "m-broken", "webhook-timestamp": String(now), "webhook-signature": sig }), 400, "BAD_REQUEST");
  });
});

describe("POST /webhooks/pin (GitHub X-Hub-Signature-256)", () => {
  async function github(body: string, secret = GITHUB_SECRET, delivery?: string): Promise<Response> {
    // Computed with WebCrypto directly, not with the code under test.
    const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(body)));
    const hex = Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
    return send(body, { "X-Hub-Signature-256": `sha256=${hex}`, ...(delivery ? { "X-GitHub-Delivery": delivery } : {}) });
  }

  it("valid signature pins; a redelivery is idempotent", async () => {
    const body = JSON.stringify({ cid: identityCid("gh").toString(), name: "gh" });
    const delivery = crypto.randomUUID();
    const first = await pinJson(await github(body, GITHUB_SECRET, delivery), 202);
    const again = await pinJson(await github(body, GITHUB_SECRET, delivery), 200);
    expect(again.requestid).toBe(first.requestid);
  });

  it("GitHub's published test vector gets past the signature check (then 400: its payload is not JSON); one digit off is 401", async () => {
    // docs.github.com "Validating webhook deliveries": secret "It's a Secret to Everybody", payload "Hello, World!".
    const { account: acct } = await newAccount("github-vector");
    const put = await call("PUT", `/api/v1/accounts/${acct}/webhook-secrets`, { token: ADMIN, body: { secrets: ["It's a Secret to Everybody"] } });
    expect(put.status).toBe(204);
    const signature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    const details = await expectFailure(await send("Hello, World!", { "X-Hub-Signature-256": signature }, acct), 400, "BAD_REQUEST");
    expect(details).toBe("payload is not valid JSON");
    const rejected = await expectFailure(await send("Hello, World!", { "X-Hub-Signature-256": signature.slice(0, -1) + "f" }, acct), 401, "UNAUTHORIZED");
    expect(rejected).toBe("webhook signature rejected: no valid signature");
  });

  it("wrong secret or malformed header is 401", async () => {
    const body = JSON.stringify({ cid: "bafkqaaa" });
    await expectFailure(await github(body, "not-the-secret-at-all"), 401, "UNAUTHORIZED");
    await expectFailure(await send(body, { "X-Hub-Signature-256": "sha1=abc" }), 401, "UNAUTHORIZED");
  });
});

describe("operator: webhook secrets", () => {
  it("needs the operator token and sane secrets", async () => {
    const path = `/api/v1/accounts/${account}/webhook-secrets`;
    expect((await call("PUT", path, { token, body: { secrets: [SECRET_A] } })).status).toBe(401);
    expect((await call("PUT", path, { token: ADMIN, body: { secrets: ["short"] } })).status).toBe(400);
    expect((await call("PUT", path, { token: ADMIN, body: { secrets: "x" } })).status).toBe(400);
    expect((await call("PUT", "/api/v1/accounts/acc_nope/webhook-secrets", { token: ADMIN, body: { secrets: [SECRET_A] } })).status).toBe(404);
  });
});
