/**
 * The shape GatewayHealth hands out (`snapshot()`), cached per isolate by
 * `health.ts` and rendered by `GET /api/v1/health/gateways`. Plain data only
 * (numbers, strings, null, arrays): it crosses the Durable Object RPC boundary
 * by structured clone. Times are epoch milliseconds.
 */

/** Circuit breaker state of one upstream (rules in src/durable-objects/gateway-health.ts). */
export type CircuitState = "closed" | "open" | "half_open";

export interface OutcomeCounts {
  ok: number;
  notFound: number;
  error: number;
  timeout: number;
  invalidBlock: number;
  /** Sent valid blocks other than those asked for (an old gateway ignoring dag-scope/entity-bytes): not a failure; used per block. */
  deviation: number;
  /** Lost a race and was cancelled by us: counted, nothing else. */
  aborted: number;
}

/** One check of a cron probe (`bafkqaaa` as raw block or as CAR). */
export interface ProbeCheck {
  kind: "raw" | "car";
  ok: boolean;
  /** HTTP status, or null when no response arrived (network error, timeout). */
  status: number | null;
  /** Milliseconds from request start to response headers, or null without a response. */
  ttfbMs: number | null;
  /** Why the check failed, null when it passed. */
  error: string | null;
}

/** One upstream's probe: it passes when every check passes. */
export interface ProbeResult {
  upstream: string;
  at: number;
  ok: boolean;
  checks: ProbeCheck[];
}

export interface UpstreamHealth {
  upstream: string;
  counts: OutcomeCounts;
  /** EWMA of success (1 = ok, 0 = error / timeout / invalid block); starts at 1. */
  successEwma: number;
  /** EWMA of time to first verified byte in ms; null before the first sample. */
  ttfbEwmaMs: number | null;
  /** EWMA of throughput in bytes per second; null before the first large enough sample. */
  throughputEwmaBps: number | null;
  lastOkAt: number | null;
  lastErrorAt: number | null;
  /** Weighted count of failures since the last success (an invalid block weighs more). */
  consecutiveFailures: number;
  /** State at the snapshot's `takenAt`; re-evaluate later with `effectiveCircuit` (an open circuit turns half-open at `openUntil`). */
  circuit: CircuitState;
  /** When an open circuit becomes half-open; null unless open. */
  openUntil: number | null;
  /** Cool-down of the current opening; while closed, the one the next opening will use. */
  cooldownMs: number;
  /** When the circuit last changed state; null if it never did. */
  circuitChangedAt: number | null;
  lastProbe: ProbeResult | null;
}

export interface HealthSnapshot {
  region: string;
  /** When the Durable Object produced it. */
  takenAt: number;
  upstreams: UpstreamHealth[];
}

/** The circuit state at `now`: an open circuit past its cool-down is half-open. */
export function effectiveCircuit(u: Pick<UpstreamHealth, "circuit" | "openUntil">, now: number): CircuitState {
  if (u.circuit === "open" && u.openUntil !== null && now >= u.openUntil) return "half_open";
  return u.circuit;
}
