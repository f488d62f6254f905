/**
 * The request path's side of GatewayHealth (DESIGN.md: "a gateway request
 * never waits on a single global Durable Object"):
 *
 * - `healthView()` ranks upstreams from a snapshot cached in this isolate. It
 *   is synchronous: when the snapshot is older than REFRESH_AFTER_MS it starts
 *   a refresh in the background and answers from what it has (nothing, on an
 *   isolate's first request: configured order).
 * - `outcomeSink()` collects a request's outcomes into the isolate's batch;
 *   `ctx.waitUntil(sink.flush())` after the response sends the batch in one
 *   RPC, at most once per HEALTH_FLUSH_INTERVAL_MS per isolate and region.
 */
import { gatewayHealth } from "../../durable-objects/gateway-health";
import { applyOutcome, initialState } from "../../durable-objects/upstream-state";
import type { HealthSnapshot } from "./health-snapshot";
import { byUpstream, hedgeDelayFor, rankUpstreams } from "./health-score";
import type { OutcomeSink, UpstreamHealthView, UpstreamOutcome } from "./outcome";

/** A snapshot older than this is refreshed (in the background) by the next view. */
export const REFRESH_AFTER_MS = 5000;
/**
 * A refresh still pending after this long is presumed lost (its request's
 * context ended before the RPC settled) and another one may start.
 */
export const REFRESH_GIVE_UP_MS = 15_000;

interface CachedSnapshot {
  snapshot: HealthSnapshot | undefined;
  /** Start time of the last refresh that settled (successful or not); 0 before the first. */
  fetchedAt: number;
  /**
   * Start time of the pending refresh, if any. A time, not the promise: a
   * promise of one request must not be awaited by another.
   */
  inFlight: number | undefined;
}

/** Region → its cached snapshot. Module scope: shared by every request this isolate serves. */
const cache = new Map<string, CachedSnapshot>();

/**
 * The region cron probes are filed under: a scheduled event carries no colo
 * (src/cron/scheduled.ts). A colo's view merges it in (`withProbes`), so an
 * upstream the probe found down ranks last even in a colo that never used it.
 */
export const PROBE_REGION = "local";

/**
 * The health view of `region` at `now`. Never awaits anything.
 *
 * @example
 * const order = healthView(env, regionOf(request)).rank(parseUpstreams(env.UPSTREAMS));
 */
export function healthView(env: Env, region: string, now: number = Date.now()): UpstreamHealthView {
  let entry = cache.get(region);
  if (entry === undefined) {
    entry = { snapshot: undefined, fetchedAt: 0, inFlight: undefined };
    cache.set(region, entry);
  }
  const stale = now - entry.fetchedAt >= REFRESH_AFTER_MS;
  const pending = entry.inFlight !== undefined && now - entry.inFlight < REFRESH_GIVE_UP_MS;
  if (stale && !pending) void refresh(env, region, entry, now);

  const known = byUpstream(entry.snapshot);
  return {
    rank: (upstreams) => rankUpstreams(known, upstreams, now),
    hedgeDelayMs: (upstream) => hedgeDelayFor(known.get(upstream)),
  };
}

/** Fetch a fresh snapshot into `entry`. Never rejects: a failed refresh is logged and retried by a later view. */
async function refresh(env: Env, region: string, entry: CachedSnapshot, startedAt: number): Promise<void> {
  entry.inFlight = startedAt;
  try {
    const [own, probes] = await Promise.all([
      gatewayHealth(env, region).snapshot(),
      region === PROBE_REGION ? undefined : gatewayHealth(env, PROBE_REGION).snapshot(),
    ]);
    const snapshot = probes ? withProbes(own, probes) : own;
    // A slower, older refresh must not overwrite a newer one.
    if (entry.snapshot === undefined || snapshot.takenAt >= entry.snapshot.takenAt) {
      entry.snapshot = snapshot;
      // The object has not seen this isolate's outcomes still batched or being sent: the isolate keeps what it
      // learned from them (an outcome sent meanwhile may count twice here until the next refresh; health is advisory).
      const p = unsent.get(region);
      if (p) for (const outcome of [...p.sending, ...p.outcomes]) applyLocally(region, outcome);
    }
  } catch (err) {
    // Keep the old snapshot: stale knowledge ranks better than none.
    console.error("gateway health: snapshot refresh failed", region, err instanceof Error ? err.message : String(err));
  } finally {
    // A failed attempt counts too, so a failing object is asked once per REFRESH_AFTER_MS, not on every request.
    entry.fetchedAt = Math.max(entry.fetchedAt, startedAt);
    if (entry.inFlight === startedAt) entry.inFlight = undefined;
  }
}

/**
 * At most one `report()` RPC per isolate and region in this window: a
 * request's flush that comes sooner waits out the rest of it, and whichever
 * flush wakes first sends every outcome collected meanwhile, from every
 * request (the others find nothing left). One RPC per request was one
 * GatewayHealth SQLite transaction per response (docs/health.md "Batching").
 */
export const HEALTH_FLUSH_INTERVAL_MS = 250;
/** Outcomes per `report()` call at most: GatewayHealth refuses batches past MAX_BATCH (1000). */
const REPORT_CHUNK = 500;

interface PendingOutcomes {
  outcomes: UpstreamOutcome[];
  /** The batch whose report() is in flight (not yet in the object's snapshots). */
  sending: UpstreamOutcome[];
  /** When the last batch of this region left this isolate (0: never). */
  lastFlushAt: number;
}

/** Region → outcomes reported in this isolate and not yet sent. Module scope, like the snapshot cache. */
const unsent = new Map<string, PendingOutcomes>();

/**
 * A request's outcome sink: `report()` adds to the isolate's batch of the
 * region (and applies the outcome at once to this isolate's cached
 * snapshot, so the isolate's next request already ranks by it: a fresh
 * isolate learns from its first request instead of waiting for the next
 * refresh); `flush()`, called from `ctx.waitUntil` after the response,
 * sends the batch (HEALTH_FLUSH_INTERVAL_MS). Every outcome reported before
 * a flush is sent by that flush or by an earlier one still in flight, never
 * later. `flush()` never rejects: health is advisory, a lost report must not
 * fail anything. `wait` replaces the timer (tests).
 */
export function outcomeSink(env: Env, region: string, wait: (ms: number) => Promise<void> = sleep): OutcomeSink & { flush(): Promise<void> } {
  let reported = false;
  return {
    report(outcome) {
      reported = true;
      pendingOf(region).outcomes.push(outcome);
      applyLocally(region, outcome);
    },
    async flush() {
      if (!reported) return;
      reported = false;
      await flushOutcomes(env, region, wait);
    },
  };
}

function pendingOf(region: string): PendingOutcomes {
  let p = unsent.get(region);
  if (p === undefined) {
    p = { outcomes: [], sending: [], lastFlushAt: 0 };
    unsent.set(region, p);
  }
  return p;
}

async function flushOutcomes(env: Env, region: string, wait: (ms: number) => Promise<void>): Promise<void> {
  const p = pendingOf(region);
  if (p.outcomes.length === 0) return;
  const delay = p.lastFlushAt + HEALTH_FLUSH_INTERVAL_MS - Date.now();
  if (delay > 0) await wait(delay);
  if (p.outcomes.length === 0) return; // an earlier flush took them
  p.lastFlushAt = Date.now();
  const batch = p.outcomes;
  p.outcomes = [];
  p.sending = batch;
  try {
    const stub = gatewayHealth(env, region);
    for (let i = 0; i < batch.length; i += REPORT_CHUNK) await stub.report(batch.slice(i, i + REPORT_CHUNK));
  } catch (err) {
    console.error("gateway health: report failed", region, err instanceof Error ? err.message : String(err));
  } finally {
    if (p.sending === batch) p.sending = [];
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A colo's snapshot with what the probes know: upstreams the colo has no
 * stats for take the probe region's entry (its circuit, opened by failed
 * probes), and every entry gets the latest probe. The colo's own request
 * statistics are never replaced: they are first-hand.
 */
export function withProbes(own: HealthSnapshot, probes: HealthSnapshot): HealthSnapshot {
  const known = new Set(own.upstreams.map((u) => u.upstream));
  const probeOf = new Map(probes.upstreams.map((u) => [u.upstream, u]));
  return {
    ...own,
    upstreams: [
      ...own.upstreams.map((u) => ({ ...u, lastProbe: probeOf.get(u.upstream)?.lastProbe ?? u.lastProbe })),
      ...probes.upstreams.filter((u) => !known.has(u.upstream)),
    ],
  };
}

/** Folds an outcome into the cached snapshot of `region` (the next refresh replaces it with the object's view). */
function applyLocally(region: string, outcome: UpstreamOutcome): void {
  let entry = cache.get(region);
  if (entry === undefined) {
    entry = { snapshot: undefined, fetchedAt: 0, inFlight: undefined };
    cache.set(region, entry);
  }
  const snapshot = entry.snapshot ?? { region, takenAt: 0, upstreams: [] };
  const upstreams = [...snapshot.upstreams];
  const i = upstreams.findIndex((u) => u.upstream === outcome.upstream);
  const previous = i >= 0 ? upstreams[i]! : { ...initialState(outcome.upstream), lastProbe: null };
  const next = { ...applyOutcome(previous, outcome), lastProbe: previous.lastProbe };
  if (i >= 0) upstreams[i] = next;
  else upstreams.push(next);
  entry.snapshot = { ...snapshot, upstreams };
}

/** The region a request is served in: its Cloudflare colo, or "local" (wrangler dev without cf data, tests, cron). */
export function regionOf(request: Request): string {
  const colo = (request.cf as { colo?: unknown } | undefined)?.colo;
  return typeof colo === "string" && colo !== "" ? colo : "local";
}
