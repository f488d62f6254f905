import { env } from "cloudflare:workers";
import { listDurableObjectIds } from "cloudflare:test";
import { base64url } from "multiformats/bases/base64";
import { describe, expect, it } from "vitest";
import { ADMIN, call, expectFailure, newAccount } from "../pinning/helpers";

/**
 * Nothing an anonymous or forged request sends may create state: an unknown
 * token is refused after one look-up of its hash in `Accounts`, before any
 * per-account PinRegistry object is reached (src/accounts/auth.ts).
 */

function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A well-formed token (`ike_<24 hex>.<43 base64url>`) naming a random account nobody minted. */
function forgedToken(): { token: string; account: string } {
  const hex = randomHex(12);
  return { token: `ike_${hex}.${base64url.baseEncode(crypto.getRandomValues(new Uint8Array(32)))}`, account: `acc_${hex}` };
}

async function registryIds(): Promise<Set<string>> {
  return new Set((await listDurableObjectIds(env.PIN_REGISTRY)).map((id) => id.toString()));
}

describe("forged and unknown tokens create no state", () => {
  it("a stream of forged tokens (PSA list, create, replace, delete, upload) is refused with 401 and creates no PinRegistry object", async () => {
    // A real account first, so the namespace is not empty and the listing is known to see objects.
    const real = await newAccount("real");
    expect((await call("GET", "/psa/pins", { token: real.token })).status).toBe(200);
    const realId = env.PIN_REGISTRY.idFromName(real.account).toString();
    expect((await registryIds()).has(realId)).toBe(true);

    const forged = Array.from({ length: 12 }, forgedToken);
    for (const [i, { token }] of forged.entries()) {
      const requests = [
        call("GET", "/psa/pins", { token }),
        call("POST", "/psa/pins", { token, body: { cid: "bafkqaaa", name: `f${i}` } }),
        call("GET", `/psa/pins/${crypto.randomUUID()}`, { token }),
        call("POST", `/psa/pins/${crypto.randomUUID()}`, { token, body: { cid: "bafkqaaa" } }),
        call("DELETE", `/psa/pins/${crypto.randomUUID()}`, { token }),
      ];
      for (const res of await Promise.all(requests)) {
        expect(await expectFailure(res, 401, "UNAUTHORIZED")).toBe("Access token is missing or invalid");
        expect(res.headers.get("WWW-Authenticate")).toBe("Bearer");
      }
      const upload = await call("POST", "/api/v1/upload", { token, body: new TextEncoder().encode("hello") });
      expect(upload.status).toBe(401);
    }
    // The same forged token again (now answered from the isolate's cache) is still refused.
    await expectFailure(await call("GET", "/psa/pins", { token: forged[0]!.token }), 401, "UNAUTHORIZED");

    const ids = await registryIds();
    for (const { account } of forged) expect(ids.has(env.PIN_REGISTRY.idFromName(account).toString())).toBe(false);
  });

  it("a forged token naming a real account (wrong secret part) is refused, and the account keeps working", async () => {
    const real = await newAccount("victim");
    const forged = `ike_${real.account.slice(4)}.${base64url.baseEncode(crypto.getRandomValues(new Uint8Array(32)))}`;
    await expectFailure(await call("GET", "/psa/pins", { token: forged }), 401, "UNAUTHORIZED");
    expect((await call("GET", "/psa/pins", { token: real.token })).status).toBe(200);
  });

  it("a revoked token is refused on its very next request although its hash is cached as known in this isolate", async () => {
    const user = await newAccount("revoked");
    expect((await call("GET", "/psa/pins", { token: user.token })).status).toBe(200); // cached: known, of user.account
    expect((await call("DELETE", `/api/v1/tokens/${user.id}`, { token: ADMIN })).status).toBe(204);
    await expectFailure(await call("GET", "/psa/pins", { token: user.token }), 401, "UNAUTHORIZED");
  });

  it("the PSA list checks the token and lists in one PinRegistry call: a revoked token is refused on its next list, also with a bad filter, and on every other route", async () => {
    const user = await newAccount("revoked-list");
    const pin = await call("POST", "/psa/pins", { token: user.token, body: { cid: "bafkqaaa", name: "kept" } });
    expect(pin.status).toBe(202);
    const listed = await call("GET", "/psa/pins?name=kept&status=queued,pinning,pinned,failed", { token: user.token });
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as { count: number }).count).toBe(1);
    // A valid token with a bad filter: the filter's 400.
    expect(await expectFailure(await call("GET", "/psa/pins?limit=0", { token: user.token }), 400, "BAD_REQUEST")).toMatch(/limit/);
    expect((await call("DELETE", `/api/v1/tokens/${user.id}`, { token: ADMIN })).status).toBe(204);
    for (const path of ["/psa/pins", "/psa/pins?name=kept", "/psa/pins?limit=0", "/psa/pins?status=nonsense"]) {
      const res = await call("GET", path, { token: user.token });
      expect(await expectFailure(res, 401, "UNAUTHORIZED")).toBe("Access token is missing or invalid");
      expect(res.headers.get("WWW-Authenticate")).toBe("Bearer");
    }
    await expectFailure(await call("POST", "/psa/pins", { token: user.token, body: { cid: "bafkqaaa" } }), 401, "UNAUTHORIZED");
    await expectFailure(await call("GET", `/psa/pins/${crypto.randomUUID()}`, { token: user.token }), 401, "UNAUTHORIZED");
    await expectFailure(await call("GET", "/psa/nothing-here", { token: user.token }), 401, "UNAUTHORIZED");
    // The account's pin is still there for the operator's view: nothing was lost.
    const stub = env.PIN_REGISTRY.get(env.PIN_REGISTRY.idFromName(user.account));
    expect((await stub.listPins({ match: "exact", status: ["queued", "pinning", "pinned", "failed"], limit: 10, name: "kept" })).count).toBe(1);
  });

  it("a webhook for an account nobody created is 401 and creates no PinRegistry object", async () => {
    const accounts = Array.from({ length: 5 }, () => `acc_${randomHex(12)}`);
    for (const account of accounts) {
      const res = await call("POST", `/webhooks/pin?account=${account}`, {
        body: JSON.stringify({ cid: "bafkqaaa" }),
        headers: { "Content-Type": "application/json", "X-Hub-Signature-256": `sha256=${"0".repeat(64)}` },
      });
      expect(await expectFailure(res, 401, "UNAUTHORIZED")).toBe("webhook signature rejected: unknown account");
    }
    const ids = await registryIds();
    for (const account of accounts) expect(ids.has(env.PIN_REGISTRY.idFromName(account).toString())).toBe(false);
  });
});
