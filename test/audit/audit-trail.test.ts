/**
 * The audit trail (src/audit/): operator and pin operations of an account,
 * recorded by its PinRegistry with the change, read through GET /api/v1/audit.
 */
import { env } from "cloudflare:workers";
import { base64 } from "multiformats/bases/base64";
import { describe, expect, it } from "vitest";
import { hmacSha256 } from "../../src/webhooks/signature";
import { ADMIN, call, identityCid, newAccount, settle } from "../pinning/helpers";
import { pseudoRandomBytes } from "../helpers/pseudo-random";
import { registryStub } from "../../src/durable-objects/pin-registry";

type Entry = { seq: number; at: number; actor: string; action: string; target: string | null; detail: Record<string, unknown> };
type Page = { account: string; entries: Entry[]; next: number | null };

async function audit(query: string, token: string): Promise<Page> {
  const res = await call("GET", `/api/v1/audit${query}`, { token });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  expect(res.headers.get("Cache-Control")).toBe("no-store");
  return JSON.parse(text) as Page;
}

const SECRET = "whsec_" + base64.baseEncode(new TextEncoder().encode("audit secret of thirty-two bytes"));

describe("GET /api/v1/audit", () => {
  it("records operator, account, webhook and pin-work actions in order, and never a token or secret", async () => {
    const { account, token, id } = await newAccount("audited");
    expect((await call("PUT", `/api/v1/accounts/${account}/limits`, { token: ADMIN, body: { maxPins: 50 } })).status).toBe(200);
    expect((await call("PUT", `/api/v1/accounts/${account}/webhook-secrets`, { token: ADMIN, body: { secrets: [SECRET] } })).status).toBe(204);

    const cid = identityCid("audit-1").toString();
    const created = (await (await call("POST", "/psa/pins", { token, body: { cid, name: "one" } })).json()) as { requestid: string };
    await settle(account);
    const replacement = identityCid("audit-2").toString();
    const replaced = (await (await call("POST", `/psa/pins/${created.requestid}`, { token, body: { cid: replacement } })).json()) as { requestid: string };
    await settle(account);
    expect((await call("DELETE", `/psa/pins/${replaced.requestid}`, { token })).status).toBe(202);
    const upload = await call("POST", "/api/v1/upload?name=up", { token, body: pseudoRandomBytes(1000, 3), headers: { "Content-Type": "application/octet-stream" } });
    expect(upload.status).toBe(201);
    const uploaded = (await upload.json()) as { cid: string; requestid: string };

    const body = JSON.stringify({ cid: identityCid("audit-hook").toString() });
    const ts = Math.floor(Date.now() / 1000);
    const key = base64.baseDecode(SECRET.slice("whsec_".length));
    const sig = "v1," + base64.baseEncode(await hmacSha256(key, new TextEncoder().encode(`msg_audit.${ts}.${body}`)));
    const hook = await call("POST", `/webhooks/pin?account=${account}`, {
      body, headers: { "Content-Type": "application/json", "webhook-id": "msg_audit", "webhook-timestamp": String(ts), "webhook-signature": sig },
    });
    expect(hook.status).toBe(202);
    const hooked = (await hook.json()) as { requestid: string };
    await settle(account);

    const page = await audit("", token);
    expect(page.account).toBe(account);
    expect(page.next).toBeNull();
    const rows = [...page.entries].reverse().map((e) => [e.actor, e.action, e.target]);
    expect(rows).toEqual([
      ["operator", "token.mint", id],
      ["operator", "limits.set", null],
      ["operator", "webhook_secrets.set", null],
      ["account", "pin.create", created.requestid],
      ["system", "pin.pinned", created.requestid],
      ["account", "pin.replace", replaced.requestid],
      ["system", "pin.pinned", replaced.requestid],
      ["account", "pin.delete", replaced.requestid],
      // An upload is pinned when it is answered: no separate pin.pinned.
      ["account", "pin.upload", uploaded.requestid],
      ["webhook", "pin.create", hooked.requestid],
      ["system", "pin.pinned", hooked.requestid],
    ]);
    const byAction = (a: string) => page.entries.filter((e) => e.action === a);
    expect(byAction("pin.create").at(-1)!.detail).toEqual({ cid, name: "one" });
    expect(byAction("pin.replace")[0]!.detail).toEqual({ cid: replacement, name: null, replaces: created.requestid });
    expect(byAction("limits.set")[0]!.detail).toEqual({ maxPins: 50 });
    expect(byAction("webhook_secrets.set")[0]!.detail).toEqual({ count: 1 });
    // Newest first, seq strictly decreasing, times not increasing.
    expect(page.entries.map((e) => e.seq)).toEqual([...page.entries.map((e) => e.seq)].sort((a, b) => b - a));
    const all = JSON.stringify(page);
    expect(all).not.toContain(token);
    expect(all).not.toContain(SECRET);

    // The operator reads the same trail by naming the account; pages and the action filter.
    expect((await audit(`?account=${account}`, ADMIN)).entries).toEqual(page.entries);
    const first = await audit("?limit=4", token);
    expect(first.entries).toEqual(page.entries.slice(0, 4));
    expect(first.next).toBe(page.entries[3]!.seq);
    expect((await audit(`?limit=4&before=${first.next}`, token)).entries).toEqual(page.entries.slice(4, 8));
    expect((await audit("?action=pin.pinned", token)).entries.map((e) => e.target)).toEqual([hooked.requestid, replaced.requestid, created.requestid]);
  });

  it("a failed pin is recorded by the service", async () => {
    const { account, token } = await newAccount("audit-fail");
    await call("PUT", `/api/v1/accounts/${account}/limits`, { token: ADMIN, body: { deadlineMs: 0 } });
    const pin = (await (await call("POST", "/psa/pins", { token, body: { cid: "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy" } })).json()) as { requestid: string };
    await settle(account);
    expect((await registryStub(env, account).getPin(pin.requestid))?.status).toBe("failed");
    const [failed] = (await audit("?action=pin.failed", token)).entries;
    expect(failed).toMatchObject({ actor: "system", action: "pin.failed", target: pin.requestid });
    expect(String(failed!.detail.reason)).toMatch(/^the DAG could not be fetched before the deadline/);
  });

  it("refuses what it must: no token, another account, the operator without an account, bad parameters", async () => {
    const a = await newAccount("audit-a");
    const b = await newAccount("audit-b");
    const expectText = async (res: Response, status: number, body: string) => {
      expect(res.status).toBe(status);
      expect(await res.text()).toBe(body + "\n");
    };
    await expectText(await call("GET", "/api/v1/audit"), 401, "Access token is missing or invalid");
    await expectText(await call("GET", "/api/v1/audit", { token: "edge_forged" }), 401, "Access token is missing or invalid");
    await expectText(await call("GET", `/api/v1/audit?account=${b.account}`, { token: a.token }), 403, "an API token reads its own account's audit trail only");
    await expectText(await call("GET", "/api/v1/audit", { token: ADMIN }), 400, "account is required with the operator token");
    await expectText(await call("GET", "/api/v1/audit?account=acc_000000000000000000000000", { token: ADMIN }), 404, "no such account");
    await expectText(await call("GET", "/api/v1/audit?limit=0", { token: a.token }), 400, "limit must be 1 to 1000");
    await expectText(await call("GET", "/api/v1/audit?before=-1", { token: a.token }), 400, "before must be a non-negative integer");
    expect((await call("GET", "/api/v1/audit?action=drop.table", { token: a.token })).status).toBe(400);
  });
});
