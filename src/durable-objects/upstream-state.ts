/**
 * How one upstream's statistics and circuit move when an outcome or a probe
 * result arrives. Pure functions over plain records, so the rules can be
 * read (and tested) apart from the SQLite plumbing of GatewayHealth; the rules
 * themselves are written out in the header of gateway-health.ts.
 */
import type { UpstreamOutcome } from "../gateway/upstream/outcome";
import { effectiveCircuit, type ProbeResult, type UpstreamHealth } from "../gateway/upstream/health-snapshot";

/** Everything GatewayHealth keeps per upstream except the last probe. */
export type UpstreamState = Omit<UpstreamHealth, "lastProbe">;

/** Weight of the newest sample in every EWMA (a power of two keeps the arithmetic exact). */
export const EWMA_ALPHA = 0.25;
/** Weighted consecutive failures that open a closed circuit. */
export const FAILURE_THRESHOLD = 3;
/** Weight of a failure of kind error or timeout, and of a failed probe. */
export const FAILURE_WEIGHT = 1;
/** Weight of an invalid block: one lie is enough to open the circuit. */
export const INVALID_BLOCK_WEIGHT = 3;
/** Cool-down of a circuit opened from closed. */
export const BASE_COOLDOWN_MS = 30_000;
/** Each failure in half-open doubles the cool-down, up to this. */
export const MAX_COOLDOWN_MS = 600_000;
/** Outcomes with fewer verified bytes say nothing about throughput (TTFB dominates them). */
export const MIN_THROUGHPUT_BYTES = 65_536;

export function initialState(upstream: string): UpstreamState {
  return {
    upstream,
    counts: { ok: 0, notFound: 0, error: 0, timeout: 0, invalidBlock: 0, deviation: 0, aborted: 0 },
    successEwma: 1,
    ttfbEwmaMs: null,
    throughputEwmaBps: null,
    lastOkAt: null,
    lastErrorAt: null,
    consecutiveFailures: 0,
    circuit: "closed",
    openUntil: null,
    cooldownMs: BASE_COOLDOWN_MS,
    circuitChangedAt: null,
  };
}

/** The first sample is taken as is; later ones move the average by EWMA_ALPHA. */
export function ewma(previous: number | null, sample: number): number {
  return previous === null ? sample : previous + EWMA_ALPHA * (sample - previous);
}

/** The state after one request outcome. `state` is not modified. */
export function applyOutcome(state: UpstreamState, outcome: UpstreamOutcome): UpstreamState {
  const s: UpstreamState = { ...state, counts: { ...state.counts } };
  const at = outcome.at;
  if (outcome.result === "aborted") {
    s.counts.aborted += 1;
    // A race loser carries a TTFB only when it had at least the winner's time and still
    // had nothing: a lower bound of its TTFB, so it ranks below the upstream that beat it.
    if (outcome.ttfbMs !== undefined) s.ttfbEwmaMs = ewma(s.ttfbEwmaMs, outcome.ttfbMs);
    return s;
  }
  if (outcome.ttfbMs !== undefined) s.ttfbEwmaMs = ewma(s.ttfbEwmaMs, outcome.ttfbMs);
  switch (outcome.result) {
    case "not_found":
      // The upstream answered truthfully that it lacks the content: not its failure.
      s.counts.notFound += 1;
      return s;
    case "deviation":
      // Valid blocks, not the ones asked for (an old gateway): not a lie, not a failure; the
      // request carried on with it block by block, and that part is reported on its own.
      s.counts.deviation += 1;
      return s;
    case "ok":
      s.counts.ok += 1;
      s.successEwma = ewma(s.successEwma, 1);
      s.lastOkAt = Math.max(s.lastOkAt ?? at, at);
      if (outcome.bytes >= MIN_THROUGHPUT_BYTES && outcome.durationMs > 0) {
        s.throughputEwmaBps = ewma(s.throughputEwmaBps, (outcome.bytes * 1000) / outcome.durationMs);
      }
      succeed(s, at);
      return s;
    case "error":
    case "timeout":
    case "invalid_block":
      if (outcome.result === "error") s.counts.error += 1;
      else if (outcome.result === "timeout") s.counts.timeout += 1;
      else s.counts.invalidBlock += 1;
      s.successEwma = ewma(s.successEwma, 0);
      s.lastErrorAt = Math.max(s.lastErrorAt ?? at, at);
      fail(s, at, outcome.result === "invalid_block" ? INVALID_BLOCK_WEIGHT : FAILURE_WEIGHT);
      return s;
  }
}

/**
 * The state after a cron probe. Probes move only the circuit: a pass closes a
 * half-open circuit, a failure counts like a request error. Their latency
 * (of an identity CID, which needs no retrieval) stays out of the EWMAs.
 */
export function applyProbe(state: UpstreamState, probe: ProbeResult): UpstreamState {
  const s: UpstreamState = { ...state, counts: { ...state.counts } };
  if (!probe.ok) fail(s, probe.at, FAILURE_WEIGHT);
  else if (!isStale(s, probe.at) && effectiveCircuit(s, probe.at) === "half_open") close(s, probe.at);
  return s;
}

/** An observation older than the last circuit change must not move the circuit (reports arrive late and out of order). */
function isStale(s: UpstreamState, at: number): boolean {
  return s.circuitChangedAt !== null && at < s.circuitChangedAt;
}

function succeed(s: UpstreamState, at: number): void {
  if (isStale(s, at)) return;
  switch (effectiveCircuit(s, at)) {
    case "closed":
      s.consecutiveFailures = 0;
      return;
    case "half_open":
      close(s, at);
      return;
    case "open":
      // Still cooling down: a last-resort success is counted, the circuit waits for its trial.
      return;
  }
}

function fail(s: UpstreamState, at: number, weight: number): void {
  if (isStale(s, at)) return;
  s.consecutiveFailures += weight;
  switch (effectiveCircuit(s, at)) {
    case "closed":
      if (s.consecutiveFailures >= FAILURE_THRESHOLD) open(s, at, s.cooldownMs);
      return;
    case "half_open":
      open(s, at, Math.min(s.cooldownMs * 2, MAX_COOLDOWN_MS));
      return;
    case "open":
      return;
  }
}

function open(s: UpstreamState, at: number, cooldownMs: number): void {
  s.circuit = "open";
  s.cooldownMs = cooldownMs;
  s.openUntil = at + cooldownMs;
  s.circuitChangedAt = at;
}

function close(s: UpstreamState, at: number): void {
  s.circuit = "closed";
  s.cooldownMs = BASE_COOLDOWN_MS;
  s.openUntil = null;
  s.consecutiveFailures = 0;
  s.circuitChangedAt = at;
}
