import { DurableObject } from "cloudflare:workers";
import { CID } from "multiformats/cid";
import { watchClassicDeal } from "../backends/filecoin/classic-deal";
import { registryStub } from "../durable-objects/pin-registry";
import { migrate } from "../durable-objects/sql-migrations";
import type { PinState } from "../pinning/pin-types";
import type { StorachaJobProgress } from "./storacha-job-progress";
import { storachaConfig } from "./storacha-config";
import { StorachaError, type StorachaSpace } from "./storacha-space";

/**
 * Uploads listed and processed per alarm step (`STORACHA_IMPORT_BATCH`, 1–100): bounds one step's
 * subrequests (about 2 per upload and 2 per shard): 50 fits the paid plan's 1,000 with room; the
 * free plan's 50 needs about 8.
 */
export const IMPORT_BATCH = 50;
/** Retry of a step that met an unavailable service: 5 s doubling, at most 15 min. */
const BACKOFF_BASE_MS = 5_000;
const BACKOFF_MAX_MS = 15 * 60_000;
/**
 * Runs of one page that a Storacha call failing as `unavailable` (a timeout,
 * a 5xx) may stop, waiting out the backoff (5 s doubling: the 8th run comes
 * ~10 min after the first), before that call's error is kept on its root and
 * the page goes on: an outage shorter than that is waited out, a piece the
 * service never answers for does not hold the import forever. A root kept
 * with an error is taken again by the next migration of the space.
 */
const PAGE_RUNS = 8;

const MIGRATIONS = [
  `CREATE TABLE jobs (
     id TEXT PRIMARY KEY,
     space TEXT NOT NULL,              -- the space's DID when the job started
     state TEXT NOT NULL CHECK (state IN ('listing', 'done', 'failed')),
     cursor TEXT,                      -- upload/list cursor of the next page (NULL = first page)
     attempts INTEGER NOT NULL DEFAULT 0,
     last_error TEXT,
     next_at INTEGER,                  -- when the next step is due (NULL: nothing to do)
     created INTEGER NOT NULL,
     updated INTEGER NOT NULL
   );
   CREATE TABLE job_roots (
     job TEXT NOT NULL,
     root TEXT NOT NULL,
     requestid TEXT,                   -- the pin here (created by this job or found)
     created_pin INTEGER NOT NULL DEFAULT 0,
     shards INTEGER NOT NULL DEFAULT 0,
     deals TEXT NOT NULL DEFAULT '[]', -- [{ dealId, provider, piece }] put under watch
     pin_status TEXT,                  -- last pin status seen (queued, pinning, pinned, failed)
     error TEXT,                       -- per-root error (pin refused, filecoin/info failed)
     PRIMARY KEY (job, root)
   ) WITHOUT ROWID;`,
];

type JobRow = { id: string; space: string; state: "listing" | "done" | "failed"; cursor: string | null; attempts: number; last_error: string | null; next_at: number | null; created: number; updated: number };

/**
 * Migration of a Storacha space into one account (docs/storacha.md), one
 * object per account. A job lists the space with `upload/list` a page per
 * alarm step (resumable: the cursor is durable), and for each root:
 * 1. a pin here, unless the account already has a live pin of that root
 *    (so a second run pins nothing twice). The pin is fetched like any
 *    other, through the gateway's verified upstream race into R2, then
 *    replicated by the policy;
 * 2. each shard's piece (`assert/equals` claim) and its `filecoin/info`:
 *    every classic deal goes under the Filecoin watch (idempotent).
 * A service that cannot be reached leaves the job `listing` with a retry
 * time; a refused delegation fails the job (start it again once the
 * operator fixed `STORACHA_PROOF`).
 */
export class StorachaImport extends DurableObject<Env> {
  readonly #sql: SqlStorage;
  /** A step in progress: an alarm delivered while one runs (tests' runDurableObjectAlarm) must not run the same page twice. */
  #stepping = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => migrate(ctx.storage, MIGRATIONS));
  }

  /** A new job for `space` (the caller checked the delegation); its first step is due now. */
  async start(space: string): Promise<StorachaJobProgress> {
    const id = `storacha-${crypto.randomUUID()}`;
    const now = Date.now();
    this.#sql.exec("INSERT INTO jobs (id, space, state, created, updated, next_at) VALUES (?, ?, 'listing', ?, ?, ?)", id, space, now, now, now);
    await this.#schedule();
    return (await this.progress(id))!;
  }

  /** Progress; pin states are refreshed from the account's registry (at most 500 unsettled roots per call). */
  async progress(id: string): Promise<StorachaJobProgress | null> {
    const job = this.#sql.exec<JobRow>("SELECT * FROM jobs WHERE id = ?", id).toArray()[0];
    if (job === undefined) return null;
    await this.#refreshPins(id);
    const n = (sql: string): number => this.#sql.exec<{ n: number }>(sql, id).one().n;
    const pins: Record<PinState, number> = { queued: 0, pinning: 0, pinned: 0, failed: 0 };
    for (const r of this.#sql.exec<{ s: PinState; n: number }>("SELECT pin_status AS s, COUNT(*) AS n FROM job_roots WHERE job = ? AND pin_status IS NOT NULL GROUP BY pin_status", id)) pins[r.s] = r.n;
    const listed = n("SELECT COUNT(*) AS n FROM job_roots WHERE job = ?");
    const settled = pins.pinned + pins.failed;
    const state = job.state === "failed" ? "failed" : job.state === "listing" ? "listing" : settled + n("SELECT COUNT(*) AS n FROM job_roots WHERE job = ? AND requestid IS NULL") >= listed ? "done" : "running";
    return {
      id, source: "storacha", space: job.space, state, listed,
      created: n("SELECT COUNT(*) AS n FROM job_roots WHERE job = ? AND created_pin = 1"),
      reused: n("SELECT COUNT(*) AS n FROM job_roots WHERE job = ? AND requestid IS NOT NULL AND created_pin = 0"),
      pins,
      dealsWatched: n("SELECT COALESCE(SUM(json_array_length(deals)), 0) AS n FROM job_roots WHERE job = ?"),
      errors: this.#sql.exec<{ root: string; error: string }>("SELECT root, error FROM job_roots WHERE job = ? AND error IS NOT NULL ORDER BY root LIMIT 100", id).toArray(),
      failed: n("SELECT COUNT(*) AS n FROM job_roots WHERE job = ? AND error IS NOT NULL"),
      attempts: job.attempts,
      lastError: job.last_error,
      nextAttempt: job.next_at === null ? null : new Date(job.next_at).toISOString(),
      created_at: new Date(job.created).toISOString(),
      updated: new Date(job.updated).toISOString(),
    };
  }

  /** The watched deals of a job's roots (tests, diagnostics). */
  async rootsOf(id: string): Promise<{ root: string; requestid: string | null; deals: { dealId: string; provider: string; piece: string }[]; error: string | null }[]> {
    return this.#sql
      .exec<{ root: string; requestid: string | null; deals: string; error: string | null }>("SELECT root, requestid, deals, error FROM job_roots WHERE job = ? ORDER BY root", id)
      .toArray()
      .map((r) => ({ ...r, deals: JSON.parse(r.deals) }));
  }

  override async alarm(): Promise<void> {
    if (this.#stepping) return;
    const due = this.#sql.exec<JobRow>("SELECT * FROM jobs WHERE state = 'listing' AND next_at <= ? ORDER BY next_at LIMIT 1", Date.now()).toArray()[0];
    this.#stepping = true;
    try {
      if (due !== undefined) await this.#step(due);
    } finally {
      this.#stepping = false;
    }
    await this.#schedule();
  }

  /** One page of the space: every root pinned (or found pinned) and its deals watched, then the cursor moves on. */
  async #step(job: JobRow): Promise<void> {
    const account = this.ctx.id.name!;
    let space: StorachaSpace;
    let page: { results: { root: string; shards: string[] }[]; cursor?: string };
    try {
      const { openStorachaSpace } = await import("./storacha-client");
      space = await openStorachaSpace(storachaConfig(this.env));
      if (space.did !== job.space) throw new StorachaError("unauthorized", `STORACHA_PROOF now delegates ${space.did}, not ${job.space} this job started with`);
      page = await space.listUploads(job.cursor ?? undefined, importBatch(this.env));
    } catch (err) {
      this.#failedStep(job, err);
      return;
    }
    try {
      await this.#importPage(job, account, space, page.results);
    } catch (err) {
      // The service stopped answering in the middle of the page (a timeout, 5xx): the cursor stays, the page is
      // run again after the backoff, its roots already done are skipped.
      if (!(err instanceof StorachaError && err.kind === "unavailable")) throw err;
      this.#failedStep(job, err);
      return;
    }
    const now = Date.now();
    if (page.cursor === undefined) {
      this.#sql.exec("UPDATE jobs SET state = 'done', next_at = NULL, attempts = 0, last_error = NULL, updated = ? WHERE id = ?", now, job.id);
    } else {
      this.#sql.exec("UPDATE jobs SET cursor = ?, next_at = ?, attempts = 0, last_error = NULL, updated = ? WHERE id = ?", page.cursor, now, now, job.id);
    }
  }

  /**
   * The roots of one page. Throws the `unavailable` StorachaError of a claims or `filecoin/info` call (the
   * service is down: every other root of the page would meet it too, each after a full timeout), having first
   * recorded it on its root, so that a rerun of the page takes that root again; on the page's PAGE_RUNS-th run
   * the error stays on its root and the page goes on.
   */
  async #importPage(job: JobRow, account: string, space: StorachaSpace, uploads: { root: string; shards: string[] }[]): Promise<void> {
    const registry = registryStub(this.env, account);
    const origins = storachaConfig(this.env).gatewayUrl === "" ? [] : [storachaConfig(this.env).gatewayUrl];
    for (const upload of uploads) {
      const root = CID.parse(upload.root).toV1().toString();
      const row = this.#sql.exec<{ requestid: string | null; error: string | null }>("SELECT requestid, error FROM job_roots WHERE job = ? AND root = ?", job.id, root).toArray()[0];
      if (row !== undefined && row.requestid !== null && row.error === null) continue; // done by an earlier, interrupted run of this step
      this.#sql.exec("INSERT OR IGNORE INTO job_roots (job, root, shards) VALUES (?, ?, ?)", job.id, root, upload.shards.length);
      // 1. The pin: an existing live pin of the root is reused (idempotent across jobs).
      try {
        const existing = await registry.listPins({ cids: [root], match: "exact", status: ["queued", "pinning", "pinned"], limit: 1 });
        if (existing.results[0] !== undefined) {
          this.#sql.exec("UPDATE job_roots SET requestid = ?, pin_status = ? WHERE job = ? AND root = ?", existing.results[0].requestid, existing.results[0].status, job.id, root);
        } else {
          const pin = await registry.createPin({ cid: root, name: `storacha ${root}`, origins, meta: { source: "storacha", space: job.space } }, root);
          if ("failure" in pin) {
            this.#sql.exec("UPDATE job_roots SET error = ? WHERE job = ? AND root = ?", `pin refused: ${pin.message}`, job.id, root);
            continue;
          }
          this.#sql.exec("UPDATE job_roots SET requestid = ?, created_pin = 1, pin_status = ? WHERE job = ? AND root = ?", pin.requestid, pin.status, job.id, root);
        }
      } catch (err) {
        this.#sql.exec("UPDATE job_roots SET error = ? WHERE job = ? AND root = ?", `pin: ${err instanceof Error ? err.message : String(err)}`.slice(0, 300), job.id, root);
        continue;
      }
      // 2. Deals of each shard's piece, under watch.
      const deals: { dealId: string; provider: string; piece: string }[] = [];
      let error: string | null = null;
      for (const shard of upload.shards) {
        try {
          const piece = await space.pieceOf(shard);
          if (piece === null) continue;
          const info = await space.filecoinInfo(piece);
          for (const deal of info.deals) {
            await watchClassicDeal(this.env, { root, dealId: deal.dealId, account, providerId: deal.provider, pieceCid: piece, remoteId: `storacha-deal-${deal.dealId}/${root}` });
            if (!deals.some((d) => d.dealId === deal.dealId)) deals.push({ dealId: deal.dealId, provider: deal.provider, piece });
          }
        } catch (err) {
          error = `shard ${shard}: ${err instanceof Error ? err.message : String(err)}`.slice(0, 300);
          if (err instanceof StorachaError && err.kind === "unavailable" && job.attempts + 1 < PAGE_RUNS) {
            this.#sql.exec("UPDATE job_roots SET deals = ?, error = ? WHERE job = ? AND root = ?", JSON.stringify(deals), error, job.id, root);
            throw err;
          }
        }
      }
      this.#sql.exec("UPDATE job_roots SET deals = ?, error = ? WHERE job = ? AND root = ?", JSON.stringify(deals), error, job.id, root);
    }
  }

  #failedStep(job: JobRow, err: unknown): void {
    const now = Date.now();
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof StorachaError && (err.kind === "unauthorized" || err.kind === "misconfigured")) {
      // The delegation or the secrets: retrying will not help until the operator changes them.
      this.#sql.exec("UPDATE jobs SET state = 'failed', next_at = NULL, attempts = attempts + 1, last_error = ?, updated = ? WHERE id = ?", message, now, job.id);
      return;
    }
    const backoff = Math.min(BACKOFF_BASE_MS * 2 ** job.attempts, BACKOFF_MAX_MS);
    this.#sql.exec("UPDATE jobs SET attempts = attempts + 1, last_error = ?, next_at = ?, updated = ? WHERE id = ?", message, now + backoff, now, job.id);
  }

  async #refreshPins(id: string): Promise<void> {
    const rows = this.#sql
      .exec<{ root: string; requestid: string }>("SELECT root, requestid FROM job_roots WHERE job = ? AND requestid IS NOT NULL AND (pin_status IS NULL OR pin_status IN ('queued', 'pinning')) LIMIT 500", id)
      .toArray();
    if (rows.length === 0) return;
    const registry = registryStub(this.env, this.ctx.id.name!);
    for (let i = 0; i < rows.length; i += 100) {
      const batch = rows.slice(i, i + 100);
      const found = await registry.listPins({ cids: batch.map((r) => r.root), match: "exact", status: ["queued", "pinning", "pinned", "failed"], limit: 1000 });
      const byId = new Map(found.results.map((p) => [p.requestid, p.status]));
      for (const r of batch) this.#sql.exec("UPDATE job_roots SET pin_status = ? WHERE job = ? AND root = ?", byId.get(r.requestid) ?? "failed", id, r.root);
    }
  }

  async #schedule(): Promise<void> {
    const next = this.#sql.exec<{ t: number | null }>("SELECT MIN(next_at) AS t FROM jobs WHERE state = 'listing'").one().t;
    if (next === null) return;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > next) await this.ctx.storage.setAlarm(Math.max(next, Date.now()));
  }
}

function importBatch(env: Env): number {
  const n = Number(env.STORACHA_IMPORT_BATCH);
  return Number.isInteger(n) && n >= 1 && n <= 100 ? n : IMPORT_BATCH;
}

/** The Storacha import object of an account. */
export function storachaImportStub(env: Env, account: string): DurableObjectStub<StorachaImport> {
  return env.STORACHA_IMPORT.get(env.STORACHA_IMPORT.idFromName(account));
}
