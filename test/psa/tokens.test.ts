import { describe, expect, it } from "vitest";
import { ADMIN, call, expectFailure, newAccount } from "../pinning/helpers";

describe("operator tokens (/api/v1/tokens)", () => {
  it("mints a token bound to a new account, shown once, listed without the secret", async () => {
    const minted = await newAccount("laptop");
    expect(minted.token).toMatch(/^ike_[0-9a-f]{24}\.[A-Za-z0-9_-]{43}$/);
    expect(minted.account).toMatch(/^acc_[0-9a-f]{24}$/);
    expect(minted.token.slice(4, 28)).toBe(minted.account.slice(4));
    expect(Object.keys(minted).sort()).toEqual(["account", "created", "id", "name", "token"]);
    const list = await call("GET", `/api/v1/tokens?account=${minted.account}`, { token: ADMIN });
    expect(list.status).toBe(200);
    const body = (await list.json()) as { tokens: Record<string, string>[] };
    expect(body.tokens).toHaveLength(1);
    expect(body.tokens[0]).toEqual({ id: minted.id, account: minted.account, name: "laptop", created: expect.any(String) });
    expect(JSON.stringify(body)).not.toContain(minted.token);
  });

  it("adds a second device token to an existing account; unknown account is 404", async () => {
    const first = await newAccount("a");
    const res = await call("POST", "/api/v1/tokens", { token: ADMIN, body: { name: "b", account: first.account } });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { account: string }).account).toBe(first.account);
    const bad = await call("POST", "/api/v1/tokens", { token: ADMIN, body: { name: "b", account: "acc_nope" } });
    expect(bad.status).toBe(404);
  });

  it("refuses without the operator token, or with an API token", async () => {
    expect((await call("POST", "/api/v1/tokens", { body: { name: "x" } })).status).toBe(401);
    expect((await call("POST", "/api/v1/tokens", { token: "wrong", body: { name: "x" } })).status).toBe(401);
    const user = await newAccount();
    expect((await call("GET", "/api/v1/tokens", { token: user.token })).status).toBe(401);
  });

  it("rejects bad bodies with 400", async () => {
    expect((await call("POST", "/api/v1/tokens", { token: ADMIN, body: "{not json" })).status).toBe(400);
    expect((await call("POST", "/api/v1/tokens", { token: ADMIN, body: { name: 5 } })).status).toBe(400);
    expect((await call("POST", "/api/v1/tokens", { token: ADMIN, body: [] })).status).toBe(400);
  });

  it("a revoked token gets 401 on its next PSA request", async () => {
    const user = await newAccount();
    expect((await call("GET", "/psa/pins", { token: user.token })).status).toBe(200);
    expect((await call("DELETE", `/api/v1/tokens/${user.id}`, { token: ADMIN })).status).toBe(204);
    await expectFailure(await call("GET", "/psa/pins", { token: user.token }), 401, "UNAUTHORIZED");
    expect((await call("DELETE", `/api/v1/tokens/${user.id}`, { token: ADMIN })).status).toBe(404);
  });

  it("a token whose account part is changed to another account's is refused", async () => {
    const a = await newAccount("a");
    const b = await newAccount("b");
    const forged = `ike_${b.account.slice(4)}${a.token.slice(28)}`;
    await expectFailure(await call("GET", "/psa/pins", { token: forged }), 401, "UNAUTHORIZED");
    expect((await call("GET", "/psa/pins", { token: a.token })).status).toBe(200);
  });

  it("PSA without a token, with a malformed header or an unknown token: 401 with the spec's body", async () => {
    const details = await expectFailure(await call("GET", "/psa/pins"), 401, "UNAUTHORIZED");
    expect(details).toBe("Access token is missing or invalid");
    await expectFailure(await call("GET", "/psa/pins", { headers: { Authorization: "Basic abc" } }), 401, "UNAUTHORIZED");
    await expectFailure(await call("GET", "/psa/pins", { token: "ike_unknown" }), 401, "UNAUTHORIZED");
    await expectFailure(await call("POST", "/psa/pins", { token: ADMIN, body: { cid: "bafkqaaa" } }), 401, "UNAUTHORIZED");
  });
});
