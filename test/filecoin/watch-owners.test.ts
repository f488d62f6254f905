import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { FilecoinWatch } from "../../src/durable-objects/filecoin-watch";
import { FILECOIN_WATCH_MIGRATIONS } from "../../src/backends/filecoin/watch-schema";
import { migrate } from "../../src/durable-objects/sql-migrations";

/**
 * The watch's `copy_owners` (watch-schema migration 3): back-filled from
 * `copies.account` on an object migrated before it, filled by `watch()`,
 * and `release()` drops a row only with its last owner. A watch object of
 * its own (not the deployment's "filecoin-watch"), so no other file's rows.
 */
const ROOT = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";
const pdp = (remoteId: string, pieceId: string, account: string | null) =>
  ({ kind: "pdp", account, root: ROOT, backend: "fil", remoteId, pieceCid: "bafkzcibpiece", dataSetId: "77", pieceId }) as const;

describe("Filecoin watch: owners of a copy", () => {
  it("migration 3 back-fills one owner per row from copies.account (no account: ''); watch() adds owners; release() keeps the row until its last owner and hands the report account over", async () => {
    const stub = env.FILECOIN_WATCH.get(env.FILECOIN_WATCH.idFromName("watch-owners-test"));
    // An object at schema version 2 (before copy_owners) with two rows, then migrated.
    const owners = await runInDurableObject(stub, (_w: FilecoinWatch, state) => {
      const sql = state.storage.sql;
      sql.exec("DROP TABLE copy_owners");
      sql.exec("UPDATE _schema_version SET version = 2");
      sql.exec("INSERT INTO copies (id, kind, account, root, backend, remote_id, data_set_id, piece_id, next_check_at, created_at) VALUES ('fil|r1|77/1', 'pdp', 'acct-a', ?, 'fil', 'r1', '77', '1', 0, 0)", ROOT);
      sql.exec("INSERT INTO copies (id, kind, account, root, backend, remote_id, data_set_id, piece_id, next_check_at, created_at) VALUES ('fil|r2|77/2', 'pdp', NULL, ?, 'fil', 'r2', '77', '2', 0, 0)", ROOT);
      migrate(state.storage, FILECOIN_WATCH_MIGRATIONS);
      return {
        version: sql.exec<{ version: number }>("SELECT version FROM _schema_version").one().version,
        rows: sql.exec("SELECT copy_id, account FROM copy_owners ORDER BY copy_id").toArray(),
      };
    });
    expect(owners).toEqual({ version: FILECOIN_WATCH_MIGRATIONS.length, rows: [{ copy_id: "fil|r1|77/1", account: "acct-a" }, { copy_id: "fil|r2|77/2", account: "" }] });

    // acct-b registers the same copy: two owners, reported to acct-b; pieces held for either one's removal.
    expect(await stub.watch(pdp("r1", "1", "acct-b"))).toBe("fil|r1|77/1");
    expect(await stub.heldByOthers("fil", "r1", ["77/1"], "acct-a")).toEqual(["77/1"]);
    expect(await stub.heldByOthers("fil", "r1", ["77/1"], "acct-b")).toEqual(["77/1"]);
    expect(await stub.heldByOthers("fil", "r1", ["77/1"], undefined)).toEqual(["77/1"]);
    expect(await stub.heldByOthers("fil", "r2", ["77/2"], null)).toEqual([]);
    expect(await stub.heldByOthers("fil", "r2", ["77/2"], undefined)).toEqual([]);

    // acct-b releases: kept, reported to acct-a again; then acct-a's pieces are its own, and its release drops the row.
    expect(await stub.release("fil|r1|77/1", "acct-b", "test")).toBe(false);
    expect((await stub.copies(ROOT)).map((c) => [c.id, c.account])).toEqual([["fil|r1|77/1", "acct-a"], ["fil|r2|77/2", null]]);
    expect((await stub.actions("fil|r1|77/1")).map((a) => [a.kind, a.result])).toEqual([["release", "account acct-b released it; still held by acct-a"]]);
    expect(await stub.heldByOthers("fil", "r1", ["77/1"], "acct-a")).toEqual([]);
    expect(await stub.release("fil|r1|77/1", "acct-b", "test again")).toBe(false); // not an owner any more: nothing changes
    expect(await stub.release("fil|r1|77/1", "acct-a", "test")).toBe(true);
    expect(await stub.release("fil|r2|77/2", null, "test")).toBe(true);
    expect(await stub.copies(ROOT)).toEqual([]);
    const left = await runInDurableObject(stub, (_w: FilecoinWatch, state) => state.storage.sql.exec("SELECT * FROM copy_owners").toArray());
    expect(left).toEqual([]);
  });
});
