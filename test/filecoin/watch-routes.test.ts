import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { filecoinWatch } from "../../src/cron/filecoin-watch";
import { ADMIN, call } from "../pinning/helpers";

const ROOT = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";

async function errorOf(res: Response): Promise<{ status: number; text: string }> {
  return { status: res.status, text: await res.text() };
}

describe("Filecoin watch operator API", () => {
  it("refuses requests without the operator token, and creates nothing", async () => {
    const res = await call("POST", "/api/v1/filecoin/deals", { body: JSON.stringify({ root: ROOT, dealId: 77 }), headers: { "Content-Type": "application/json" } });
    expect(res.status).toBe(401);
    await res.body?.cancel();
    expect(await filecoinWatch(env).copies(ROOT)).toEqual([]);
    expect((await call("GET", `/api/v1/filecoin/copies?root=${ROOT}`, { token: "wrong" })).status).toBe(401);
  });

  it("rejects bad input with 400 and a message: root, dealId, account, content type, JSON", async () => {
    const post = (body: string, type = "application/json") => call("POST", "/api/v1/filecoin/deals", { token: ADMIN, body, headers: { "Content-Type": type } });
    const cases: Array<[Response, string]> = [
      [await post(JSON.stringify({ root: "not-a-cid", dealId: 1 })), '"root" must be a CID'],
      [await post(JSON.stringify({ root: ROOT, dealId: -4 })), '"dealId" must be a non-negative integer'],
      [await post(JSON.stringify({ root: ROOT, dealId: "1e3" })), '"dealId" must be a non-negative integer'],
      [await post(JSON.stringify({ root: ROOT, dealId: 5, account: "a b" })), '"account" must be an account id'],
      [await post("{", "application/json"), "body is not valid JSON"],
      [await post(JSON.stringify({ root: ROOT, dealId: 5 }), "text/plain"), "Content-Type must be application/json"],
    ];
    for (const [res, message] of cases) {
      const { status, text } = await errorOf(res);
      expect(status).toBe(400);
      expect(text).toContain(message);
    }
    expect(await filecoinWatch(env).copies(ROOT)).toEqual([]);
  });

  it("a deal entered by the operator is watched, listed with its actions, and removed", async () => {
    const res = await call("POST", "/api/v1/filecoin/deals", { token: ADMIN, body: JSON.stringify({ root: ROOT, dealId: 424242, account: "acct-9" }), headers: { "Content-Type": "application/json" } });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    expect(id).toBe("filecoin-deal|deal-424242|deal-424242");
    const list = await call("GET", `/api/v1/filecoin/copies?root=${ROOT}`, { token: ADMIN });
    expect(list.status).toBe(200);
    const { copies } = (await list.json()) as { copies: Array<Record<string, unknown>> };
    expect(copies).toHaveLength(1);
    expect(copies[0]).toMatchObject({ id, kind: "deal", dealId: "424242", account: "acct-9", root: ROOT, state: "stored", failures: 0, actions: [] });
    expect((await call("DELETE", `/api/v1/filecoin/copies/${encodeURIComponent(id)}`, { token: ADMIN })).status).toBe(204);
    expect((await call("DELETE", `/api/v1/filecoin/copies/${encodeURIComponent(id)}`, { token: ADMIN })).status).toBe(404);
    expect(await filecoinWatch(env).copies(ROOT)).toEqual([]);
    const funding = await call("GET", "/api/v1/filecoin/funding", { token: ADMIN });
    expect(funding.status).toBe(200);
    expect(Array.isArray(((await funding.json()) as { events: unknown[] }).events)).toBe(true);
  });
});
