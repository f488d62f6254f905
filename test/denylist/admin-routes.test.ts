/**
 * `/api/v1/denylist` through the worker's real fetch handler: operator
 * auth, validation, and an entry taking effect at the isolate's next
 * snapshot re-check (docs/denylist.md, "Admin API").
 */
import { CID } from "multiformats/cid";
import { env, exports } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import type { OperatorEntry } from "../../src/denylist/denylist-object";
import { denylistMatcher, resetDenylistMatcher } from "../../src/denylist/isolate-matcher";
import { refreshDenylists } from "../../src/denylist/refresh";

const ADMIN = { Authorization: "Bearer test-admin-token" };
const HELLO = "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am";

function call(method: string, path: string, init: { headers?: Record<string, string>; body?: unknown } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  let body: string | undefined;
  if (init.body !== undefined) {
    body = typeof init.body === "string" ? init.body : JSON.stringify(init.body);
    if (!headers.has("Content-Type")) headers.set("Content-Type", "application/json");
  }
  return exports.default.fetch(new Request(`http://localhost:8787/api/v1/denylist${path}`, { method, headers, body }));
}

describe("auth", () => {
  it("401 without a token or with a wrong one, on every route", async () => {
    for (const [method, path] of [
      ["GET", ""],
      ["POST", ""],
      ["DELETE", "/1"],
      ["GET", "/lists"],
    ] as const) {
      const attempts: Record<string, string>[] = [
        {},
        { Authorization: "Bearer wrong-token" },
        { Authorization: "Bearer test-admin-tokenX" },
        { Authorization: "Basic dGVzdA==" },
      ];
      for (const headers of attempts) {
        const res = await call(method, path, { headers, body: method === "POST" ? { entry: `/ipfs/${HELLO}` } : undefined });
        expect(res.status).toBe(401);
        expect(res.headers.get("WWW-Authenticate")).toBe("Bearer");
        expect(await res.text()).toBe("operator token is missing or invalid\n");
      }
    }
    expect((await call("GET", "", { headers: ADMIN })).status).toBe(200);
  });
});

describe("entries", () => {
  it("rejects bad input with a clear 4xx", async () => {
    const cases: [unknown, number, string][] = [
      [{}, 400, '"entry" must be a non-empty string\n'],
      [{ entry: "/ipfs/notacid" }, 400, 'invalid denylist entry: not a CID: "notacid"\n'],
      [{ entry: `/ipfs/${HELLO}`, status: 404 }, 400, '"status" must be 410 or 451\n'],
      [{ entry: `/ipfs/${HELLO}`, status: "451" }, 400, '"status" must be 410 or 451\n'],
      [{ entry: `/ipfs/${HELLO}\n/ipfs/${HELLO}` }, 400, '"entry" must be one line of at most 4096 characters\n'],
      ["{not json", 400, "body is not valid JSON\n"],
      [[1, 2], 400, "body must be a JSON object\n"],
      [{ entry: "x".repeat(9000) }, 413, "body larger than 8192 bytes\n"],
    ];
    for (const [body, status, text] of cases) {
      const res = await call("POST", "", { headers: ADMIN, body });
      expect([res.status, await res.text()]).toEqual([status, text]);
    }
    const noJson = await call("POST", "", { headers: { ...ADMIN, "Content-Type": "text/plain" }, body: "{}" });
    expect([noJson.status, await noJson.text()]).toEqual([400, "Content-Type must be application/json\n"]);
    expect((await call("DELETE", "/abc", { headers: ADMIN })).status).toBe(400);
    const missing = await call("DELETE", "/999999", { headers: ADMIN });
    expect([missing.status, await missing.text()]).toEqual([404, "no denylist entry 999999\n"]);
  });

  it("an added entry is denied after the snapshot re-check, and allowed again once deleted", async () => {
    resetDenylistMatcher();
    const before = await denylistMatcher(env);
    const hello = CID.parse(HELLO);
    expect(await before.isDenied(hello, ["page.html"])).toBeUndefined();

    const res = await call("POST", "", { headers: ADMIN, body: { entry: `/ipfs/${HELLO}/page.html`, status: 451 } });
    expect(res.status).toBe(201);
    const added = (await res.json()) as OperatorEntry;
    expect(added).toMatchObject({ entry: `/ipfs/${HELLO}/page.html`, status: 451 });
    expect(typeof added.id).toBe("number");

    const hinted = await call("POST", "", { headers: ADMIN, body: { entry: `/ipns/blocked.example status=451` } });
    expect(await hinted.json()).toMatchObject({ entry: "/ipns/blocked.example", status: 451 });

    const listed = (await (await call("GET", "", { headers: ADMIN })).json()) as { entries: OperatorEntry[] };
    expect(listed.entries.map((e) => [e.entry, e.status])).toEqual([
      [`/ipfs/${HELLO}/page.html`, 451],
      ["/ipns/blocked.example", 451],
    ]);

    // Within the snapshot's max age the isolate still uses what it has …
    expect(await (await denylistMatcher(env, { maxAgeMs: 60_000 })).isDenied(hello, ["page.html"])).toBeUndefined();
    // … and the next re-check (every 30 s by default) picks the entry up.
    const after = await denylistMatcher(env, { maxAgeMs: 0 });
    expect(after.version).toBeGreaterThan(before.version);
    expect(await after.isDenied(hello, ["page.html"])).toEqual({ status: 451, rule: `/ipfs/${HELLO}/page.html`, list: "operator" });
    expect(await after.isDenied(hello, ["other.html"])).toBeUndefined();
    expect(await after.isNameDenied("blocked.example")).toMatchObject({ status: 451 });

    // With waitUntil the stale matcher answers at once and the re-check runs behind it.
    const del = await call("DELETE", `/${added.id}`, { headers: ADMIN });
    expect(del.status).toBe(204);
    const pending: Promise<unknown>[] = [];
    const stale = await denylistMatcher(env, { maxAgeMs: 0, waitUntil: (p) => pending.push(p) });
    expect(stale).toBe(after);
    await Promise.all(pending);
    expect(await (await denylistMatcher(env, { maxAgeMs: 60_000 })).isDenied(hello, ["page.html"])).toBeUndefined();
  });

  it("GET /lists reports each configured list exactly: its name, status, counts, errors and times", async () => {
    const base = inject("denylistBase");
    const name = `admin-lists-${crypto.randomUUID()}.deny`;
    const url = `${base}/lists/${name}`;
    const body =
      "version: 1\nname: admin test list\nhints:\n  gateway_status: 451\n---\n" +
      `//${"ab".repeat(32)}\n//${"cd".repeat(32)}\n/ipfs/${HELLO}\n/ipns/blocked.example\n//not-hex\n`;
    expect((await fetch(url, { method: "PUT", body })).status).toBe(204);
    const before = Date.now();
    await refreshDenylists({ ...env, DENYLIST_URLS: url } as Env);
    const after = Date.now();

    const res = await call("GET", "/lists", { headers: ADMIN });
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("application/json");
    const { lists } = (await res.json()) as { lists: Record<string, unknown>[] };
    expect(lists).toHaveLength(1);
    const [list] = lists as [Record<string, unknown>];
    expect(list.refreshedAt).toBe(list.checkedAt);
    expect(list.refreshedAt).toBeGreaterThanOrEqual(before);
    expect(list.refreshedAt).toBeLessThanOrEqual(after);
    expect({ ...list, refreshedAt: 0, checkedAt: 0 }).toEqual({
      url,
      position: 0,
      name: "admin test list",
      status: 451,
      hashes: 2,
      rules: 2,
      malformed: 1,
      unsupported: 0,
      errors: ['line 10: double-hash is neither hex sha256 nor a base58btc multihash: "not-hex"'],
      refreshedAt: 0,
      checkedAt: 0,
      lastError: null,
      lastErrorAt: null,
    });
  });
});
