import { DurableObject } from "cloudflare:workers";
import { migrate } from "./sql-migrations";

/** Numbered schema migrations (docs/storage.md, "BlockRefs"). Append only. */
const MIGRATIONS = [
  `CREATE TABLE refs (
     block TEXT NOT NULL,
     holder TEXT NOT NULL,
     PRIMARY KEY (block, holder)
   ) WITHOUT ROWID;
   CREATE INDEX refs_holder ON refs(holder);
   CREATE TABLE candidates (
     block TEXT PRIMARY KEY,
     since INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE INDEX candidates_since ON candidates(since);`,
  // 2: holders with a lifetime (hot write-through): released by `collect` once `expires` has passed.
  `CREATE TABLE leases (
     holder TEXT PRIMARY KEY,
     expires INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE INDEX leases_expires ON leases(expires);`,
];

/** Expired leases one `collect` releases at most (each is one holder's refs in this shard). */
const LEASES_PER_COLLECT = 1000;

/**
 * Who holds which R2 block, for one shard of the block key space
 * (`src/pinning/block-refs.ts` picks the shard). A holder is one pinned DAG
 * root of one account, an upload in progress, or a hot write-through root
 * with a lifetime (`leases`). A block whose last holder let go becomes a GC
 * candidate; `collect` deletes candidates that stayed unheld for the grace
 * period.
 *
 * GC safety: a pinner calls `hold` *before* it checks whether a block is
 * in R2. `collect` marks a block as being deleted synchronously (no await
 * between "no holder" and the mark), and a `hold` that meets such a block
 * waits until the R2 delete finished, so the pinner's presence check that
 * follows sees it absent and fetches it again. A held block is never
 * deleted.
 */
export class BlockRefs extends DurableObject<Env> {
  readonly #sql: SqlStorage;
  readonly #deleting = new Map<string, Promise<void>>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => migrate(ctx.storage, MIGRATIONS));
  }

  /** Records that `holder` needs `blocks` (R2 keys); resolves once none of them is being deleted. */
  async hold(holder: string, blocks: string[]): Promise<void> {
    for (const block of blocks) {
      this.#sql.exec("INSERT OR IGNORE INTO refs (block, holder) VALUES (?, ?)", block, holder);
      this.#sql.exec("DELETE FROM candidates WHERE block = ?", block);
    }
    const pending = blocks.map((b) => this.#deleting.get(b)).filter((p) => p !== undefined);
    if (pending.length > 0) await Promise.all(pending);
  }

  /**
   * `hold`, for a holder that lets go by itself at `expires` (ms epoch): the
   * hot write-through cache (docs/storage.md "Hot write-through"). Holding
   * again moves the end later, never earlier. `collect` releases the holder
   * once `expires` has passed; its blocks are then deleted after the grace
   * period unless another holder (a pin) has them.
   */
  async holdUntil(holder: string, blocks: string[], expires: number): Promise<void> {
    this.#sql.exec(
      "INSERT INTO leases (holder, expires) VALUES (?, ?) ON CONFLICT (holder) DO UPDATE SET expires = max(expires, excluded.expires)",
      holder, expires,
    );
    await this.hold(holder, blocks);
  }

  /** When `holder`'s lease ends in this shard (ms epoch), or null (tests, diagnostics). */
  leaseOf(holder: string): number | null {
    return this.#sql.exec<{ expires: number }>("SELECT expires FROM leases WHERE holder = ?", holder).toArray()[0]?.expires ?? null;
  }

  /** Drops every reference of `holder`; blocks left without holder become GC candidates. */
  release(holder: string): number {
    const blocks = this.#sql.exec<{ block: string }>("SELECT block FROM refs WHERE holder = ?", holder).toArray();
    const now = Date.now();
    this.ctx.storage.transactionSync(() => {
      this.#sql.exec("DELETE FROM refs WHERE holder = ?", holder);
      for (const { block } of blocks) {
        this.#sql.exec(
          "INSERT OR IGNORE INTO candidates (block, since) SELECT ?, ? WHERE NOT EXISTS (SELECT 1 FROM refs WHERE block = ?)",
          block, now, block,
        );
      }
    });
    return blocks.length;
  }

  /** Number of holders of a block (tests, diagnostics). */
  holders(block: string): number {
    return this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM refs WHERE block = ?", block).one().n;
  }

  /**
   * Deletes from R2 up to `limit` candidates unheld since before
   * `now - graceMs`. Returns the number deleted.
   */
  async collect(graceMs: number, limit: number): Promise<number> {
    // Holders whose lifetime is over let go first: their blocks become candidates from now.
    const expired = this.#sql
      .exec<{ holder: string }>("SELECT holder FROM leases WHERE expires <= ? ORDER BY expires LIMIT ?", Date.now(), LEASES_PER_COLLECT)
      .toArray();
    for (const { holder } of expired) {
      this.release(holder);
      this.#sql.exec("DELETE FROM leases WHERE holder = ?", holder);
    }
    const cutoff = Date.now() - graceMs;
    const rows = this.#sql
      .exec<{ block: string }>(
        "SELECT block FROM candidates WHERE since <= ? AND NOT EXISTS (SELECT 1 FROM refs WHERE refs.block = candidates.block) ORDER BY since LIMIT ?",
        cutoff, limit,
      )
      .toArray();
    // Mark them all before the first await: from here on a `hold` waits.
    const deletions = rows.map(({ block }) => {
      const done = this.env.BLOCKS.delete(block).finally(() => this.#deleting.delete(block));
      this.#deleting.set(block, done);
      return { block, done };
    });
    let deleted = 0;
    for (const { block, done } of deletions) {
      await done;
      this.#sql.exec("DELETE FROM candidates WHERE block = ? AND since <= ?", block, cutoff);
      deleted++;
    }
    return deleted;
  }
}
