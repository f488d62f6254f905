/**
 * GatewayHealth: what one region (Cloudflare colo) has learnt about each
 * upstream gateway. One object per region, addressed by name
 * (`gatewayHealth(env, region)`); requests never wait on it: they rank
 * upstreams from an isolate-local snapshot (src/gateway/upstream/health.ts)
 * and report their outcomes afterwards in one batched `report()` call.
 *
 * ## What is kept per upstream (tables in docs/health.md)
 * - counts of ok / not_found / error / timeout / invalid_block / deviation / aborted
 *   (a deviation, valid blocks other than those asked for, moves nothing else);
 * - EWMA (alpha 1/4; the first sample is taken as is) of
 *   - TTFB in ms, from every outcome that carries `ttfbMs` (not aborted ones),
 *   - throughput in bytes/s = bytes · 1000 / durationMs, from `ok` outcomes of
 *     at least 64 KiB (smaller ones measure latency, not bandwidth),
 *   - success, a 0/1 sample per ok / error / timeout / invalid_block, starting
 *     at 1 so that an upstream is trusted until it fails;
 * - last ok and last error times, the circuit, the last cron probe;
 * - when it was last seen (the latest `at` of its outcomes and probes).
 *
 * ## Bounded (docs/health.md)
 * Providers found through IPNI and pin origins are upstreams too, so the
 * rows are pruned after every write: an upstream not seen for
 * `HEALTH_MAX_AGE_MS` (default 7 days) before the newest observation of the
 * region is dropped, and past `HEALTH_MAX_UPSTREAMS` rows (default 1000) the
 * least recently seen go. The configured `UPSTREAMS` are never dropped. Time
 * is the observations' own, like everything here.
 *
 * `not_found` is a truthful answer, not a failure: it counts and feeds TTFB
 * only. `aborted` (we cancelled a race loser) changes nothing but its count.
 *
 * ## Circuit
 * - closed → open when the weighted consecutive failures reach 3: error,
 *   timeout and a failed probe weigh 1, an invalid block weighs 3 (an upstream
 *   that lies about content is worse than one that is down: one lie opens it).
 *   A success resets the count.
 * - open → half-open once the cool-down (30 s at first) has passed; this is
 *   evaluated lazily (`effectiveCircuit`), no alarm is needed.
 * - half-open → closed on a success (a request outcome `ok` or a passing
 *   probe); the cool-down is back to 30 s.
 * - half-open → open on any failure, with the cool-down doubled (at most 10 min).
 * - While open, outcomes (of last-resort use) update the statistics only.
 * - An observation older than the last circuit change never moves the
 *   circuit: reports come late and out of order from many isolates.
 * Time is the observation's own `at`, so the rules are deterministic.
 *
 * ## Rank (src/gateway/upstream/health-score.ts)
 * Circuit first (closed, half-open, open), then a score in [0, 1]:
 *   success EWMA × 500 / (500 + TTFB EWMA ms) × (1/2 + 1/2 · t / (t + 1 MiB/s))
 * where t is the throughput EWMA. Unknown values take the reference values
 * (success 1, TTFB 500 ms, t = 1 MiB/s): an unknown upstream scores 0.375,
 * ahead of slow or failing ones and behind proven fast ones, so new upstreams
 * get tried. Equal scores keep the configured order.
 */
import { DurableObject } from "cloudflare:workers";
import type { OutcomeResult, UpstreamOutcome } from "../gateway/upstream/outcome";
import {
  effectiveCircuit,
  type CircuitState,
  type HealthSnapshot,
  type ProbeCheck,
  type ProbeResult,
  type UpstreamHealth,
} from "../gateway/upstream/health-snapshot";
import { applyOutcome, applyProbe, initialState, type UpstreamState } from "./upstream-state";
import { gatewayConfig } from "../gateway/gateway-config";

export type { HealthSnapshot, ProbeResult, UpstreamHealth } from "../gateway/upstream/health-snapshot";

/** The stub of a region's GatewayHealth (the binding is untyped in the generated Env until `wrangler types` sees the export). */
export function gatewayHealth(env: Env, region: string): DurableObjectStub<GatewayHealth> {
  return (env.GATEWAY_HEALTH as unknown as DurableObjectNamespace<GatewayHealth>).getByName(region);
}

/** Numbered, append-only: never edit an entry once shipped, add the next one. */
const MIGRATIONS: readonly string[] = [
  /* 1 */ `
  CREATE TABLE upstream_stats (
    upstream TEXT PRIMARY KEY NOT NULL,
    ok_count INTEGER NOT NULL,
    not_found_count INTEGER NOT NULL,
    error_count INTEGER NOT NULL,
    timeout_count INTEGER NOT NULL,
    invalid_block_count INTEGER NOT NULL,
    aborted_count INTEGER NOT NULL,
    success_ewma REAL NOT NULL,
    ttfb_ewma_ms REAL,
    throughput_ewma_bps REAL,
    last_ok_at INTEGER,
    last_error_at INTEGER,
    consecutive_failures INTEGER NOT NULL,
    circuit TEXT NOT NULL CHECK (circuit IN ('closed', 'open', 'half_open')),
    open_until INTEGER,
    cooldown_ms INTEGER NOT NULL,
    circuit_changed_at INTEGER
  );
  CREATE TABLE probe_checks (
    upstream TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('raw', 'car')),
    at INTEGER NOT NULL,
    ok INTEGER NOT NULL CHECK (ok IN (0, 1)),
    status INTEGER,
    ttfb_ms REAL,
    error TEXT,
    PRIMARY KEY (upstream, kind)
  );`,
  /* 2: when each upstream was last observed (outcome or probe `at`), for pruning */ `
  ALTER TABLE upstream_stats ADD COLUMN last_seen_at INTEGER;
  UPDATE upstream_stats SET last_seen_at = COALESCE(last_ok_at, last_error_at, circuit_changed_at, 0);
  CREATE INDEX upstream_stats_last_seen ON upstream_stats(last_seen_at);`,
  /* 3: short history behind the dashboard charts */ `
  CREATE TABLE health_history (
    upstream TEXT NOT NULL,
    at INTEGER NOT NULL,
    success_ewma REAL NOT NULL,
    ttfb_ewma_ms REAL,
    throughput_ewma_bps REAL,
    invalid_block_count INTEGER NOT NULL,
    circuit TEXT NOT NULL CHECK (circuit IN ('closed', 'open', 'half_open')),
    probe_ok INTEGER CHECK (probe_ok IN (0, 1)),
    PRIMARY KEY (upstream, at)
  ) WITHOUT ROWID;
  CREATE INDEX health_history_at ON health_history(at);`,
  /* 4: outcomes where the upstream sent valid blocks other than those asked for (old gateways) */ `ALTER TABLE upstream_stats ADD COLUMN deviation_count INTEGER NOT NULL DEFAULT 0;`,
];

/** Rows kept after the newest observation: not seen for this long (`HEALTH_MAX_AGE_MS`) → dropped. */
const DEFAULT_MAX_AGE_MS = 7 * 86_400_000;
/** Upstreams kept per region (`HEALTH_MAX_UPSTREAMS`): past it, the least recently seen go first. */
const DEFAULT_MAX_UPSTREAMS = 1000;

/** History samples: one row per upstream and 5-minute bucket (the probe cron's period), the state at the bucket's last write. */
export const HISTORY_BUCKET_MS = 5 * 60_000;
/** History kept: 24 h, so at most 288 rows per upstream (older rows are deleted on every write). */
export const HISTORY_KEEP_MS = 24 * 60 * 60_000;

/** One point of an upstream's short history (dashboard charts). */
export interface HealthSample {
  upstream: string;
  /** Start of the 5-minute bucket, epoch ms. */
  at: number;
  successEwma: number;
  ttfbEwmaMs: number | null;
  throughputEwmaBps: number | null;
  /** Invalid blocks counted so far (cumulative). */
  invalidBlocks: number;
  circuit: CircuitState;
  /** Whether the bucket's last probe passed; null when no probe fell in it. */
  probeOk: boolean | null;
}

/** A batch larger than this is a bug in the caller (a request reports one outcome per upstream attempt). */
const MAX_BATCH = 1000;
const MAX_UPSTREAM_LENGTH = 2048;
const RESULTS: ReadonlySet<OutcomeResult> = new Set(["ok", "not_found", "error", "timeout", "invalid_block", "deviation", "aborted"]);

type StatsRow = {
  upstream: string;
  ok_count: number;
  not_found_count: number;
  error_count: number;
  timeout_count: number;
  invalid_block_count: number;
  deviation_count: number;
  aborted_count: number;
  success_ewma: number;
  ttfb_ewma_ms: number | null;
  throughput_ewma_bps: number | null;
  last_ok_at: number | null;
  last_error_at: number | null;
  consecutive_failures: number;
  circuit: string;
  open_until: number | null;
  cooldown_ms: number;
  circuit_changed_at: number | null;
};

type ProbeRow = {
  upstream: string;
  kind: string;
  at: number;
  ok: number;
  status: number | null;
  ttfb_ms: number | null;
  error: string | null;
};

export class GatewayHealth extends DurableObject<Env> {
  readonly #sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    void ctx.blockConcurrencyWhile(async () => this.#migrate());
  }

  /** Apply a request's outcomes, oldest first. Throws TypeError (and applies nothing) if one is malformed. */
  report(outcomes: UpstreamOutcome[]): void {
    if (!Array.isArray(outcomes) || outcomes.length > MAX_BATCH) throw new TypeError(`report: expected at most ${MAX_BATCH} outcomes`);
    outcomes.forEach((o, i) => checkOutcome(o, i));
    const ordered = [...outcomes].sort((a, b) => a.at - b.at);
    this.ctx.storage.transactionSync(() => {
      for (const outcome of ordered) this.#sample(this.#write(applyOutcome(this.#read(outcome.upstream), outcome), outcome.at), outcome.at, null);
      this.#prune();
      this.#pruneHistory();
    });
  }

  /** Apply the cron probe's results and keep each as the upstream's last probe. */
  recordProbe(results: ProbeResult[]): void {
    if (!Array.isArray(results) || results.length > MAX_BATCH) throw new TypeError(`recordProbe: expected at most ${MAX_BATCH} results`);
    results.forEach((r, i) => checkProbe(r, i));
    const ordered = [...results].sort((a, b) => a.at - b.at);
    this.ctx.storage.transactionSync(() => {
      for (const probe of ordered) {
        this.#sample(this.#write(applyProbe(this.#read(probe.upstream), probe), probe.at), probe.at, probe.ok);
        this.#sql.exec("DELETE FROM probe_checks WHERE upstream = ?", probe.upstream);
        for (const c of probe.checks) {
          this.#sql.exec(
            "INSERT INTO probe_checks (upstream, kind, at, ok, status, ttfb_ms, error) VALUES (?, ?, ?, ?, ?, ?, ?)",
            probe.upstream,
            c.kind,
            probe.at,
            c.ok ? 1 : 0,
            c.status,
            c.ttfbMs,
            c.error,
          );
        }
      }
      this.#prune();
      this.#pruneHistory();
    });
  }

  /**
   * Drops rows not seen for `HEALTH_MAX_AGE_MS` before the newest
   * observation, then the least recently seen past `HEALTH_MAX_UPSTREAMS`;
   * never a configured upstream. Returns the number of upstreams dropped.
   */
  #prune(): number {
    const maxAge = setting(this.env.HEALTH_MAX_AGE_MS, DEFAULT_MAX_AGE_MS);
    const maxRows = setting(this.env.HEALTH_MAX_UPSTREAMS, DEFAULT_MAX_UPSTREAMS);
    const keep = JSON.stringify(gatewayConfig(this.env).upstreams);
    const newest = this.#sql.exec<{ t: number | null }>("SELECT MAX(last_seen_at) AS t FROM upstream_stats").one().t;
    if (newest === null) return 0;
    const gone = this.#sql
      .exec<{ upstream: string }>(
        `SELECT upstream FROM upstream_stats WHERE upstream NOT IN (SELECT value FROM json_each(?)) AND last_seen_at < ?
         UNION
         SELECT upstream FROM (
           SELECT upstream FROM upstream_stats WHERE upstream NOT IN (SELECT value FROM json_each(?))
           ORDER BY last_seen_at DESC, upstream LIMIT -1 OFFSET ?
         )`,
        keep, newest - maxAge, keep, Math.max(0, maxRows - this.#configuredRows(keep)),
      )
      .toArray();
    for (const { upstream } of gone) {
      this.#sql.exec("DELETE FROM upstream_stats WHERE upstream = ?", upstream);
      this.#sql.exec("DELETE FROM probe_checks WHERE upstream = ?", upstream);
      this.#sql.exec("DELETE FROM health_history WHERE upstream = ?", upstream);
    }
    return gone.length;
  }

  #configuredRows(keep: string): number {
    return this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM upstream_stats WHERE upstream IN (SELECT value FROM json_each(?))", keep).one().n;
  }

  /** The short history (HISTORY_KEEP_MS) of every upstream, oldest first per upstream. */
  history(): HealthSample[] {
    return this.#sql
      .exec<HistoryRow>("SELECT * FROM health_history WHERE at >= ? ORDER BY upstream, at", Date.now() - HISTORY_KEEP_MS)
      .toArray()
      .map((r) => ({
        upstream: r.upstream,
        at: r.at,
        successEwma: r.success_ewma,
        ttfbEwmaMs: r.ttfb_ewma_ms,
        throughputEwmaBps: r.throughput_ewma_bps,
        invalidBlocks: r.invalid_block_count,
        circuit: r.circuit as CircuitState,
        probeOk: r.probe_ok === null ? null : r.probe_ok === 1,
      }));
  }

  /** Every upstream this region knows, sorted by URL, with circuits as they stand at `now`. */
  snapshot(now: number = Date.now()): HealthSnapshot {
    const probes = new Map<string, ProbeResult>();
    for (const row of this.#sql.exec<ProbeRow>("SELECT * FROM probe_checks ORDER BY upstream, CASE kind WHEN 'raw' THEN 0 ELSE 1 END")) {
      const check: ProbeCheck = {
        kind: row.kind === "raw" ? "raw" : "car",
        ok: row.ok === 1,
        status: row.status,
        ttfbMs: row.ttfb_ms,
        error: row.error,
      };
      const probe = probes.get(row.upstream) ?? { upstream: row.upstream, at: row.at, ok: true, checks: [] };
      probe.checks.push(check);
      probe.ok &&= check.ok;
      probes.set(row.upstream, probe);
    }
    const upstreams: UpstreamHealth[] = [];
    for (const row of this.#sql.exec<StatsRow>("SELECT * FROM upstream_stats ORDER BY upstream")) {
      const state = fromRow(row);
      upstreams.push({ ...state, circuit: effectiveCircuit(state, now), lastProbe: probes.get(row.upstream) ?? null });
    }
    return { region: this.ctx.id.name ?? "", takenAt: now, upstreams };
  }

  #migrate(): void {
    this.#sql.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
    const applied = this.#sql.exec<{ v: number | null }>("SELECT MAX(version) AS v FROM schema_migrations").one().v ?? 0;
    this.ctx.storage.transactionSync(() => {
      for (let version = applied + 1; version <= MIGRATIONS.length; version++) {
        this.#sql.exec(MIGRATIONS[version - 1]!);
        this.#sql.exec("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", version, Date.now());
      }
    });
  }

  #read(upstream: string): UpstreamState {
    const row = this.#sql.exec<StatsRow>("SELECT * FROM upstream_stats WHERE upstream = ?", upstream).toArray()[0];
    return row ? fromRow(row) : initialState(upstream);
  }

  /** The upstream's state as the sample of the bucket `at` falls in (a later write in the bucket replaces it; a probe's result stays). */
  #sample(s: UpstreamState, at: number, probeOk: boolean | null): void {
    const bucket = Math.floor(at / HISTORY_BUCKET_MS) * HISTORY_BUCKET_MS;
    this.#sql.exec(
      `INSERT INTO health_history (upstream, at, success_ewma, ttfb_ewma_ms, throughput_ewma_bps, invalid_block_count, circuit, probe_ok)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (upstream, at) DO UPDATE SET success_ewma = excluded.success_ewma, ttfb_ewma_ms = excluded.ttfb_ewma_ms,
         throughput_ewma_bps = excluded.throughput_ewma_bps, invalid_block_count = excluded.invalid_block_count,
         circuit = excluded.circuit, probe_ok = COALESCE(excluded.probe_ok, probe_ok)`,
      s.upstream,
      bucket,
      s.successEwma,
      s.ttfbEwmaMs,
      s.throughputEwmaBps,
      s.counts.invalidBlock,
      effectiveCircuit(s, at),
      probeOk === null ? null : probeOk ? 1 : 0,
    );
  }

  /** Bounded history: rows older than HISTORY_KEEP_MS go. */
  #pruneHistory(): void {
    this.#sql.exec("DELETE FROM health_history WHERE at < ?", Date.now() - HISTORY_KEEP_MS - HISTORY_BUCKET_MS);
  }

  #write(s: UpstreamState, seenAt: number): UpstreamState {
    this.#sql.exec(
      `INSERT OR REPLACE INTO upstream_stats (upstream, ok_count, not_found_count, error_count, timeout_count,
         invalid_block_count, aborted_count, success_ewma, ttfb_ewma_ms, throughput_ewma_bps, last_ok_at,
         last_error_at, consecutive_failures, circuit, open_until, cooldown_ms, circuit_changed_at, deviation_count, last_seen_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
         max(?, coalesce((SELECT last_seen_at FROM upstream_stats WHERE upstream = ?), 0)))`,
      s.upstream,
      s.counts.ok,
      s.counts.notFound,
      s.counts.error,
      s.counts.timeout,
      s.counts.invalidBlock,
      s.counts.aborted,
      s.successEwma,
      s.ttfbEwmaMs,
      s.throughputEwmaBps,
      s.lastOkAt,
      s.lastErrorAt,
      s.consecutiveFailures,
      s.circuit,
      s.openUntil,
      s.cooldownMs,
      s.circuitChangedAt,
      s.counts.deviation,
      seenAt,
      s.upstream,
    );
    return s;
  }
}

function setting(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && value.trim() !== "" && Number.isSafeInteger(n) && n > 0 ? n : fallback;
}

type HistoryRow = {
  upstream: string;
  at: number;
  success_ewma: number;
  ttfb_ewma_ms: number | null;
  throughput_ewma_bps: number | null;
  invalid_block_count: number;
  circuit: string;
  probe_ok: number | null;
};

function fromRow(row: StatsRow): UpstreamState {
  return {
    upstream: row.upstream,
    counts: {
      ok: row.ok_count,
      notFound: row.not_found_count,
      error: row.error_count,
      timeout: row.timeout_count,
      invalidBlock: row.invalid_block_count,
      deviation: row.deviation_count,
      aborted: row.aborted_count,
    },
    successEwma: row.success_ewma,
    ttfbEwmaMs: row.ttfb_ewma_ms,
    throughputEwmaBps: row.throughput_ewma_bps,
    lastOkAt: row.last_ok_at,
    lastErrorAt: row.last_error_at,
    consecutiveFailures: row.consecutive_failures,
    circuit: row.circuit as CircuitState,
    openUntil: row.open_until,
    cooldownMs: row.cooldown_ms,
    circuitChangedAt: row.circuit_changed_at,
  };
}

const isTime = (n: unknown): n is number => typeof n === "number" && Number.isFinite(n) && n >= 0;
const isUpstream = (u: unknown): u is string => typeof u === "string" && u.length > 0 && u.length <= MAX_UPSTREAM_LENGTH;

function checkOutcome(o: UpstreamOutcome, i: number): void {
  const ok =
    typeof o === "object" &&
    o !== null &&
    isUpstream(o.upstream) &&
    RESULTS.has(o.result) &&
    isTime(o.bytes) &&
    isTime(o.durationMs) &&
    isTime(o.at) &&
    (o.ttfbMs === undefined || isTime(o.ttfbMs));
  if (!ok) throw new TypeError(`report: outcome ${i} is malformed`);
}

function checkProbe(r: ProbeResult, i: number): void {
  const ok =
    typeof r === "object" &&
    r !== null &&
    isUpstream(r.upstream) &&
    isTime(r.at) &&
    typeof r.ok === "boolean" &&
    Array.isArray(r.checks) &&
    r.checks.length > 0 &&
    r.ok === r.checks.every((c) => c.ok) &&
    new Set(r.checks.map((c) => c.kind)).size === r.checks.length &&
    r.checks.every(
      (c) =>
        (c.kind === "raw" || c.kind === "car") &&
        typeof c.ok === "boolean" &&
        (c.status === null || (Number.isInteger(c.status) && c.status >= 100 && c.status <= 599)) &&
        (c.ttfbMs === null || isTime(c.ttfbMs)) &&
        (c.error === null || typeof c.error === "string"),
    );
  if (!ok) throw new TypeError(`recordProbe: result ${i} is malformed`);
}
