import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { filecoinWatch } from "../../src/cron/filecoin-watch";
import type { FilecoinWatch } from "../../src/durable-objects/filecoin-watch";
import { FILECOIN_WATCH_MIGRATIONS } from "../../src/backends/filecoin/watch-schema";
import { migrate } from "../../src/durable-objects/sql-migrations";
import { ADMIN, call } from "../pinning/helpers";

const ROOT = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";
/** Two other roots (raw blocks "a" and "b"): one aggregate deal holding both. */
const ROOT_A = "bafkreigks6arfsq3xxfpvqrrwonchxcnu6do76auprhhfomao6c273sixm";
const ROOT_B = "bafkreib6epubmabzlffdhckpmvsodmjuro6xuaei2qwevs3t52xnlhaatu";

const enterDeal = (body: Record<string, unknown>) => call("POST", "/api/v1/filecoin/deals", { token: ADMIN, body: JSON.stringify(body), headers: { "Content-Type": "application/json" } });
type CopyJson = { id: string; root: string; dealId: string; account: string | null; remoteId: string; actions: { copyId: string; at: number; kind: string; reason: string; result: string }[] };
async function copiesOf(root: string): Promise<CopyJson[]> {
  const res = await call("GET", `/api/v1/filecoin/copies?root=${root}`, { token: ADMIN });
  expect(res.status).toBe(200);
  return ((await res.json()) as { copies: CopyJson[] }).copies;
}

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
    expect(id).toBe(`filecoin-deal|deal-424242/${ROOT}|deal-424242`);
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

  it("one deal entered for two roots (an aggregate deal) is one copy per root; the same deal and root again is the same copy", async () => {
    const first = await enterDeal({ root: ROOT_A, dealId: 7001, account: "acct-1" });
    expect(first.status).toBe(201);
    const second = await enterDeal({ root: ROOT_B, dealId: "7001", account: "acct-2" });
    expect(second.status).toBe(201);
    const idA = ((await first.json()) as { id: string }).id;
    const idB = ((await second.json()) as { id: string }).id;
    expect([idA, idB]).toEqual([`filecoin-deal|deal-7001/${ROOT_A}|deal-7001`, `filecoin-deal|deal-7001/${ROOT_B}|deal-7001`]);
    // Each root keeps its own copy and account (the second entry no longer overwrites the first).
    expect(await copiesOf(ROOT_A)).toMatchObject([{ id: idA, root: ROOT_A, dealId: "7001", account: "acct-1", remoteId: `deal-7001/${ROOT_A}` }]);
    expect(await copiesOf(ROOT_B)).toMatchObject([{ id: idB, root: ROOT_B, dealId: "7001", account: "acct-2", remoteId: `deal-7001/${ROOT_B}` }]);

    // Idempotent: the same deal and root again (now for acct-3) is the same copy, its account updated.
    const again = await enterDeal({ root: ROOT_A, dealId: 7001, account: "acct-3" });
    expect(again.status).toBe(201);
    expect(((await again.json()) as { id: string }).id).toBe(idA);
    const [copyA, ...moreA] = await copiesOf(ROOT_A);
    expect(moreA).toEqual([]);
    expect(copyA).toMatchObject({ id: idA, account: "acct-3" });
    expect((await copiesOf(ROOT_B)).map((c) => c.id)).toEqual([idB]);

    expect(await filecoinWatch(env).unwatchMany([idA, idB])).toBe(2);
  });

  it("a deal copy stored under the old id (deal-<id>) is renamed by migration 4 with its owners and actions; that deal and root entered again is that copy, not a second one", async () => {
    const stub = filecoinWatch(env);
    const oldId = "filecoin-deal|deal-5150|deal-5150";
    const newId = `filecoin-deal|deal-5150/${ROOT_A}|deal-5150`;
    const storachaId = `filecoin-deal|storacha-deal-5150/${ROOT_B}|deal-5150`;
    const later = Date.now() + 86_400_000;
    // The object as it was at schema version 3: an operator's deal under the old remote id, with an owner and an
    // action, beside a Storacha import's copy of the same deal (its remote id already names the root: untouched).
    const migrated = await runInDurableObject(stub, (_w: FilecoinWatch, state) => {
      const sql = state.storage.sql;
      // Undo what the migrations after 4 add (the owners migration's columns and table), then rewind to 3.
      sql.exec("DROP TABLE copy_owners");
      sql.exec("DROP TABLE deleted_pieces");
      sql.exec("CREATE TABLE copy_owners (copy_id TEXT NOT NULL, account TEXT NOT NULL, PRIMARY KEY (copy_id, account)) WITHOUT ROWID");
      sql.exec("UPDATE _schema_version SET version = 3");
      const insert = "INSERT INTO copies (id, kind, account, root, backend, remote_id, deal_id, next_check_at, created_at) VALUES (?, 'deal', ?, ?, 'filecoin-deal', ?, '5150', ?, 1)";
      sql.exec(insert, oldId, "acct-old", ROOT_A, "deal-5150", later);
      sql.exec(insert, storachaId, "acct-s", ROOT_B, `storacha-deal-5150/${ROOT_B}`, later);
      sql.exec("INSERT INTO copy_owners (copy_id, account) VALUES (?, 'acct-old'), (?, 'acct-s')", oldId, storachaId);
      sql.exec("INSERT INTO actions (copy_id, at, kind, reason, result) VALUES (?, 42, 'renew', 'deal ends soon', 'reported')", oldId);
      migrate(state.storage, FILECOIN_WATCH_MIGRATIONS);
      return {
        version: sql.exec<{ version: number }>("SELECT version FROM _schema_version").one().version,
        copies: sql.exec("SELECT id, remote_id, root, account FROM copies WHERE deal_id = '5150' ORDER BY id").toArray(),
        owners: sql.exec("SELECT copy_id, account FROM copy_owners WHERE copy_id LIKE '%5150%' ORDER BY copy_id").toArray(),
        actions: sql.exec("SELECT copy_id, kind FROM actions WHERE copy_id LIKE '%5150%'").toArray(),
      };
    });
    expect(migrated).toEqual({
      version: FILECOIN_WATCH_MIGRATIONS.length,
      copies: [
        { id: newId, remote_id: `deal-5150/${ROOT_A}`, root: ROOT_A, account: "acct-old" },
        { id: storachaId, remote_id: `storacha-deal-5150/${ROOT_B}`, root: ROOT_B, account: "acct-s" },
      ],
      owners: [
        { copy_id: newId, account: "acct-old" },
        { copy_id: storachaId, account: "acct-s" },
      ],
      actions: [{ copy_id: newId, kind: "renew" }],
    });

    // After the upgrade the operator enters the same deal and root: the renamed copy, with its history, not a new one.
    const res = await enterDeal({ root: ROOT_A, dealId: 5150, account: "acct-old" });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { id: string }).id).toBe(newId);
    const copies = await copiesOf(ROOT_A);
    expect(copies).toHaveLength(1);
    expect(copies[0]).toMatchObject({ id: newId, dealId: "5150", account: "acct-old", actions: [{ copyId: newId, at: 42, kind: "renew", reason: "deal ends soon", result: "reported" }] });
    // The old id is gone.
    expect((await call("DELETE", `/api/v1/filecoin/copies/${encodeURIComponent(oldId)}`, { token: ADMIN })).status).toBe(404);
    expect(await stub.unwatchMany([newId, storachaId])).toBe(2);
  });
});
