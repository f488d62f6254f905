import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { PIECE_BEING_DELETED, type FilecoinWatch } from "../../src/durable-objects/filecoin-watch";
import { FILECOIN_WATCH_MIGRATIONS } from "../../src/backends/filecoin/watch-schema";
import { migrate } from "../../src/durable-objects/sql-migrations";

/**
 * The watch's `copy_owners` (watch-schema migration 3 and the owners migration after it): back-filled
 * from `copies.account` on an object migrated before them, filled by
 * `watch()`, and `claimRemoval()` lets a piece go only with its last owner. A watch object of
 * its own (not the deployment's "filecoin-watch"), so no other file's rows.
 */
const ROOT = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";
const pdp = (remoteId: string, pieceId: string, account: string | null) =>
  ({ kind: "pdp", account, root: ROOT, backend: "fil", remoteId, pieceCid: "bafkzcibpiece", dataSetId: "77", pieceId }) as const;

describe("Filecoin watch: owners of a copy", () => {
  it("the owner migrations back-fill one owner per row from copies.account (no account: ''), not known, reported the row's state; watch() adds known owners; claimRemoval() keeps a row until its last owner, then marks it and watch() refuses its piece until finishRemoval() drops it", async () => {
    const stub = env.FILECOIN_WATCH.get(env.FILECOIN_WATCH.idFromName("watch-owners-test"));
    // An object at schema version 2 (before copy_owners) with two rows, then migrated.
    const owners = await runInDurableObject(stub, (_w: FilecoinWatch, state) => {
      const sql = state.storage.sql;
      sql.exec("DROP TABLE copy_owners");
      sql.exec("DROP TABLE deleted_pieces");
      sql.exec("UPDATE _schema_version SET version = 2");
      sql.exec("INSERT INTO copies (id, kind, account, root, backend, remote_id, data_set_id, piece_id, state, next_check_at, created_at) VALUES ('fil|r1|77/1', 'pdp', 'acct-a', ?, 'fil', 'r1', '77', '1', 'at_risk', 0, 0)", ROOT);
      sql.exec("INSERT INTO copies (id, kind, account, root, backend, remote_id, data_set_id, piece_id, next_check_at, created_at) VALUES ('fil|r2|77/2', 'pdp', NULL, ?, 'fil', 'r2', '77', '2', 0, 0)", ROOT);
      migrate(state.storage, FILECOIN_WATCH_MIGRATIONS);
      return {
        version: sql.exec<{ version: number }>("SELECT version FROM _schema_version").one().version,
        rows: sql.exec("SELECT copy_id, account, known, reported FROM copy_owners ORDER BY copy_id").toArray(),
      };
    });
    expect(owners).toEqual({
      version: FILECOIN_WATCH_MIGRATIONS.length,
      rows: [{ copy_id: "fil|r1|77/1", account: "acct-a", known: 0, reported: "at_risk" }, { copy_id: "fil|r2|77/2", account: "", known: 0, reported: "stored" }],
    });
    const ownerRows = () => runInDurableObject(stub, (_w: FilecoinWatch, state) => state.storage.sql.exec("SELECT copy_id, account, known FROM copy_owners ORDER BY copy_id, account").toArray());

    // acct-b registers the same copy: a known owner beside acct-a's back-filled one.
    expect(await stub.watch(pdp("r1", "1", "acct-b"))).toBe("fil|r1|77/1");
    expect(await ownerRows()).toEqual([
      { copy_id: "fil|r1|77/1", account: "acct-a", known: 0 }, { copy_id: "fil|r1|77/1", account: "acct-b", known: 1 }, { copy_id: "fil|r2|77/2", account: "", known: 0 },
    ]);

    // acct-b removes its replica. acct-a's owner row is not known (back-filled), so the engines are asked: no
    // replicating account of this test holds r1, so acct-a's stale entry goes too, and the piece is claimed for deletion.
    expect(await stub.claimRemoval("fil", "r1", ["77/1"], "acct-b", "test")).toEqual({ remove: ["77/1"], kept: [] });
    expect((await stub.copies(ROOT)).map((c) => [c.id, c.account])).toEqual([["fil|r1|77/1", null], ["fil|r2|77/2", null]]);
    expect((await stub.actions("fil|r1|77/1")).map((a) => [a.kind, a.result])).toEqual([["claim", "account acct-b released it; no owner left: the piece is deleted"]]);
    expect(await stub.deletingPieces("77")).toEqual(["1"]);
    // A new owner cannot take a piece whose deletion is claimed, under any remote id; watchMany() writes nothing then.
    const refused = (p: Promise<unknown>) => p.then(() => "accepted", (e: Error) => e.message);
    expect(await refused(stub.watch(pdp("r1", "1", "acct-c")))).toBe(`${PIECE_BEING_DELETED}: piece 1 of data set 77 (its last owner removed it); store it again`);
    expect(await refused(stub.watchMany([pdp("r9", "9", "acct-c"), pdp("r9", "1", "acct-c")]))).toBe(`${PIECE_BEING_DELETED}: piece 1 of data set 77 (its last owner removed it); store it again`);
    expect((await stub.copies(ROOT)).map((c) => c.id)).toEqual(["fil|r1|77/1", "fil|r2|77/2"]);
    // Claimed again (a retry after a failed deletion): still to delete; then the deletion was sent and the row goes.
    expect(await stub.claimRemoval("fil", "r1", ["77/1"], "acct-b", "retry")).toEqual({ remove: ["77/1"], kept: [] });
    await stub.finishRemoval("fil", "r1", ["77/1"], "test");
    expect((await stub.copies(ROOT)).map((c) => c.id)).toEqual(["fil|r2|77/2"]);
    // The row is gone, the piece remembered as deleted (the chain may not show its removal yet): still refused.
    expect(await stub.deletingPieces("77")).toEqual(["1"]);
    expect(await refused(stub.watch(pdp("r1", "1", "acct-c")))).toBe(`${PIECE_BEING_DELETED}: piece 1 of data set 77 (its last owner removed it); store it again`);
    expect((await stub.copies(ROOT)).map((c) => c.id)).toEqual(["fil|r2|77/2"]);

    // Two known owners: the first removal keeps the piece and hands the report account over; the last one claims it.
    await stub.watch(pdp("r3", "3", "acct-a"));
    await stub.watch(pdp("r3", "3", "acct-b"));
    expect((await stub.copies(ROOT)).find((c) => c.id === "fil|r3|77/3")?.account).toBe("acct-b");
    expect(await stub.claimRemoval("fil", "r3", ["77/3"], "acct-b", "test")).toEqual({ remove: [], kept: ["77/3"] });
    expect((await stub.copies(ROOT)).find((c) => c.id === "fil|r3|77/3")?.account).toBe("acct-a");
    expect((await stub.actions("fil|r3|77/3")).map((a) => [a.kind, a.result]).at(-1)).toEqual(["release", "account acct-b released it; still held by acct-a"]);
    expect(await stub.claimRemoval("fil", "r3", ["77/3"], "acct-b", "again")).toEqual({ remove: [], kept: ["77/3"] }); // not an owner any more
    expect(await stub.claimRemoval("fil", "r3", ["77/3"], "acct-a", "test")).toEqual({ remove: ["77/3"], kept: [] });
    await stub.finishRemoval("fil", "r3", ["77/3"], "test");

    // A piece another remote id of the backend holds (a repair kept the data set) is never deleted; its own row goes.
    await stub.watch(pdp("r4", "4", "acct-a"));
    await stub.watch(pdp("r5", "4", "acct-a"));
    expect(await stub.claimRemoval("fil", "r4", ["77/4"], "acct-a", "test")).toEqual({ remove: [], kept: ["77/4"] });
    expect((await stub.copies(ROOT)).map((c) => c.id)).toEqual(["fil|r2|77/2", "fil|r5|77/4"]);

    // The back-filled no-account row: a record without details.account (account undefined) resolves: nobody holds it.
    expect(await stub.claimRemoval("fil", "r2", ["77/2"], undefined, "test")).toEqual({ remove: ["77/2"], kept: [] });
    await stub.finishRemoval("fil", "r2", ["77/2"], "test");
    await stub.unwatch("fil|r5|77/4");
    expect(await stub.copies(ROOT)).toEqual([]);
    const left = await runInDurableObject(stub, (_w: FilecoinWatch, state) => ({
      owners: state.storage.sql.exec("SELECT * FROM copy_owners").toArray(),
      deleted: state.storage.sql.exec("SELECT data_set_id, piece_id FROM deleted_pieces ORDER BY piece_id").toArray(),
    }));
    // 77/4 was kept (another copy held it): no tombstone.
    expect(left).toEqual({ owners: [], deleted: [{ data_set_id: "77", piece_id: "1" }, { data_set_id: "77", piece_id: "2" }, { data_set_id: "77", piece_id: "3" }] });
  });

  it("a lost copy two accounts share stays watched until each account registered its replacement: the first one releases it, the last one drops it", async () => {
    const stub = env.FILECOIN_WATCH.get(env.FILECOIN_WATCH.idFromName("watch-owners-replaced"));
    const old = await stub.watch(pdp("r1", "1", "acct-a"));
    await stub.watch(pdp("r1", "1", "acct-b"));
    await runInDurableObject(stub, (_w: FilecoinWatch, state) => void state.storage.sql.exec("UPDATE copies SET state = 'lost' WHERE id = ?", old));
    // acct-a's engine stored a new copy: acct-b (which heard the same report) has not yet; its copy stays watched.
    const newA = await stub.watch(pdp("r2", "2", "acct-a"));
    expect((await stub.copies(ROOT)).map((c) => [c.id, c.account, c.state])).toEqual([[old, "acct-b", "lost"], [newA, "acct-a", "stored"]]);
    expect((await stub.actions(old)).map((a) => [a.kind, a.reason, a.result])).toEqual([
      ["release", `replaced by new copy ${newA} (old copy was lost)`, "account acct-a released it; still held by acct-b"],
    ]);
    // acct-b's replacement: the old copy goes.
    const newB = await stub.watch(pdp("r3", "3", "acct-b"));
    expect((await stub.copies(ROOT)).map((c) => c.id)).toEqual([newA, newB]);
    expect((await stub.actions(old)).map((a) => [a.kind, a.result]).at(-1)).toEqual(["drop", "dropped from the watch"]);
  });
});
