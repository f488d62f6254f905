import { DurableObject } from "cloudflare:workers";
import { CID } from "multiformats/cid";
import { R2BlockStore } from "../backends/r2-block-store";
import { HttpError, type ErrorKind } from "../http/errors";
import { holdBlocks, releaseHolder } from "../pinning/block-refs";
import { upstreamDagSource } from "../pinning/dag-source";
import { whereClause } from "../pinning/list-query";
import { originUrls } from "../pinning/origins";
import { walkDag } from "../pinning/pin-walk";
import { PIN_REGISTRY_MIGRATIONS } from "../pinning/registry-schema";
import { DELIVERY_PRUNE_BATCH, GITHUB_DELIVERY_RETENTION_MS, STANDARD_DELIVERY_RETENTION_MS } from "../webhooks/delivery-retention";
import type { AccountLimits, PinFilter, PinInput, PinRecord, PinState, RegistryFailure } from "../pinning/pin-types";
import { migrate } from "./sql-migrations";
import { appendAudit, readAudit, type AuditEntry } from "../audit/audit-log";
import { countMetric, flushMetrics } from "../metrics/recorder";
import { logLine } from "../observability/log";
import { PIN_WORK_REGION } from "./metrics";
import { ReplicaEngine, PER_BACKEND } from "../replication/replica-engine";
import type { ReplicaCheck } from "../backends/replication-backend";
import type { ReplicaFilter, ReplicaView, RootStatus } from "../replication/replica-types";
import { MigrateJobs, type MigrateProgress, type MigrateSpec } from "../replication/migrate-jobs";
import { pinStatus } from "../psa/pin-status";

/** Wall-clock budget of one pin step inside an alarm, well under the alarm's limit. */
const STEP_MS = 20_000;
/** An alarm stops taking new work after this long (a step already started may run STEP_MS more). */
const ALARM_BUDGET_MS = 25_000;
/** Retry backoff after a failed attempt: 5 s doubling, at most 15 min. */
const BACKOFF_BASE_MS = 5_000;
const BACKOFF_MAX_MS = 15 * 60_000;
/** Fetch failures that may go away (the DAG may appear, an upstream may recover). */
const RETRYABLE = new Set<ErrorKind>(["not_found", "bad_gateway", "gateway_timeout"]);

type PinRow = {
  requestid: string;
  cid: string;
  root: string;
  name: string | null;
  origins: string;
  meta: string;
  status: PinState;
  created: number;
  deadline: number;
  attempt_count: number;
  last_error: string | null;
  status_details: string | null;
  dag_size: number | null;
  replaces: string | null;
};
type WorkRow = { kind: "pin" | "release" | "replica" | "migrate"; target: string };

/** The backend name the Filecoin watch reports classic deals under (src/backends/filecoin/watch-routes.ts). */
const DEAL_BACKEND = "filecoin-deal";

/**
 * The pins of one account (DESIGN.md "Durable Objects"): PSA pin records,
 * the state machine queued → pinning → pinned | failed, and the table of
 * due work one alarm drives. Every step is idempotent and its progress is
 * durable (SQLite rows, blocks in R2), so an object evicted or restarted
 * mid-pin resumes where the data says it was.
 */
export class PinRegistry extends DurableObject<Env> {
  readonly #sql: SqlStorage;
  readonly #store: R2BlockStore;
  /** Copies of pinned roots on the configured backends (src/replication/, docs/replication.md). */
  readonly #replicas: ReplicaEngine;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#store = new R2BlockStore(env.BLOCKS);
    this.#replicas = new ReplicaEngine(ctx.storage, env, () => ctx.id.name);
    ctx.blockConcurrencyWhile(async () => {
      migrate(ctx.storage, PIN_REGISTRY_MIGRATIONS);
      // A restart may have lost an in-flight alarm: due work must run again.
      await this.#schedule();
    });
  }

  // ---- PSA operations -------------------------------------------------

  /**
   * `POST /pins`. `root` is `input.cid` as CIDv1 (validated by the caller).
   * With `replaces` (a live requestid, see `replacePin`), that pin is
   * deleted in the same transaction and its roots stay held until this one
   * is pinned or failed.
   */
  async createPin(input: PinInput, root: string, opts: { replaces?: string; webhookId?: string } = {}): Promise<PinRecord | RegistryFailure> {
    if (opts.webhookId !== undefined) {
      const seen = this.pinOfDelivery(opts.webhookId);
      if (seen !== null) return seen;
    }
    const limits = this.limits();
    const usage = this.usage();
    const old = opts.replaces === undefined ? undefined : this.#sql.exec<{ root: string; status: PinState }>("SELECT root, status FROM pins WHERE requestid = ?", opts.replaces).toArray()[0];
    // The replaced pin goes away with this one's creation: it does not count against the quota.
    if (old !== undefined && old.status !== "failed") usage.pins--;
    if (usage.pins >= limits.maxPins) {
      return { failure: "insufficient_funds", message: `pin quota of this account reached (${limits.maxPins} pins)` };
    }
    if (usage.bytes >= limits.maxBytes) {
      return { failure: "insufficient_funds", message: `storage quota of this account reached (${limits.maxBytes} bytes)` };
    }
    const now = Date.now();
    const last = this.#sql.exec<{ c: number | null }>("SELECT MAX(created) AS c FROM pins").one().c ?? 0;
    const created = Math.max(now, last + 1);
    const requestid = crypto.randomUUID();
    const rootRow = this.#root(root);
    const pinned = rootRow?.complete === 1;
    this.ctx.storage.transactionSync(() => {
      this.#sql.exec(
        `INSERT INTO pins (requestid, cid, root, name, name_folded, origins, meta, status, created, updated, deadline, dag_size, replaces)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        requestid, input.cid, root, input.name ?? null, input.name?.toLowerCase() ?? null,
        JSON.stringify(input.origins), JSON.stringify(input.meta), pinned ? "pinned" : "queued",
        created, now, created + limits.deadlineMs, pinned ? rootRow.dag_size : null, opts.replaces ?? null,
      );
      for (const [key, value] of Object.entries(input.meta)) {
        this.#sql.exec("INSERT INTO pin_meta (requestid, key, value) VALUES (?, ?, ?)", requestid, key, value);
      }
      if (opts.webhookId !== undefined) {
        // What this delivery answers, now and on every replay (docs/pinning.md "Webhooks").
        this.#sql.exec(
          "INSERT INTO webhook_deliveries (webhook_id, requestid, received, answer) VALUES (?, ?, ?, ?)",
          opts.webhookId, requestid, now, JSON.stringify(this.getPin(requestid)),
        );
        this.#pruneDeliveries(now);
      }
      if (rootRow === undefined) {
        this.#sql.exec("INSERT INTO roots (root, complete) VALUES (?, 0)", root);
        this.#sql.exec("INSERT INTO holders (holder, root) VALUES (?, ?)", this.#newHolder(root), root);
      }
      if (!pinned) this.#sql.exec("INSERT OR REPLACE INTO work (kind, target, due_at) VALUES ('pin', ?, ?)", requestid, now);
      if (old !== undefined && old.status !== "failed" && !pinned) {
        // The replaced pin's roots (and those it was itself keeping) stay held until this pin settles.
        this.#sql.exec("INSERT OR IGNORE INTO retained (requestid, root) VALUES (?, ?)", requestid, old.root);
        this.#sql.exec("INSERT OR IGNORE INTO retained (requestid, root) SELECT ?, root FROM retained WHERE requestid = ?", requestid, opts.replaces!);
        this.#sql.exec("DELETE FROM retained WHERE requestid = ?", opts.replaces!);
      }
      appendAudit(this.#sql, opts.webhookId !== undefined ? "webhook" : "account", opts.replaces !== undefined ? "pin.replace" : "pin.create", requestid, {
        cid: input.cid, name: input.name ?? null, ...(opts.replaces !== undefined ? { replaces: opts.replaces } : {}),
      });
    });
    // Replace: the old pin is gone at once (spec: "The old pin object is deleted automatically").
    if (opts.replaces !== undefined) this.#removePin(opts.replaces);
    if (!pinned || this.#replicas.planRoot(root)) await this.#schedule();
    return this.getPin(requestid)!;
  }

  getPin(requestid: string): PinRecord | null {
    const row = this.#sql.exec<PinRow>("SELECT * FROM pins WHERE requestid = ?", requestid).toArray()[0];
    return row === undefined ? null : this.#record(row);
  }

  /**
   * What an earlier delivery of this webhook answered (the pin as it was
   * created, whatever happened to it since), or null for a new delivery.
   * Rows from before the answer was stored fall back to the pin as it is.
   */
  pinOfDelivery(webhookId: string): PinRecord | null {
    const row = this.#sql
      .exec<{ requestid: string; answer: string | null }>("SELECT requestid, answer FROM webhook_deliveries WHERE webhook_id = ?", webhookId)
      .toArray()[0];
    if (row === undefined) return null;
    return row.answer !== null ? (JSON.parse(row.answer) as PinRecord) : this.getPin(row.requestid);
  }

  /**
   * Forgets deliveries past their retention (webhooks/delivery-retention.ts:
   * Standard Webhooks after tolerance + 3 days, GitHub after 7 days), at most
   * DELIVERY_PRUNE_BATCH per new delivery, oldest first, so the table holds
   * about a retention window of deliveries.
   */
  #pruneDeliveries(now: number): void {
    this.#sql.exec(
      `DELETE FROM webhook_deliveries WHERE webhook_id IN (
         SELECT webhook_id FROM webhook_deliveries
         WHERE received < ? AND (webhook_id LIKE 'std:%' OR received < ?)
         ORDER BY received LIMIT ?)`,
      now - STANDARD_DELIVERY_RETENTION_MS, now - GITHUB_DELIVERY_RETENTION_MS, DELIVERY_PRUNE_BATCH,
    );
  }

  /** Deliveries remembered, oldest first (tests, diagnostics). */
  webhookDeliveries(): { webhook_id: string; requestid: string; received: number }[] {
    return this.#sql.exec<{ webhook_id: string; requestid: string; received: number }>("SELECT webhook_id, requestid, received FROM webhook_deliveries ORDER BY received").toArray();
  }

  /** `GET /pins`: newest first, `count` = every match (PSA PinResults). */
  listPins(filter: PinFilter): { count: number; results: PinRecord[] } {
    const where = whereClause(filter);
    const count = this.#sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM pins p WHERE ${where.sql}`, ...where.params).one().n;
    const rows = this.#sql
      .exec<PinRow>(`SELECT p.* FROM pins p WHERE ${where.sql} ORDER BY p.created DESC LIMIT ?`, ...where.params, filter.limit)
      .toArray();
    return { count, results: this.#records(rows) };
  }

  /** `DELETE /pins/{requestid}`; false when there is no such pin. */
  deletePin(requestid: string): boolean {
    const removed = this.#removePin(requestid);
    if (removed) appendAudit(this.#sql, "account", "pin.delete", requestid);
    return removed;
  }

  /**
   * `POST /pins/{requestid}` (replace): a new pin with a new requestid; the
   * old one is deleted at once (404, gone from lists and counts), while the
   * blocks it held stay held until the new pin is `pinned` or `failed`
   * (the spec's "avoid unnecessary garbage collection").
   */
  async replacePin(requestid: string, input: PinInput, root: string): Promise<PinRecord | RegistryFailure> {
    if (this.getPin(requestid) === null) return { failure: "not_found", message: "The specified resource was not found" };
    return this.createPin(input, root, { replaces: requestid });
  }

  // ---- uploads ----------------------------------------------------------

  /** Pins a DAG an upload already wrote to R2 under `holder` (it becomes the root's holder). */
  completeUpload(input: PinInput, root: string, holder: string, dagSize: number, blocks: number): PinRecord {
    const now = Date.now();
    const last = this.#sql.exec<{ c: number | null }>("SELECT MAX(created) AS c FROM pins").one().c ?? 0;
    const created = Math.max(now, last + 1);
    const requestid = crypto.randomUUID();
    const limits = this.limits();
    this.ctx.storage.transactionSync(() => {
      this.#sql.exec(
        `INSERT INTO roots (root, complete, dag_size, blocks) VALUES (?, 1, ?, ?)
         ON CONFLICT (root) DO UPDATE SET complete = 1, dag_size = excluded.dag_size, blocks = excluded.blocks`,
        root, dagSize, blocks,
      );
      this.#sql.exec("INSERT INTO holders (holder, root) VALUES (?, ?)", holder, root);
      this.#sql.exec(
        `INSERT INTO pins (requestid, cid, root, name, name_folded, origins, meta, status, created, updated, deadline, dag_size)
         VALUES (?, ?, ?, ?, ?, '[]', ?, 'pinned', ?, ?, ?, ?)`,
        requestid, input.cid, root, input.name ?? null, input.name?.toLowerCase() ?? null,
        JSON.stringify(input.meta), created, now, created + limits.deadlineMs, dagSize,
      );
      for (const [key, value] of Object.entries(input.meta)) {
        this.#sql.exec("INSERT INTO pin_meta (requestid, key, value) VALUES (?, ?, ?)", requestid, key, value);
      }
      appendAudit(this.#sql, "account", "pin.upload", requestid, { cid: input.cid, name: input.name ?? null, bytes: dagSize });
    });
    this.#settleRoot(root, dagSize);
    if (this.#replicas.planRoot(root)) void this.#schedule();
    return this.getPin(requestid)!;
  }

  /** An upload that failed lets go of the blocks it held. */
  async abandonUpload(holder: string): Promise<void> {
    this.#sql.exec("INSERT OR REPLACE INTO work (kind, target, due_at) VALUES ('release', ?, ?)", holder, Date.now());
    await this.#schedule();
  }

  // ---- tokens -----------------------------------------------------------------

  /** Whether a token hash is one of this account's live tokens. */
  hasToken(sha256: string): boolean {
    return this.#sql.exec("SELECT 1 FROM tokens WHERE sha256 = ?", sha256).toArray().length > 0;
  }

  /**
   * The PSA list's body (PinResults, JSON) for the holder of a token, or
   * null when `sha256` is not one of this account's live tokens: the token
   * check and the listing in one RPC (src/accounts/auth.ts
   * `requireMintedToken`). `delegates`: the PinStatus delegates
   * (src/psa/delegates.ts).
   */
  listPinsWithToken(sha256: string, filter: PinFilter, delegates: string[]): string | null {
    if (!this.hasToken(sha256)) return null;
    const list = this.listPins(filter);
    // The PSA PinResults body itself: a string crosses the RPC boundary far cheaper than the records' object graph.
    return JSON.stringify({ count: list.count, results: list.results.map((r) => pinStatus(r, delegates)) });
  }

  addToken(id: string, sha256: string): void {
    this.#sql.exec("INSERT OR REPLACE INTO tokens (id, sha256) VALUES (?, ?)", id, sha256);
    appendAudit(this.#sql, "operator", "token.mint", id);
  }

  removeToken(id: string): void {
    this.#sql.exec("DELETE FROM tokens WHERE id = ?", id);
    appendAudit(this.#sql, "operator", "token.revoke", id);
  }

  // ---- account settings ---------------------------------------------------

  limits(): AccountLimits {
    const get = (key: string, fallback: string | undefined, dflt: number): number => {
      const row = this.#sql.exec<{ value: string }>("SELECT value FROM settings WHERE key = ?", key).toArray()[0];
      const n = Number(row?.value ?? fallback);
      return Number.isFinite(n) && n >= 0 ? n : dflt;
    };
    return {
      maxPins: get("max_pins", this.env.ACCOUNT_MAX_PINS, 100_000),
      maxBytes: get("max_bytes", this.env.ACCOUNT_MAX_BYTES, 100 * 2 ** 30),
      deadlineMs: get("deadline_ms", this.env.PIN_DEADLINE_MS, 86_400_000),
      maxConcurrent: Math.max(1, get("max_concurrent", this.env.PIN_MAX_CONCURRENT, 4)),
      stepBlocks: Math.max(1, get("step_blocks", undefined, 10_000)),
    };
  }

  setLimits(limits: Partial<AccountLimits>): AccountLimits {
    const keys: Record<keyof AccountLimits, string> = {
      maxPins: "max_pins", maxBytes: "max_bytes", deadlineMs: "deadline_ms", maxConcurrent: "max_concurrent", stepBlocks: "step_blocks",
    };
    for (const [field, key] of Object.entries(keys) as [keyof AccountLimits, string][]) {
      const value = limits[field];
      if (value !== undefined) this.#sql.exec("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", key, String(value));
    }
    appendAudit(this.#sql, "operator", "limits.set", null, { ...limits });
    return this.limits();
  }

  /**
   * Pins counted against the quota (all but failed), and bytes: the sum over
   * the distinct complete roots of each root's DAG size (its distinct blocks),
   * so a block shared by two roots counts once per root (docs/pinning.md).
   * Every byte quota check uses this number.
   */
  usage(): { pins: number; bytes: number } {
    const pins = this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM pins WHERE status != 'failed'").one().n;
    const bytes = this.#sql.exec<{ b: number | null }>("SELECT SUM(dag_size) AS b FROM roots WHERE complete = 1").one().b ?? 0;
    return { pins, bytes };
  }

  /**
   * Bytes of the complete roots whose first pin was created at or after
   * `since` (ms): the account's recent growth, for the dashboard's cost
   * projection (src/dashboard/cost.ts).
   */
  addedBytesSince(since: number): number {
    return (
      this.#sql
        .exec<{ b: number | null }>(
          "SELECT SUM(r.dag_size) AS b FROM roots r WHERE r.complete = 1 AND (SELECT MIN(p.created) FROM pins p WHERE p.root = r.root) >= ?",
          since,
        )
        .one().b ?? 0
    );
  }

  setWebhookSecrets(secrets: string[]): void {
    this.#sql.exec("INSERT OR REPLACE INTO settings (key, value) VALUES ('webhook_secrets', ?)", JSON.stringify(secrets));
    appendAudit(this.#sql, "operator", "webhook_secrets.set", null, { count: secrets.length });
  }

  webhookSecrets(): string[] {
    const row = this.#sql.exec<{ value: string }>("SELECT value FROM settings WHERE key = 'webhook_secrets'").toArray()[0];
    return row === undefined ? [] : (JSON.parse(row.value) as string[]);
  }

  /** Holders of this account's roots (tests, diagnostics). */
  holdersOf(root: string): string[] {
    return this.#sql.exec<{ holder: string }>("SELECT holder FROM holders WHERE root = ?", root).toArray().map((r) => r.holder);
  }

  /** Pins by state (`/metrics`: ipfs_edge_pins). */
  pinCountsByState(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const r of this.#sql.exec<{ status: string; n: number }>("SELECT status, COUNT(*) AS n FROM pins GROUP BY status")) counts[r.status] = r.n;
    return counts;
  }

  /** The account's audit trail, newest first (src/audit/audit-log.ts). */
  auditLog(query: { before?: number; limit: number; action?: string }): AuditEntry[] {
    return readAudit(this.#sql, query);
  }

  /** Work still to do (tests, diagnostics). */
  pendingWork(): { kind: string; target: string; due_at: number }[] {
    return this.#sql.exec<{ kind: string; target: string; due_at: number }>("SELECT kind, target, due_at FROM work ORDER BY due_at").toArray();
  }

  // ---- the alarm ------------------------------------------------------------

  /**
   * Runs the work that is due with `maxConcurrent` slots: each slot takes
   * the next due item not already running, until nothing is due or the
   * alarm's time budget is spent, then the alarm re-arms for the next due
   * item. Each item records its own outcome, so one failing pin never
   * blocks the others; a slot never waits for the slowest of a batch.
   */
  override async alarm(): Promise<void> {
    const limits = this.limits();
    const until = Date.now() + ALARM_BUDGET_MS;
    const running = new Set<string>();
    const take = (): WorkRow | undefined => {
      const rows = this.#sql
        .exec<WorkRow>("SELECT kind, target FROM work WHERE due_at <= ? ORDER BY due_at, target LIMIT ?", Date.now(), running.size + 1 + 16 * PER_BACKEND)
        .toArray();
      // Replica steps: at most PER_BACKEND per backend, so a slow backend never holds every slot.
      return rows.find((w) => !running.has(`${w.kind}:${w.target}`) && (w.kind !== "replica" || this.#replicas.admits(w.target)));
    };
    const slot = async (): Promise<void> => {
      for (let work = take(); work !== undefined && Date.now() < until; work = take()) {
        const key = `${work.kind}:${work.target}`;
        running.add(key);
        try {
          if (work.kind === "pin") await this.#pinStep(work.target, limits);
          else if (work.kind === "replica") await this.#replicas.step(work.target);
          else if (work.kind === "migrate") this.#migrateStep(work.target);
          else await this.#release(work.target);
        } finally {
          running.delete(key);
        }
      }
    };
    await Promise.all(Array.from({ length: limits.maxConcurrent }, slot));
    await this.#schedule();
    // Step failures counted by this alarm reach the Metrics object (src/metrics/recorder.ts); never throws.
    await flushMetrics(this.env, PIN_WORK_REGION);
  }

  async #schedule(): Promise<void> {
    const next = this.#sql.exec<{ t: number | null }>("SELECT MIN(due_at) AS t FROM work").one().t;
    if (next === null) return;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > next) await this.ctx.storage.setAlarm(Math.max(next, Date.now()));
  }

  async #release(holder: string): Promise<void> {
    try {
      await releaseHolder(this.env, holder);
      this.#sql.exec("DELETE FROM work WHERE kind = 'release' AND target = ?", holder);
    } catch (err) {
      console.error("release failed", err instanceof Error ? err.message : String(err));
      this.#sql.exec("UPDATE work SET due_at = ? WHERE kind = 'release' AND target = ?", Date.now() + BACKOFF_BASE_MS, holder);
    }
  }

  /** One resumable step of pinning `requestid` (docs/storage.md "State machine"). */
  async #pinStep(requestid: string, limits: AccountLimits): Promise<void> {
    const pin = this.#sql.exec<PinRow>("SELECT * FROM pins WHERE requestid = ?", requestid).toArray()[0];
    if (pin === undefined || pin.status === "pinned" || pin.status === "failed") {
      this.#sql.exec("DELETE FROM work WHERE kind = 'pin' AND target = ?", requestid);
      return;
    }
    const rootRow = this.#root(pin.root);
    if (rootRow?.complete === 1) {
      this.#settleRoot(pin.root, rootRow.dag_size ?? 0);
      return;
    }
    const holder = this.#holderOf(pin.root);
    if (pin.status === "queued") {
      this.#sql.exec(
        "UPDATE pins SET status = 'pinning', attempt_count = attempt_count + 1, updated = ?, status_details = 'fetching the DAG' WHERE requestid = ?",
        Date.now(), requestid,
      );
    }
    const root = CID.parse(pin.root);
    const used = this.usage().bytes;
    try {
      const result = await walkDag(
        root,
        {
          store: this.#store,
          hold: (cids) => holdBlocks(this.env, holder, cids),
          source: upstreamDagSource(this.env, originUrls(JSON.parse(pin.origins) as string[])),
        },
        { maxNewBlocks: limits.stepBlocks, until: Date.now() + STEP_MS, maxDagBytes: Math.max(0, limits.maxBytes - used) },
      );
      switch (result.kind) {
        case "complete":
          this.#sql.exec("UPDATE roots SET complete = 1, dag_size = ?, blocks = ? WHERE root = ?", result.dagSize, result.blocks, pin.root);
          this.#settleRoot(pin.root, result.dagSize);
          break;
        case "paused":
          this.#sql.exec(
            "UPDATE pins SET status_details = ?, dag_size = ?, updated = ? WHERE requestid = ? AND status = 'pinning'",
            `fetched ${result.blocks} blocks (${result.dagSize} bytes) so far`, result.dagSize, Date.now(), requestid,
          );
          this.#sql.exec("UPDATE work SET due_at = ? WHERE kind = 'pin' AND target = ?", Date.now(), requestid);
          break;
        case "over_quota":
          this.#fail(requestid, `INSUFFICIENT_FUNDS: the DAG exceeds the storage left to this account (${Math.max(0, limits.maxBytes - used)} bytes)`);
          break;
      }
    } catch (err) {
      const message = err instanceof HttpError ? err.message : err instanceof Error ? `internal error: ${err.message}` : "internal error";
      if (!(err instanceof HttpError)) console.error("pin step failed", message);
      const attempts = pin.attempt_count + (pin.status === "queued" ? 1 : 0);
      const backoff = Math.min(BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1), BACKOFF_MAX_MS);
      const now = Date.now();
      // Only "not had yet" is worth retrying; a DAG we cannot verify or parse will not improve.
      const retryable = !(err instanceof HttpError) || RETRYABLE.has(err.kind);
      const outcome = !retryable || now + backoff >= pin.deadline ? "failed" : err instanceof HttpError ? "retry" : "internal";
      countMetric(PIN_WORK_REGION, "ipfs_edge_pin_step_failures_total", { outcome });
      logLine({ kind: "pin", event: `step_${outcome}`, account: this.ctx.id.name, requestid, cid: pin.cid, error: message });
      if (!retryable) {
        this.#fail(requestid, `the DAG cannot be pinned: ${message}`, message);
      } else if (now + backoff >= pin.deadline) {
        this.#fail(requestid, `the DAG could not be fetched before the deadline (${new Date(pin.deadline).toISOString()}): ${message}`, message);
      } else {
        this.#sql.exec(
          "UPDATE pins SET status = 'queued', last_error = ?, status_details = ?, updated = ? WHERE requestid = ? AND status = 'pinning'",
          message, `attempt ${attempts} failed, retrying at ${new Date(now + backoff).toISOString()}`, now, requestid,
        );
        this.#sql.exec("UPDATE work SET due_at = ? WHERE kind = 'pin' AND target = ?", now + backoff, requestid);
      }
    }
    // Removed while this step ran: the blocks it held must be let go.
    this.#releaseRootIfUnused(pin.root);
  }

  /** The root is complete: every pin waiting on it becomes `pinned`; replaced pins go. */
  #settleRoot(root: string, dagSize: number): void {
    const waiting = this.#sql
      .exec<{ requestid: string; replaces: string | null }>("SELECT requestid, replaces FROM pins WHERE root = ? AND status IN ('queued', 'pinning')", root)
      .toArray();
    const now = Date.now();
    for (const pin of waiting) {
      this.#sql.exec(
        "UPDATE pins SET status = 'pinned', dag_size = ?, status_details = NULL, updated = ? WHERE requestid = ?",
        dagSize, now, pin.requestid,
      );
      appendAudit(this.#sql, "system", "pin.pinned", pin.requestid, { root, bytes: dagSize });
      logLine({ kind: "pin", event: "pinned", account: this.ctx.id.name, requestid: pin.requestid, cid: root, bytes: dagSize });
      this.#sql.exec("DELETE FROM work WHERE kind = 'pin' AND target = ?", pin.requestid);
    }
    // Pins replaced before the old rows were deleted at once (schema version ≤ 3) go now.
    for (const pin of waiting) if (pin.replaces !== null) this.#removePin(pin.replaces);
    for (const pin of waiting) this.#dropRetained(pin.requestid);
    if (waiting.length > 0 && this.#replicas.planRoot(root)) void this.#schedule();
  }

  #fail(requestid: string, reason: string, lastError?: string): void {
    const pin = this.#sql.exec<{ root: string }>("SELECT root FROM pins WHERE requestid = ?", requestid).toArray()[0];
    this.#sql.exec(
      "UPDATE pins SET status = 'failed', status_details = ?, last_error = COALESCE(?, last_error), updated = ? WHERE requestid = ?",
      reason, lastError ?? null, Date.now(), requestid,
    );
    this.#sql.exec("DELETE FROM work WHERE kind = 'pin' AND target = ?", requestid);
    appendAudit(this.#sql, "system", "pin.failed", requestid, { reason });
    logLine({ kind: "pin", event: "failed", account: this.ctx.id.name, requestid, cid: pin?.root, error: reason });
    if (pin !== undefined) this.#releaseRootIfUnused(pin.root);
    this.#dropRetained(requestid);
  }

  #removePin(requestid: string): boolean {
    const pin = this.#sql.exec<{ root: string }>("SELECT root FROM pins WHERE requestid = ?", requestid).toArray()[0];
    if (pin === undefined) return false;
    this.ctx.storage.transactionSync(() => {
      this.#sql.exec("DELETE FROM pins WHERE requestid = ?", requestid);
      this.#sql.exec("DELETE FROM pin_meta WHERE requestid = ?", requestid);
      this.#sql.exec("DELETE FROM work WHERE kind = 'pin' AND target = ?", requestid);
    });
    this.#releaseRootIfUnused(pin.root);
    this.#dropRetained(requestid);
    // Another pin of the root may want other copies (its meta or name differ).
    if (this.#replicas.planRoot(pin.root)) void this.#schedule();
    return true;
  }

  /** `requestid` settled or went: the roots it kept for the pin it replaced are let go if nothing else needs them. */
  #dropRetained(requestid: string): void {
    const roots = this.#sql.exec<{ root: string }>("SELECT root FROM retained WHERE requestid = ?", requestid).toArray();
    if (roots.length === 0) return;
    this.#sql.exec("DELETE FROM retained WHERE requestid = ?", requestid);
    for (const { root } of roots) this.#releaseRootIfUnused(root);
  }

  /**
   * When no live pin (queued, pinning, pinned) needs `root` any more, and
   * no pending replace keeps it, its holders are released (durably, as
   * work) and never reused; a later pin of the same root starts with a
   * fresh holder.
   */
  #releaseRootIfUnused(root: string): void {
    const live = this.#sql.exec("SELECT 1 FROM pins WHERE root = ? AND status != 'failed' LIMIT 1", root).toArray().length > 0;
    if (live) return;
    if (this.#sql.exec("SELECT 1 FROM retained WHERE root = ? LIMIT 1", root).toArray().length > 0) return;
    // Every copy on other backends goes too, after the grace period (src/replication/).
    if (this.#replicas.unplanRoot(root)) void this.#schedule();
    const holders = this.#sql.exec<{ holder: string }>("SELECT holder FROM holders WHERE root = ?", root).toArray();
    const now = Date.now();
    this.ctx.storage.transactionSync(() => {
      for (const { holder } of holders) {
        this.#sql.exec("INSERT OR REPLACE INTO work (kind, target, due_at) VALUES ('release', ?, ?)", holder, now);
      }
      this.#sql.exec("DELETE FROM holders WHERE root = ?", root);
      this.#sql.exec("DELETE FROM roots WHERE root = ?", root);
    });
    if (holders.length > 0) void this.#schedule();
  }

  #record(row: PinRow): PinRecord {
    return this.#records([row])[0]!;
  }

  /** Records with their replication `info` lines, in two queries for the whole page (ReplicaEngine.summaries). */
  #records(rows: PinRow[]): PinRecord[] {
    const summaries = this.#replicas.summaries(rows.map((r) => ({ root: r.root, pinState: r.status })));
    return rows.map((row, i) => {
      const record = toRecord(row);
      Object.assign(record.info, summaries[i]);
      return record;
    });
  }

  // ---- replication (issue 9; the logic lives in src/replication/) ----------

  /** Unified status of a root (`GET /api/v1/pins/{cid}`): R2 and every replica, pessimistic aggregate. */
  rootStatus(root: string): RootStatus | null {
    return this.#replicas.rootStatus(root);
  }

  /** Roots of this account, newest pin first, with their unified status (`GET /api/v1/pins`). */
  listRootStatus(limit: number, offset: number): { count: number; results: RootStatus[] } {
    const count = this.#sql.exec<{ n: number }>("SELECT COUNT(DISTINCT root) AS n FROM pins").one().n;
    const roots = this.#sql
      .exec<{ root: string }>("SELECT root FROM pins GROUP BY root ORDER BY MAX(created) DESC LIMIT ? OFFSET ?", limit, offset)
      .toArray();
    return { count, results: roots.map((r) => this.#replicas.rootStatus(r.root)).filter((s): s is RootStatus => s !== null) };
  }

  /** Copies by backend and state (`GET /api/v1/replicas`); `checkedSince`: how many were checked since. */
  replicaCounts(checkedSince?: number): { byBackend: Record<string, Record<string, number>>; total: number; checkedSince?: number } {
    return this.#replicas.counts(checkedSince);
  }

  /** Unified status of several roots at once (the dashboard's pins table: one RPC per page, at most 100 roots). */
  rootStatuses(roots: string[]): (RootStatus | null)[] {
    return roots.slice(0, 100).map((r) => this.#replicas.rootStatus(r));
  }

  /** Bytes on each backend and those stored since `since` (the cost estimate, /metrics; integration of issues 9 and 12). */
  replicaStorage(since: number): Record<string, { copies: number; bytes: number; addedBytes: number }> {
    return this.#replicas.storage(since);
  }

  /** Replicas matching `filter` (monitors, the verification cron), paged by `next`. */
  listReplicas(filter: ReplicaFilter): { replicas: ReplicaView[]; next: string | null } {
    return this.#replicas.list(filter);
  }

  /**
   * A monitor (e.g. the Filecoin cron) reports what it found about the copy
   * `remoteId` on `backend`: `lost`/`at_risk` schedule a new copy (the old
   * one is removed only once the new one is stored). Throws when this
   * account has no such replica. A classic deal (`filecoin-deal`) is renewed
   * on the Filecoin backend instead (`ReplicaEngine.renewDeal`).
   */
  async reportReplicaCheck(root: string, backend: string, remoteId: string, check: ReplicaCheck): Promise<void> {
    // A classic deal the watch follows has no replica row here: its renewal is a new Filecoin copy (issue 10).
    if (backend === DEAL_BACKEND) {
      if (this.#replicas.renewDeal(root, remoteId, check)) await this.#schedule();
      return;
    }
    const row = this.#replicas.findByRemote(backend, remoteId);
    if (row === undefined || row.root !== root) throw new Error(`no replica ${remoteId} of ${root} on backend ${backend}`);
    await this.#replicas.applyCheck(root, backend, check);
    await this.#schedule();
  }

  /**
   * Whether this account still holds replica `remoteId` of `root` on
   * `backend`, or is storing the root there now (no remote id yet: its
   * store may find the same pieces). Removing or removed: no. The Filecoin
   * watch asks every account before deleting a piece whose owners it cannot
   * name (FilecoinWatch.claimRemoval).
   */
  holdsReplica(root: string, backend: string, remoteId: string): boolean {
    return this.#sql
      .exec("SELECT 1 FROM replicas WHERE root = ? AND backend = ? AND state NOT IN ('removing', 'removed') AND (remote_id = ? OR remote_id IS NULL) LIMIT 1", root, backend, remoteId)
      .toArray().length > 0;
  }

  /** The verification cron: up to `count` stored copies, least recently checked first, are checked now. */
  async scheduleReplicaChecks(count: number, minAgeMs: number): Promise<number> {
    const n = this.#replicas.scheduleChecks(count, minAgeMs);
    if (n > 0) await this.#schedule();
    return n;
  }

  /** `POST /api/v1/migrate` with dryRun: the roots a spec selects (first `limit`) and how many in all. */
  previewMigration(spec: MigrateSpec, limit: number): { count: number; roots: string[] } {
    const jobs = new MigrateJobs(this.#sql);
    let count = 0;
    const roots: string[] = [];
    for (let cursor = "", batch = jobs.select(spec, cursor, 1000); batch.length > 0; cursor = batch.at(-1)!, batch = jobs.select(spec, cursor, 1000)) {
      count += batch.length;
      for (const root of batch) if (roots.length < limit) roots.push(root);
    }
    return { count, roots };
  }

  /** A resumable migration job (`POST /api/v1/migrate`): selected in alarm steps, copied by the engine. */
  async startMigration(spec: MigrateSpec): Promise<MigrateProgress> {
    const jobs = new MigrateJobs(this.#sql);
    const id = jobs.create(spec);
    await this.#schedule();
    return jobs.progress(id)!;
  }

  migrationProgress(id: string): MigrateProgress | null {
    return new MigrateJobs(this.#sql).progress(id);
  }

  #migrateStep(id: string): void {
    let planned = false;
    for (const root of new MigrateJobs(this.#sql).step(id)) planned = this.#replicas.planRoot(root) || planned;
    if (planned) void this.#schedule();
  }

  #root(root: string): { complete: number; dag_size: number | null } | undefined {
    return this.#sql.exec<{ complete: number; dag_size: number | null }>("SELECT complete, dag_size FROM roots WHERE root = ?", root).toArray()[0];
  }

  #holderOf(root: string): string {
    const row = this.#sql.exec<{ holder: string }>("SELECT holder FROM holders WHERE root = ? LIMIT 1", root).toArray()[0];
    if (row !== undefined) return row.holder;
    // A failed pin retried later: its root row was released; start afresh.
    const holder = this.#newHolder(root);
    this.#sql.exec("INSERT OR IGNORE INTO roots (root, complete) VALUES (?, 0)", root);
    this.#sql.exec("INSERT INTO holders (holder, root) VALUES (?, ?)", holder, root);
    return holder;
  }

  #newHolder(root: string): string {
    return `${this.ctx.id.toString()}/${root}/${crypto.randomUUID()}`;
  }
}

function toRecord(row: PinRow): PinRecord {
  const info: Record<string, string> = {};
  if (row.status_details !== null) info.status_details = row.status_details;
  if (row.dag_size !== null) info.dag_size = String(row.dag_size);
  info.attempt_count = String(row.attempt_count);
  if (row.last_error !== null) info.last_error = row.last_error;
  if (row.status === "failed" && row.status_details !== null) info.failure_reason = row.status_details;
  const pin: PinInput = { cid: row.cid, origins: JSON.parse(row.origins) as string[], meta: JSON.parse(row.meta) as Record<string, string> };
  if (row.name !== null) pin.name = row.name;
  return { requestid: row.requestid, status: row.status, created: row.created, pin, info };
}

/** The registry of one account. */
export function registryStub(env: Env, account: string): DurableObjectStub<PinRegistry> {
  return env.PIN_REGISTRY.get(env.PIN_REGISTRY.idFromName(account));
}
