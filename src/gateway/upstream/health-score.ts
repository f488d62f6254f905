/**
 * Ranking of upstreams from a health snapshot (the rules are written out in
 * the header of src/durable-objects/gateway-health.ts):
 *
 * 1. circuit state first: closed, then half-open, then open (an open upstream
 *    stays usable as a last resort);
 * 2. then the score, highest first;
 * 3. ties (notably upstreams the snapshot does not know) keep their
 *    configured order.
 */
import { effectiveCircuit, type CircuitState, type HealthSnapshot, type UpstreamHealth } from "./health-snapshot";

/** TTFB at which the latency factor is 1/2; also the assumed TTFB of an upstream without samples. */
export const REFERENCE_TTFB_MS = 500;
/** Throughput at which the throughput factor is 3/4; also the assumed throughput without samples. */
export const REFERENCE_THROUGHPUT_BPS = 1_048_576;
/** Hedge delay bounds: never hedge sooner (wasteful) or later (pointless) than these. */
export const MIN_HEDGE_DELAY_MS = 50;
export const MAX_HEDGE_DELAY_MS = 2000;

const CIRCUIT_ORDER: Record<CircuitState, number> = { closed: 0, half_open: 1, open: 2 };

type Scored = Pick<UpstreamHealth, "successEwma" | "ttfbEwmaMs" | "throughputEwmaBps">;

/**
 * success × latency factor × throughput factor, in [0, 1]:
 * - success: the success EWMA (1 for an upstream never seen);
 * - latency: R / (R + ttfb) with R = REFERENCE_TTFB_MS;
 * - throughput: 1/2 + 1/2 · t / (t + T) with T = REFERENCE_THROUGHPUT_BPS, so it
 *   can at most halve a score (most gateway requests are small; TTFB matters more).
 * An upstream without samples scores 1 × 1/2 × 3/4 = 0.375: above a slow or
 * failing one, below a proven fast one, so new upstreams get tried.
 *
 * @example score(undefined) // 0.375
 */
export function score(u: Scored | undefined): number {
  const success = u?.successEwma ?? 1;
  const ttfb = u?.ttfbEwmaMs ?? REFERENCE_TTFB_MS;
  const throughput = u?.throughputEwmaBps ?? REFERENCE_THROUGHPUT_BPS;
  const latencyFactor = REFERENCE_TTFB_MS / (REFERENCE_TTFB_MS + ttfb);
  const throughputFactor = 0.5 + (0.5 * throughput) / (throughput + REFERENCE_THROUGHPUT_BPS);
  return success * latencyFactor * throughputFactor;
}

/** Index a snapshot by upstream URL. */
export function byUpstream(snapshot: HealthSnapshot | undefined): Map<string, UpstreamHealth> {
  return new Map((snapshot?.upstreams ?? []).map((u) => [u.upstream, u]));
}

/** `upstreams` best first at time `now`; see the module header for the order. */
export function rankUpstreams(
  known: ReadonlyMap<string, UpstreamHealth>,
  upstreams: readonly string[],
  now: number,
): string[] {
  return upstreams
    .map((upstream, index) => {
      const u = known.get(upstream);
      return { upstream, index, tier: u ? CIRCUIT_ORDER[effectiveCircuit(u, now)] : 0, score: score(u) };
    })
    .sort((a, b) => a.tier - b.tier || b.score - a.score || a.index - b.index)
    .map((r) => r.upstream);
}

/** About twice the TTFB EWMA, clamped to [MIN_HEDGE_DELAY_MS, MAX_HEDGE_DELAY_MS]; undefined without samples. */
export function hedgeDelayFor(u: UpstreamHealth | undefined): number | undefined {
  if (u?.ttfbEwmaMs == null) return undefined;
  return Math.min(MAX_HEDGE_DELAY_MS, Math.max(MIN_HEDGE_DELAY_MS, Math.round(2 * u.ttfbEwmaMs)));
}
