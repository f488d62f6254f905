import { R2_BACKEND } from "../backends/backend-config";
import type { MigrateProgress, MigrateSpec } from "./migrate-progress";

export type { MigrateProgress, MigrateSpec } from "./migrate-progress";

/** Roots selected per alarm step (bounds one step's SQL and planning work). */
export const SELECT_BATCH = 200;

/**
 * Migration jobs of one account (docs/replication.md "Migration"): a job
 * selects roots in order (resumable cursor), records an override on each
 * (`to` added; `from` dropped for a move), and lets the replica engine do
 * the copying: the new copy is queued like any other, a moved-away copy is
 * removed only once every wanted copy is stored. Progress is read from the
 * replica rows, so it survives eviction and never double counts.
 */
export class MigrateJobs {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  /** Roots a spec selects after `cursor` (at most `limit`), in order. */
  select(spec: MigrateSpec, cursor: string, limit: number): string[] {
    const where = ["p.status = 'pinned'", "p.root > ?"];
    const params: (string | number)[] = [cursor];
    if (spec.cids !== undefined) {
      where.push(`p.root IN (${spec.cids.map(() => "?").join(",")})`);
      params.push(...spec.cids);
    }
    if (spec.filter?.sizeAbove !== undefined) (where.push("p.dag_size > ?"), params.push(spec.filter.sizeAbove));
    if (spec.filter?.sizeBelow !== undefined) (where.push("p.dag_size < ?"), params.push(spec.filter.sizeBelow));
    if (spec.from !== R2_BACKEND) {
      // Only roots that have a copy on `from` (R2 holds every pinned root).
      where.push("EXISTS (SELECT 1 FROM replicas r WHERE r.root = p.root AND r.backend = ? AND r.wanted = 1)");
      params.push(spec.from);
    }
    return this.#sql
      .exec<{ root: string }>(`SELECT DISTINCT p.root AS root FROM pins p WHERE ${where.join(" AND ")} ORDER BY p.root LIMIT ?`, ...params, limit)
      .toArray()
      .map((r) => r.root);
  }

  create(spec: MigrateSpec): string {
    const id = crypto.randomUUID();
    const now = Date.now();
    this.#sql.exec("INSERT INTO migrate_jobs (id, spec, state, created, updated) VALUES (?, ?, 'selecting', ?, ?)", id, JSON.stringify(spec), now, now);
    this.#sql.exec("INSERT OR REPLACE INTO work (kind, target, due_at) VALUES ('migrate', ?, ?)", id, now);
    return id;
  }

  /**
   * One step of job `id`: the next batch of roots gets its override;
   * returns those roots (the caller re-plans them). When the selection is
   * exhausted the job is `running` (copies in progress) and its work ends.
   */
  step(id: string): string[] {
    const job = this.#sql.exec<{ spec: string; state: string; cursor: string }>("SELECT spec, state, cursor FROM migrate_jobs WHERE id = ?", id).toArray()[0];
    if (job === undefined || job.state !== "selecting") {
      this.#sql.exec("DELETE FROM work WHERE kind = 'migrate' AND target = ?", id);
      return [];
    }
    const spec = JSON.parse(job.spec) as MigrateSpec;
    const roots = this.select(spec, job.cursor, SELECT_BATCH);
    for (const root of roots) {
      this.#sql.exec("INSERT OR IGNORE INTO migrate_job_roots (job, root) VALUES (?, ?)", id, root);
      const row = this.#sql.exec<{ add_backends: string; drop_backends: string }>("SELECT add_backends, drop_backends FROM replica_overrides WHERE root = ?", root).toArray()[0];
      const add = new Set(JSON.parse(row?.add_backends ?? "[]") as string[]);
      const drop = new Set(JSON.parse(row?.drop_backends ?? "[]") as string[]);
      add.add(spec.to);
      drop.delete(spec.to);
      if (spec.mode === "move") (drop.add(spec.from), add.delete(spec.from));
      this.#sql.exec("INSERT OR REPLACE INTO replica_overrides (root, add_backends, drop_backends) VALUES (?, ?, ?)", root, JSON.stringify([...add]), JSON.stringify([...drop]));
    }
    const now = Date.now();
    if (roots.length < SELECT_BATCH) {
      this.#sql.exec("UPDATE migrate_jobs SET state = 'running', cursor = ?, updated = ? WHERE id = ?", roots.at(-1) ?? job.cursor, now, id);
      this.#sql.exec("DELETE FROM work WHERE kind = 'migrate' AND target = ?", id);
    } else {
      this.#sql.exec("UPDATE migrate_jobs SET cursor = ?, updated = ? WHERE id = ?", roots.at(-1)!, now, id);
      this.#sql.exec("UPDATE work SET due_at = ? WHERE kind = 'migrate' AND target = ?", now, id);
    }
    return roots;
  }

  progress(id: string): MigrateProgress | null {
    const job = this.#sql.exec<{ id: string; spec: string; state: "selecting" | "running" | "done"; created: number; updated: number }>("SELECT * FROM migrate_jobs WHERE id = ?", id).toArray()[0];
    if (job === undefined) return null;
    const spec = JSON.parse(job.spec) as MigrateSpec;
    const count = (sql: string, ...params: string[]): number => this.#sql.exec<{ n: number }>(sql, id, ...params).one().n;
    const selected = count("SELECT COUNT(*) AS n FROM migrate_job_roots WHERE job = ?");
    const copied = count("SELECT COUNT(*) AS n FROM migrate_job_roots j JOIN replicas r ON r.root = j.root AND r.backend = ?2 WHERE j.job = ?1 AND r.state = 'stored'", spec.to);
    const failed = count("SELECT COUNT(*) AS n FROM migrate_job_roots j JOIN replicas r ON r.root = j.root AND r.backend = ?2 WHERE j.job = ?1 AND r.state = 'failed'", spec.to);
    const removed = spec.mode === "move"
      ? count("SELECT COUNT(*) AS n FROM migrate_job_roots j WHERE j.job = ?1 AND NOT EXISTS (SELECT 1 FROM replicas r WHERE r.root = j.root AND r.backend = ?2 AND r.state NOT IN ('removed'))", spec.from)
      : 0;
    let state = job.state;
    const finished = job.state === "running" && copied === selected && (spec.mode === "copy" || removed === selected);
    if (finished) {
      state = "done";
      this.#sql.exec("UPDATE migrate_jobs SET state = 'done', updated = ? WHERE id = ?", Date.now(), id);
    }
    return {
      id, spec, state, selected, copied, removed, failed,
      created: new Date(job.created).toISOString(), updated: new Date(finished ? Date.now() : job.updated).toISOString(),
    };
  }

  /** The migration override of a root: backends added to and dropped from its policy plan. */
  override(root: string): { add: string[]; drop: string[] } {
    const row = this.#sql.exec<{ add_backends: string; drop_backends: string }>("SELECT add_backends, drop_backends FROM replica_overrides WHERE root = ?", root).toArray()[0];
    return { add: JSON.parse(row?.add_backends ?? "[]") as string[], drop: JSON.parse(row?.drop_backends ?? "[]") as string[] };
  }
}
