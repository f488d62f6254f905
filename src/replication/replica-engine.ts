import { backendConfigs } from "../backends/backend-config";
import { loadBackend } from "../backends/backend-registry";
import {
  BackendError,
  type DagToStore,
  type Json,
  type ReplicaCheck,
  type ReplicaRef,
  type ReplicationBackend,
  type StoreOutcome,
} from "../backends/replication-backend";
import { accountsStub } from "../durable-objects/accounts";
import { aggregateState } from "./aggregate";
import { dagCar, measureDagCar } from "./dag-car";
import { MigrateJobs } from "./migrate-jobs";
import { planFor, replicationPolicy, type Plan } from "./policy";
import { rootCid } from "./r2-dag-walk";
import { filecoinCopiesInfo } from "../backends/filecoin/copy-info";
import { setHolderSource, trustlessBaseOf } from "./holder-index";
import { toView, type ReplicaFilter, type ReplicaRow, type ReplicaState, type ReplicaView, type RootStatus } from "./replica-types";

/** Wall-clock budget of one replica step (store/check/remove) inside the alarm. */
const STEP_MS = 20_000;
/** Replica steps of one backend at once in an account: a slow backend holds at most these slots. */
export const PER_BACKEND = 2;
/** Retry after a retryable failure: 10 s doubling, at most 1 h; after MAX_ATTEMPTS the copy is `failed` and retried every FAILED_RETRY_MS. */
const BACKOFF_BASE_MS = 10_000;
const BACKOFF_MAX_MS = 3_600_000;
const MAX_ATTEMPTS = 8;
const FAILED_RETRY_MS = 6 * 3_600_000;
/** Credentials refused: try again after this long (the operator may have fixed the secret). */
const UNAUTHORIZED_RETRY_MS = 3_600_000;
/** A stored copy whose check failed (the backend could not be asked) is checked again after this long. */
const CHECK_RETRY_MS = 15 * 60_000;
/** A copy out of the plan waits this long between looks at whether the wanted copies are stored. */
const SURPLUS_WAIT_MS = 60_000;
/** Log entries kept per replica. */
const LOG_KEEP = 50;

type PinFactsRow = { requestid: string; name: string | null; meta: string; status: string; created: number; dag_size: number | null };

/**
 * The replication engine of one account's PinRegistry (docs/replication.md):
 * plans copies of pinned roots from the policy, and runs one resumable step
 * per replica from the registry's alarm work table (kind 'replica', target
 * `<root> <backend>`). Every outcome is written before the step returns, so
 * eviction at any point leaves a row whose next step redoes at most one
 * backend call; uploads resume from the backend's checkpoint.
 */
export class ReplicaEngine {
  readonly #sql: SqlStorage;
  readonly #storage: DurableObjectStorage;
  readonly #env: Env;
  readonly #account: () => string | undefined;
  /**
   * Replica steps running in this instance, across alarm invocations (a
   * test's or the platform's alarm may overlap another): one step per
   * replica at a time, PER_BACKEND per backend.
   */
  readonly #inflight = new Set<string>();

  constructor(storage: DurableObjectStorage, env: Env, account: () => string | undefined) {
    this.#storage = storage;
    this.#sql = storage.sql;
    this.#env = env;
    this.#account = account;
  }

  // ---- planning (hooks of the pin state machine) -------------------------------

  /**
   * A root is held in R2 (pinned) or its pins changed: (re)computes its
   * plan and makes the replica rows match. New copies are queued; copies
   * out of the plan are kept until every wanted one is stored (replace
   * and migrate move copies without a gap); copies being removed that are
   * wanted again come back and are checked. Returns whether work was added.
   */
  planRoot(root: string): boolean {
    const pins = this.#sql
      .exec<PinFactsRow>("SELECT requestid, name, meta, status, created, dag_size FROM pins WHERE root = ? AND status = 'pinned'", root)
      .toArray();
    if (pins.length === 0) return false;
    let plan: Plan;
    try {
      const configs = backendConfigs(this.#env);
      const policy = replicationPolicy(this.#env);
      const plans = pins.map((p) =>
        planFor(policy, { size: p.dag_size ?? 0, meta: JSON.parse(p.meta) as Record<string, string>, account: this.#account() ?? "", ...(p.name === null ? {} : { name: p.name }) }, configs),
      );
      plan = {
        backends: [...new Set(plans.flatMap((p) => p.backends))],
        minCopies: Math.max(...plans.map((p) => p.minCopies)),
        rule: [...new Set(plans.map((p) => p.rule))].join(", "),
        problems: [...new Set(plans.flatMap((p) => p.problems))],
      };
    } catch (err) {
      // A broken BACKENDS or REPLICATION_POLICY: R2 keeps the pin; say why nothing else happens.
      plan = { backends: ["r2"], minCopies: 1, rule: "none", problems: [err instanceof Error ? err.message : String(err)] };
    }
    // Migrations add and drop copies on top of the policy (src/replication/migrate-jobs.ts); R2 stays.
    const override = new MigrateJobs(this.#sql).override(root);
    if (override.add.length > 0 || override.drop.length > 0) {
      plan.backends = [...new Set([...plan.backends, ...override.add])].filter((b) => b === "r2" || !override.drop.includes(b));
      plan.minCopies = Math.min(plan.minCopies, plan.backends.length);
      plan.rule += " + migration";
    }
    // R2 alone (the default policy): the pin itself is the copy, no replica rows are kept.
    if (plan.backends.length === 1 && plan.problems.length === 0 && this.#rowsOf(root).length === 0) return false;
    const now = Date.now();
    let added = false;
    this.#storage.transactionSync(() => {
      this.#sql.exec(
        `INSERT INTO replica_roots (root, plan) VALUES (?, ?) ON CONFLICT (root) DO UPDATE SET plan = excluded.plan`,
        root, JSON.stringify(plan),
      );
      const rows = new Map(this.#rowsOf(root).map((r) => [r.backend, r]));
      for (const backend of plan.backends) {
        const row = rows.get(backend);
        if (row === undefined) {
          this.#sql.exec("INSERT INTO replicas (root, backend, state, created, updated) VALUES (?, ?, 'queued', ?, ?)", root, backend, now, now);
          this.#log(root, backend, "planned", `policy ${plan.rule}`);
          this.#due(root, backend, now);
          added = true;
        } else if (row.state === "removing" || row.state === "removed" || row.wanted === 0) {
          const back = row.state === "removed" || row.remote_id === null ? { state: "queued", next: "store" } : { state: "stored", next: "check" };
          this.#sql.exec(
            "UPDATE replicas SET wanted = 1, state = ?, next = ?, remove_after = NULL, updated = ? WHERE root = ? AND backend = ?",
            back.state, back.next, now, root, backend,
          );
          this.#log(root, backend, "wanted again", `policy ${plan.rule}`);
          this.#due(root, backend, now);
          added = true;
        }
      }
      for (const row of rows.values()) {
        if (!plan.backends.includes(row.backend) && row.wanted === 1 && row.state !== "removing" && row.state !== "removed") {
          this.#sql.exec("UPDATE replicas SET wanted = 0, updated = ? WHERE root = ? AND backend = ?", now, root, row.backend);
          this.#log(root, row.backend, "unwanted", "no longer in the plan: removed once the wanted copies are stored");
          this.#due(root, row.backend, now);
          added = true;
        }
      }
    });
    if (added) void this.#noteAccount();
    return added;
  }

  /** No live pin needs `root` any more: every copy is removed after the grace period (GC_GRACE_MS). */
  unplanRoot(root: string): boolean {
    const rows = this.#rowsOf(root);
    if (rows.length === 0) return false;
    const grace = Number(this.#env.GC_GRACE_MS ?? "3600000");
    const after = Date.now() + (Number.isFinite(grace) && grace >= 0 ? grace : 3_600_000);
    this.#storage.transactionSync(() => {
      for (const row of rows) {
        if (row.state === "removing" || row.state === "removed") continue;
        if (row.remote_id === null && row.progress === null && row.superseded === "[]") {
          this.#forget(root, row.backend);
          continue;
        }
        this.#sql.exec(
          "UPDATE replicas SET state = 'removing', next = 'remove', wanted = 0, remove_after = ?, updated = ? WHERE root = ? AND backend = ?",
          after, Date.now(), root, row.backend,
        );
        this.#log(root, row.backend, "unpinned", `removed after ${new Date(after).toISOString()}`);
        this.#due(root, row.backend, after);
      }
      this.#sql.exec("DELETE FROM replica_roots WHERE root = ? AND NOT EXISTS (SELECT 1 FROM replicas WHERE root = ?)", root, root);
      this.#sql.exec("DELETE FROM replica_overrides WHERE root = ?", root);
    });
    return true;
  }

  // ---- the alarm step --------------------------------------------------------------

  /** Whether one more step of `target` fits the per-backend bound, given the replica steps running. */
  admits(target: string): boolean {
    if (this.#inflight.has(target)) return false;
    const backend = target.slice(target.indexOf(" ") + 1);
    let same = 0;
    for (const key of this.#inflight) if (key.endsWith(` ${backend}`)) same++;
    return same < PER_BACKEND;
  }

  /** One step of the replica `<root> <backend>`; never throws for a backend's failure (it is recorded). */
  async step(target: string): Promise<void> {
    if (this.#inflight.has(target)) return;
    this.#inflight.add(target);
    try {
      await this.#step(target);
    } finally {
      this.#inflight.delete(target);
    }
  }

  async #step(target: string): Promise<void> {
    const space = target.indexOf(" ");
    const root = target.slice(0, space);
    const backendName = target.slice(space + 1);
    const row = this.#row(root, backendName);
    if (row === undefined || row.next === "none") {
      this.#sql.exec("DELETE FROM work WHERE kind = 'replica' AND target = ?", target);
      return;
    }
    let backend: ReplicationBackend;
    try {
      backend = await loadBackend(this.#env, backendName);
    } catch (err) {
      this.#failed(row, err);
      return;
    }
    try {
      if (row.state === "removing") await this.#remove(row, backend);
      else if (row.wanted === 0) await this.#surplus(row, backend);
      else if (row.next === "check") await this.#check(row, backend);
      else await this.#store(row, backend);
    } catch (err) {
      this.#failed(row, err);
    }
  }

  async #store(row: ReplicaRow, backend: ReplicationBackend): Promise<void> {
    const { root, backend: name } = row;
    const attempts = row.attempts + 1;
    // A lost or endangered copy keeps saying so until its replacement is stored.
    this.#sql.exec(
      "UPDATE replicas SET state = CASE WHEN state IN ('lost', 'at_risk') THEN state ELSE 'replicating' END, attempts = ?, updated = ? WHERE root = ? AND backend = ?",
      attempts, Date.now(), root, name,
    );
    this.#log(root, name, "store", `attempt ${attempts}${row.progress === null ? "" : " (resuming)"}`);
    const dag = await this.#dagToStore(root);
    // A repair must not land where the failing copy is (DagToStore.avoid).
    const superseded = JSON.parse(row.superseded) as ReplicaRef[];
    if (superseded.length > 0) dag.avoid = superseded;
    const deadline = Date.now() + STEP_MS;
    const outcome = await withDeadline(
      backend.store(dag, {
        ...(row.progress === null ? {} : { progress: JSON.parse(row.progress) as Json }),
        checkpoint: async (progress) => {
          this.#sql.exec("UPDATE replicas SET progress = ?, updated = ? WHERE root = ? AND backend = ?", JSON.stringify(progress), Date.now(), root, name);
        },
        deadline,
        signal: AbortSignal.timeout(STEP_MS + 5_000),
      }),
      STEP_MS + 10_000,
      `store on ${name}`,
    );
    this.#applyStore(root, name, outcome);
    if (outcome.state === "stored") await this.#noteHolders(root, name, backend, outcome.replica);
    if (outcome.state === "stored") await this.#removeSuperseded(root, name, backend);
  }

  #applyStore(root: string, name: string, outcome: StoreOutcome): void {
    const now = Date.now();
    const details = JSON.stringify(outcome.replica.details);
    if (outcome.state === "stored") {
      this.#sql.exec(
        `UPDATE replicas SET state = 'stored', next = 'check', remote_id = ?, details = ?, bytes = ?, progress = NULL, last_error = NULL,
           stored_at = ?, checked_at = ?, updated = ? WHERE root = ? AND backend = ?`,
        outcome.replica.remoteId, details, outcome.bytes, now, now, now, root, name,
      );
      this.#log(root, name, "stored", `${outcome.bytes} bytes as ${outcome.replica.remoteId}`);
      this.#sql.exec("DELETE FROM work WHERE kind = 'replica' AND target = ?", `${root} ${name}`);
      this.#wakeSurplus(root);
    } else {
      const wait = Math.max(0, outcome.retryAfterMs);
      this.#sql.exec(
        "UPDATE replicas SET remote_id = ?, details = ?, next = ?, poll_ms = ?, updated = ? WHERE root = ? AND backend = ?",
        outcome.replica.remoteId, details, outcome.next, wait, now, root, name,
      );
      this.#log(root, name, "pending", `${outcome.next === "check" ? "the remote works on it" : "upload continues"}; next in ${Math.round(wait / 1000)} s`);
      this.#due(root, name, now + wait);
    }
  }

  async #check(row: ReplicaRow, backend: ReplicationBackend): Promise<void> {
    if (row.remote_id === null) {
      this.#sql.exec("UPDATE replicas SET next = 'store' WHERE root = ? AND backend = ?", row.root, row.backend);
      return this.#store({ ...row, next: "store" }, backend);
    }
    const dag = await this.#identity(row.root);
    const ref = this.#ref(row);
    const check = await withDeadline(backend.check(ref, dag), STEP_MS, `check on ${row.backend}`);
    await this.applyCheck(row.root, row.backend, check, backend);
  }

  /** Records a check's outcome (the engine's own or one reported by a monitor). */
  async applyCheck(root: string, name: string, check: ReplicaCheck, backend?: ReplicationBackend): Promise<void> {
    const row = this.#row(root, name);
    if (row === undefined) return;
    const now = Date.now();
    const target = `${root} ${name}`;
    switch (check.state) {
      case "stored": {
        const details = { ...(JSON.parse(row.details) as Record<string, Json>), ...(check.details ?? {}) };
        const first = row.state !== "stored";
        this.#sql.exec(
          `UPDATE replicas SET state = 'stored', next = 'check', details = ?, checked_at = ?, last_error = NULL, progress = NULL,
             stored_at = COALESCE(stored_at, ?), bytes = COALESCE(bytes, (SELECT dag_size FROM replica_roots WHERE root = ?)), updated = ?
           WHERE root = ? AND backend = ?`,
          JSON.stringify(details), now, now, root, now, root, name,
        );
        this.#log(root, name, first ? "stored" : "checked", first ? "the remote holds it" : "present");
        this.#sql.exec("DELETE FROM work WHERE kind = 'replica' AND target = ?", target);
        if (first) this.#wakeSurplus(root);
        if (first && backend !== undefined && row.remote_id !== null) await this.#noteHolders(root, name, backend, this.#ref(row));
        // Old copies left from a repair (their removal failed before) are tried again on every check.
        if (backend !== undefined && row.superseded !== "[]") await this.#removeSuperseded(root, name, backend);
        return;
      }
      case "pending": {
        const wait = row.poll_ms ?? 30_000;
        this.#sql.exec("UPDATE replicas SET checked_at = ?, updated = ? WHERE root = ? AND backend = ?", now, now, root, name);
        this.#log(root, name, "pending", check.message ?? "the remote works on it");
        if (row.state === "stored") {
          // A stored copy the remote re-verifies: the next look is the cron's.
          this.#sql.exec("DELETE FROM work WHERE kind = 'replica' AND target = ?", target);
          return;
        }
        this.#due(root, name, now + wait);
        return;
      }
      case "lost":
      case "at_risk": {
        // A new copy is made; the old reference is kept in `superseded` and removed once the new one is stored.
        const superseded = JSON.parse(row.superseded) as ReplicaRef[];
        if (row.remote_id !== null) superseded.push(this.#ref(row));
        this.#sql.exec(
          `UPDATE replicas SET state = ?, next = 'store', remote_id = NULL, progress = NULL, superseded = ?, attempts = 0, last_error = ?,
             checked_at = ?, updated = ? WHERE root = ? AND backend = ?`,
          check.state, JSON.stringify(superseded),
          check.message, now, now, root, name,
        );
        this.#log(root, name, check.state, check.message);
        this.#due(root, name, now);
        if (check.state === "lost") await this.#noteHolders(root, name, backend, undefined);
        return;
      }
    }
  }

  async #remove(row: ReplicaRow, backend: ReplicationBackend): Promise<void> {
    const now = Date.now();
    if (row.remove_after !== null && now < row.remove_after) {
      this.#due(row.root, row.backend, row.remove_after);
      return;
    }
    const refs = [...(JSON.parse(row.superseded) as ReplicaRef[])];
    if (row.remote_id !== null) refs.push(this.#ref(row));
    for (const ref of refs) await withDeadline(backend.remove(ref), STEP_MS, `remove on ${row.backend}`);
    this.#log(row.root, row.backend, "removed", refs.map((r) => r.remoteId).join(", ") || "nothing was stored");
    await this.#noteHolders(row.root, row.backend, backend, undefined);
    const live = this.#sql.exec("SELECT 1 FROM pins WHERE root = ? AND status != 'failed' LIMIT 1", row.root).toArray().length > 0;
    if (live) {
      this.#sql.exec(
        "UPDATE replicas SET state = 'removed', next = 'none', remote_id = NULL, superseded = '[]', progress = NULL, updated = ? WHERE root = ? AND backend = ?",
        now, row.root, row.backend,
      );
      this.#sql.exec("DELETE FROM work WHERE kind = 'replica' AND target = ?", `${row.root} ${row.backend}`);
    } else {
      this.#forget(row.root, row.backend);
      this.#sql.exec("DELETE FROM replica_roots WHERE root = ? AND NOT EXISTS (SELECT 1 FROM replicas WHERE root = ?)", row.root, row.root);
    }
  }

  /** A copy out of the plan goes once every wanted copy of its root is stored. */
  async #surplus(row: ReplicaRow, backend: ReplicationBackend): Promise<void> {
    const waiting = this.#sql
      .exec("SELECT 1 FROM replicas WHERE root = ? AND wanted = 1 AND state != 'stored' LIMIT 1", row.root)
      .toArray().length > 0;
    if (waiting) {
      this.#due(row.root, row.backend, Date.now() + SURPLUS_WAIT_MS);
      return;
    }
    this.#sql.exec("UPDATE replicas SET state = 'removing', next = 'remove', remove_after = NULL, updated = ? WHERE root = ? AND backend = ?", Date.now(), row.root, row.backend);
    await this.#remove({ ...row, state: "removing", remove_after: null }, backend);
  }

  /**
   * Removes the copies a stored one replaces (`superseded`). One that fails
   * stays in `superseded`, never blocks the new copy, and is tried again
   * at the copy's next check, due CHECK_RETRY_MS later (and at every
   * check after, the cron's included) until it goes.
   */
  async #removeSuperseded(root: string, name: string, backend: ReplicationBackend): Promise<void> {
    const row = this.#row(root, name);
    if (row === undefined || row.superseded === "[]") return;
    const refs = JSON.parse(row.superseded) as ReplicaRef[];
    const gone = new Set<string>();
    for (const ref of refs) {
      if (ref.remoteId === row.remote_id) {
        gone.add(JSON.stringify(ref)); // the same copy again (e.g. re-pinned under the same id)
        continue;
      }
      try {
        await withDeadline(backend.remove(ref), STEP_MS, `remove on ${name}`);
        gone.add(JSON.stringify(ref));
        this.#log(root, name, "removed old copy", ref.remoteId);
      } catch (err) {
        this.#log(root, name, "remove old copy failed", `${ref.remoteId}: ${errorText(err)}; tried again at the next check`);
      }
    }
    // Read again: a report during the removals may have superseded another copy, which stays.
    const now = this.#row(root, name);
    if (now === undefined) return;
    const left = (JSON.parse(now.superseded) as ReplicaRef[]).filter((r) => !gone.has(JSON.stringify(r)));
    this.#sql.exec("UPDATE replicas SET superseded = ? WHERE root = ? AND backend = ?", JSON.stringify(left), root, name);
    if (left.length > 0 && now.state === "stored") this.#due(root, name, Date.now() + CHECK_RETRY_MS);
  }

  /** Records a failed step: backoff, Retry-After, or `failed` (docs/replication.md "Retries"). */
  #failed(row: ReplicaRow, err: unknown): void {
    const e = err instanceof BackendError ? err : new BackendError("retryable", errorText(err));
    const now = Date.now();
    const attempts = Math.max(row.attempts, 1);
    const removing = row.state === "removing";
    let wait: number | null;
    let state: ReplicaState = removing ? "removing" : row.state === "stored" || row.state === "lost" || row.state === "at_risk" ? row.state : "queued";
    switch (e.kind) {
      case "rate_limited":
        wait = e.retryAfterMs ?? BACKOFF_BASE_MS;
        break;
      case "retryable":
        wait = Math.min(BACKOFF_BASE_MS * 2 ** (attempts - 1), BACKOFF_MAX_MS);
        if (attempts >= MAX_ATTEMPTS && !removing && state !== "stored") {
          state = "failed";
          wait = FAILED_RETRY_MS;
        }
        break;
      case "unauthorized":
        if (!removing && state !== "stored") state = "failed";
        wait = UNAUTHORIZED_RETRY_MS;
        break;
      case "permanent":
        if (!removing) state = state === "stored" ? "stored" : "failed";
        wait = removing ? FAILED_RETRY_MS : null;
        break;
    }
    // A stored copy whose check could not be made stays stored; asking again soon helps nobody.
    if (state === "stored" && wait !== null) wait = Math.max(wait, CHECK_RETRY_MS);
    const message = `${e.kind}: ${e.message}`;
    this.#sql.exec("UPDATE replicas SET state = ?, last_error = ?, updated = ? WHERE root = ? AND backend = ?", state, message, now, row.root, row.backend);
    this.#log(row.root, row.backend, e.kind === "rate_limited" ? "rate limited" : "error", wait === null ? message : `${message}; next in ${Math.round(wait / 1000)} s`);
    if (wait === null) this.#sql.exec("DELETE FROM work WHERE kind = 'replica' AND target = ?", `${row.root} ${row.backend}`);
    else this.#due(row.root, row.backend, now + wait);
  }

  // ---- reading ---------------------------------------------------------------------

  /** Unified status of a root; null when no pin of this account has it. */
  rootStatus(root: string): RootStatus | null {
    const pins = this.#sql
      .exec<{ requestid: string; status: string; name: string | null; created: number; dag_size: number | null }>(
        "SELECT requestid, status, name, created, dag_size FROM pins WHERE root = ? ORDER BY created",
        root,
      )
      .toArray();
    const rows = this.#rowsOf(root);
    if (pins.length === 0 && rows.length === 0) return null;
    const meta = this.#sql.exec<{ plan: string; car_size: number | null; dag_size: number | null }>("SELECT plan, car_size, dag_size FROM replica_roots WHERE root = ?", root).toArray()[0];
    const plan = meta === undefined ? null : (JSON.parse(meta.plan) as RootStatus["plan"]);
    const pinState = pins.some((p) => p.status === "pinned") ? "pinned" : pins[0]?.status ?? "failed";
    const replicas: RootStatus["replicas"] = rows.map((r) => ({ ...this.#view(r), log: this.#logOf(r.root, r.backend, 20) }));
    if (rows.length === 0) replicas.push({ ...r2View(root, pinState, pins[0]?.created ?? Date.now()), log: [] });
    return {
      cid: root,
      aggregate: aggregateState(pinState, rows.map((r) => ({ state: r.state, wanted: r.wanted === 1 })), plan?.minCopies ?? 1),
      pins: pins.map((p) => ({ requestid: p.requestid, status: p.status, name: p.name, created: new Date(p.created).toISOString() })),
      dagSize: meta?.dag_size ?? pins.find((p) => p.dag_size !== null)?.dag_size ?? null,
      carSize: meta?.car_size ?? null,
      plan,
      replicas,
    };
  }

  /** PSA `info` lines of a root: `replicas` ("r2=stored remote=replicating") and the aggregate. */
  summary(root: string, pinState: string): Record<string, string> {
    return this.summaries([{ root, pinState }])[0]!;
  }

  /**
   * `summary` of each pin of a page (the PSA list), in two queries whatever
   * the page's length: the wanted replicas of all its roots, then the plans
   * of the roots that have any.
   */
  summaries(pins: readonly { root: string; pinState: string }[]): Record<string, string>[] {
    const roots = JSON.stringify([...new Set(pins.map((p) => p.root))]);
    const byRoot = new Map<string, ReplicaRow[]>();
    for (const r of this.#sql.exec<ReplicaRow>("SELECT * FROM replicas WHERE wanted = 1 AND root IN (SELECT value FROM json_each(?)) ORDER BY root, backend", roots)) {
      const list = byRoot.get(r.root);
      if (list) list.push(r);
      else byRoot.set(r.root, [r]);
    }
    if (byRoot.size === 0) return pins.map(() => ({}));
    const minCopies = new Map<string, number>();
    for (const r of this.#sql.exec<{ root: string; plan: string }>("SELECT root, plan FROM replica_roots WHERE root IN (SELECT value FROM json_each(?))", JSON.stringify([...byRoot.keys()]))) {
      minCopies.set(r.root, (JSON.parse(r.plan) as { minCopies: number }).minCopies);
    }
    return pins.map((p) => {
      const rows = byRoot.get(p.root);
      return rows === undefined ? {} : this.#summaryOf(rows, p.pinState, minCopies.get(p.root) ?? 1);
    });
  }

  #summaryOf(rows: ReplicaRow[], pinState: string, minCopies: number): Record<string, string> {
    const info: Record<string, string> = {
      replicas: rows.map((r) => `${r.backend}=${r.state}`).join(" "),
      replication: aggregateState(pinState, rows.map((r) => ({ state: r.state, wanted: true })), minCopies),
    };
    // Filecoin copies (provider, data set, pieces, retrieval URLs) of stored replicas: `<backend>.copies`.
    for (const r of rows) {
      if (r.state !== "stored") continue;
      const line = filecoinCopiesInfo(JSON.parse(r.details) as unknown);
      if (line !== undefined) info[`${r.backend}.copies`] = line;
    }
    return info;
  }

  list(filter: ReplicaFilter): { replicas: ReplicaView[]; next: string | null } {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (filter.backend !== undefined) (where.push("backend = ?"), params.push(filter.backend));
    if (filter.root !== undefined) (where.push("root = ?"), params.push(filter.root));
    if (filter.state !== undefined && filter.state.length > 0) (where.push(`state IN (${filter.state.map(() => "?").join(",")})`), params.push(...filter.state));
    if (filter.after !== undefined) (where.push("(root || ' ' || backend) > ?"), params.push(filter.after));
    const limit = Math.min(Math.max(1, filter.limit ?? 100), 1000);
    const rows = this.#sql
      .exec<ReplicaRow>(`SELECT * FROM replicas ${where.length > 0 ? "WHERE " + where.join(" AND ") : ""} ORDER BY root, backend LIMIT ?`, ...params, limit + 1)
      .toArray();
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { replicas: page.map((r) => this.#view(r)), next: rows.length > limit && last !== undefined ? `${last.root} ${last.backend}` : null };
  }

  /**
   * Bytes held on each backend (copies that exist there: stored, at_risk,
   * removing), and of those the bytes stored at or after `since` (the cost
   * projection's growth). `bytes` is what the backend reported, else the DAG size.
   */
  storage(since: number): Record<string, { copies: number; bytes: number; addedBytes: number }> {
    const out: Record<string, { copies: number; bytes: number; addedBytes: number }> = {};
    for (const r of this.#sql
      .exec<{ backend: string; n: number; bytes: number; added: number }>(
        `SELECT backend, COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS bytes, COALESCE(SUM(CASE WHEN stored_at >= ? THEN bytes ELSE 0 END), 0) AS added
         FROM replicas WHERE state IN ('stored', 'at_risk', 'removing') GROUP BY backend`,
        since,
      )
      .toArray()) {
      out[r.backend] = { copies: r.n, bytes: r.bytes, addedBytes: r.added };
    }
    return out;
  }

  /** Copies of this account by backend and state; with `checkedSince`, how many were checked at or after it. */
  counts(checkedSince?: number): { byBackend: Record<string, Record<string, number>>; total: number; checkedSince?: number } {
    const byBackend: Record<string, Record<string, number>> = {};
    let total = 0;
    for (const r of this.#sql.exec<{ backend: string; state: string; n: number }>("SELECT backend, state, COUNT(*) AS n FROM replicas GROUP BY backend, state").toArray()) {
      (byBackend[r.backend] ??= {})[r.state] = r.n;
      total += r.n;
    }
    if (checkedSince === undefined) return { byBackend, total };
    const checked = this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM replicas WHERE checked_at >= ?", checkedSince).one().n;
    return { byBackend, total, checkedSince: checked };
  }

  /**
   * The verification cron's sample: up to `count` stored copies, least
   * recently checked first, checked no sooner than `minAgeMs` after their
   * last check, get a 'check' step now. Returns how many were scheduled.
   */
  scheduleChecks(count: number, minAgeMs: number): number {
    const now = Date.now();
    const rows = this.#sql
      .exec<{ root: string; backend: string }>(
        `SELECT root, backend FROM replicas WHERE state = 'stored' AND wanted = 1 AND COALESCE(checked_at, 0) <= ?
         AND NOT EXISTS (SELECT 1 FROM work WHERE kind = 'replica' AND target = root || ' ' || backend)
         ORDER BY COALESCE(checked_at, 0), root LIMIT ?`,
        now - minAgeMs, count,
      )
      .toArray();
    for (const r of rows) {
      this.#sql.exec("UPDATE replicas SET next = 'check' WHERE root = ? AND backend = ?", r.root, r.backend);
      this.#due(r.root, r.backend, now);
    }
    return rows.length;
  }

  /**
   * A classic Filecoin deal holding `root` (watched by the Filecoin cron,
   * reported as backend `filecoin-deal`) is lost or near its end: the root
   * gets a copy on the first configured `filecoin` backend, added to its
   * plan like a migration (replica_overrides) and queued now. `stored`
   * needs nothing. Returns whether work was added; throws when the account
   * does not pin the root or no Filecoin backend is configured (the watch
   * keeps the deal's state and reports again next run).
   */
  renewDeal(root: string, dealRef: string, check: ReplicaCheck): boolean {
    if (check.state === "stored" || check.state === "pending") return false;
    const pinned = this.#sql.exec("SELECT 1 FROM pins WHERE root = ? AND status = 'pinned' LIMIT 1", root).toArray().length > 0;
    if (!pinned) throw new Error(`${dealRef}: ${root} is not pinned by this account, nothing to renew it from`);
    const target = [...backendConfigs(this.#env).values()].find((b) => b.type === "filecoin")?.name;
    if (target === undefined) throw new Error(`${dealRef}: no backend of type filecoin is configured to renew it on`);
    const row = this.#sql.exec<{ add_backends: string; drop_backends: string }>("SELECT add_backends, drop_backends FROM replica_overrides WHERE root = ?", root).toArray()[0];
    const add = new Set(JSON.parse(row?.add_backends ?? "[]") as string[]);
    if (!add.has(target)) {
      add.add(target);
      const drop = (JSON.parse(row?.drop_backends ?? "[]") as string[]).filter((b) => b !== target);
      this.#sql.exec("INSERT OR REPLACE INTO replica_overrides (root, add_backends, drop_backends) VALUES (?, ?, ?)", root, JSON.stringify([...add]), JSON.stringify(drop));
    }
    const added = this.planRoot(root);
    if (this.#row(root, target) !== undefined) this.#log(root, target, "renew deal", `${dealRef} ${check.state}: ${check.message}`);
    return added;
  }

  /** A remote id's replica (monitors report by the id the backend gave). */
  findByRemote(backend: string, remoteId: string): ReplicaRow | undefined {
    return this.#sql.exec<ReplicaRow>("SELECT * FROM replicas WHERE backend = ? AND remote_id = ?", backend, remoteId).toArray()[0];
  }

  // ---- internals ---------------------------------------------------------------------

  /**
   * The copy's trustless gateway becomes an upstream of ours for the root
   * (src/replication/holder-index.ts, source `<account>/<backend>`): a Kubo
   * node's `gatewayUrl`, any backend whose retrieval URL is `{base}/ipfs/{cid}`
   * or `{base}/piece/{cid}`. `ref` undefined (lost, removed) takes it out.
   * Filecoin copies are the watch's to list (per provider, as it checks
   * them); R2 is ours. A failed write is logged, never fails the step.
   */
  async #noteHolders(root: string, name: string, backend: ReplicationBackend | undefined, ref: ReplicaRef | undefined): Promise<void> {
    let type: string | undefined = backend?.type;
    try {
      type ??= backendConfigs(this.#env).get(name)?.type;
    } catch {
      // A broken BACKENDS: nothing of this backend is listed.
    }
    if (type === "filecoin" || type === "r2" || name === "r2") return;
    const own = publicUrl(this.#env);
    const bases = ref === undefined || backend === undefined
      ? []
      : backend.retrievalUrls(ref).map(trustlessBaseOf).filter((b): b is string => b !== undefined && b !== own);
    try {
      await setHolderSource(this.#env.BLOCKS, rootCid(root), `${this.#account() ?? ""}/${name}`, bases);
    } catch (err) {
      console.warn(`replication: holder index of ${root} on ${name} not written`, errorText(err));
    }
  }

  async #identity(root: string): Promise<{ root: ReturnType<typeof rootCid>; dagSize: number; blocks: number; carSize: number }> {
    const cid = rootCid(root);
    const known = this.#sql
      .exec<{ car_size: number | null; dag_size: number | null; blocks: number | null }>("SELECT car_size, dag_size, blocks FROM replica_roots WHERE root = ?", root)
      .toArray()[0];
    if (known?.car_size != null && known.dag_size !== null && known.blocks !== null) {
      return { root: cid, carSize: known.car_size, dagSize: known.dag_size, blocks: known.blocks };
    }
    const measured = await measureDagCar(this.#env.BLOCKS, cid);
    this.#sql.exec("UPDATE replica_roots SET car_size = ?, dag_size = ?, blocks = ? WHERE root = ?", measured.carSize, measured.dagSize, measured.blocks, root);
    return { root: cid, ...measured };
  }

  async #dagToStore(root: string): Promise<DagToStore> {
    const identity = await this.#identity(root);
    const pin = this.#sql.exec<{ name: string | null; meta: string }>("SELECT name, meta FROM pins WHERE root = ? AND status = 'pinned' ORDER BY created DESC LIMIT 1", root).toArray()[0];
    const bucket = this.#env.BLOCKS;
    return {
      ...identity,
      ...(pin?.name == null ? {} : { name: pin.name }),
      meta: pin === undefined ? {} : (JSON.parse(pin.meta) as Record<string, string>),
      car: (fromByte) => dagCar(bucket, identity.root, fromByte),
      gatewayUrl: publicUrl(this.#env),
      // The registry's name (idFromName(account)): where monitors such as the Filecoin watch report.
      account: this.#account() ?? "",
    };
  }

  #ref(row: ReplicaRow): ReplicaRef {
    return { backend: row.backend, remoteId: row.remote_id ?? "", details: JSON.parse(row.details) as { [key: string]: Json } };
  }

  #row(root: string, backend: string): ReplicaRow | undefined {
    return this.#sql.exec<ReplicaRow>("SELECT * FROM replicas WHERE root = ? AND backend = ?", root, backend).toArray()[0];
  }

  #rowsOf(root: string): ReplicaRow[] {
    return this.#sql.exec<ReplicaRow>("SELECT * FROM replicas WHERE root = ? ORDER BY backend", root).toArray();
  }

  #view(row: ReplicaRow): ReplicaView {
    const due = this.#sql.exec<{ due_at: number }>("SELECT due_at FROM work WHERE kind = 'replica' AND target = ?", `${row.root} ${row.backend}`).toArray()[0];
    return toView(row, due?.due_at ?? null);
  }

  #logOf(root: string, backend: string, n: number): { at: string; action: string; message: string | null }[] {
    return this.#sql
      .exec<{ at: number; action: string; message: string | null }>("SELECT at, action, message FROM replica_log WHERE root = ? AND backend = ? ORDER BY id DESC LIMIT ?", root, backend, n)
      .toArray()
      .reverse()
      .map((l) => ({ at: new Date(l.at).toISOString(), action: l.action, message: l.message }));
  }

  #due(root: string, backend: string, at: number): void {
    this.#sql.exec("INSERT OR REPLACE INTO work (kind, target, due_at) VALUES ('replica', ?, ?)", `${root} ${backend}`, at);
  }

  /** A wanted copy was stored: copies out of the plan waiting for it look again now. */
  #wakeSurplus(root: string): void {
    this.#sql.exec(
      `UPDATE work SET due_at = ? WHERE kind = 'replica' AND target IN
         (SELECT root || ' ' || backend FROM replicas WHERE root = ? AND wanted = 0 AND state NOT IN ('removing', 'removed'))`,
      Date.now(), root,
    );
  }

  #forget(root: string, backend: string): void {
    this.#sql.exec("DELETE FROM replicas WHERE root = ? AND backend = ?", root, backend);
    this.#sql.exec("DELETE FROM replica_log WHERE root = ? AND backend = ?", root, backend);
    this.#sql.exec("DELETE FROM work WHERE kind = 'replica' AND target = ?", `${root} ${backend}`);
  }

  #log(root: string, backend: string, action: string, message: string | null): void {
    this.#sql.exec("INSERT INTO replica_log (root, backend, at, action, message) VALUES (?, ?, ?, ?, ?)", root, backend, Date.now(), action, message);
    this.#sql.exec(
      "DELETE FROM replica_log WHERE root = ? AND backend = ? AND id <= (SELECT id FROM replica_log WHERE root = ? AND backend = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
      root, backend, root, backend, LOG_KEEP,
    );
  }

  async #noteAccount(): Promise<void> {
    const account = this.#account();
    if (account === undefined) return;
    if (this.#sql.exec("SELECT 1 FROM settings WHERE key = 'replication_listed'").toArray().length > 0) return;
    try {
      await accountsStub(this.#env).noteReplicatingAccount(account);
      this.#sql.exec("INSERT OR REPLACE INTO settings (key, value) VALUES ('replication_listed', '1')");
    } catch (err) {
      console.error("replication: listing the account failed", errorText(err));
    }
  }
}

/** The R2 copy of a root with no replica rows (R2-only policy): its state is the pin's. */
function r2View(root: string, pinState: string, created: number): ReplicaView {
  const state: ReplicaState = pinState === "pinned" ? "stored" : pinState === "pinning" ? "replicating" : pinState === "failed" ? "failed" : "queued";
  const at = new Date(created).toISOString();
  return {
    root, backend: "r2", state, wanted: true, remoteId: state === "stored" ? root : null, details: {}, attempts: 0, lastError: null,
    bytes: null, created: at, updated: at, storedAt: null, checkedAt: null, removeAfter: null, nextAttempt: null,
  };
}

/** Base URL remote services fetch pinned DAGs from (`PUBLIC_URL`, PSA `origins`). */
export function publicUrl(env: Env): string {
  const url = env.PUBLIC_URL;
  return (url ?? "").replace(/\/+$/, "") || "http://localhost:8787";
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** `promise`, or a retryable BackendError after `ms` (a backend that ignores its signal never holds the alarm). */
async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BackendError("retryable", `${what} took longer than ${Math.round(ms / 1000)} s`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}
