import { gatewayConfig } from "../gateway-config";
import type { BufferPool } from "../blocks/buffer-pool";
import { VerifiedBlockSession } from "./block-session";
import { healthView, outcomeSink, regionOf } from "./health";
import { HttpTrustlessGateway } from "./trustless-gateway";
import { upstreamMetricsSink } from "../../metrics/upstream-metrics";

export interface OpenSessionOptions {
  /** Extra upstream base URLs for this request only (e.g. a pin's origins), tried after the configured ones. */
  extraUpstreams?: string[];
  /** Race only these base URLs instead of the configured upstreams (e.g. providers found through IPNI). */
  only?: string[];
  /**
   * Base URLs asked before the configured upstreams, in health order among
   * themselves: places known to hold a copy of the request's root (Filecoin
   * providers, src/gateway/tiers/holder-lookup.ts).
   */
  preferred?: string[];
  /** Buffer pool for raw leaves, when the consumer releases each block once written (blocks/buffer-pool.ts). */
  pool?: BufferPool;
  signal?: AbortSignal;
  request?: Request;
}

/**
 * A verified block session over the configured upstreams in health order.
 * Outcomes are flushed to GatewayHealth through `waitUntil` once the
 * session is closed: the request path never awaits the Durable Object.
 */
export function openSession(env: Env, waitUntil: (p: Promise<unknown>) => void, opts: OpenSessionOptions = {}) {
  const config = gatewayConfig(env);
  const region = opts.request ? regionOf(opts.request) : "local";
  const view = healthView(env, region);
  const preferred = view.rank(opts.preferred ?? []);
  const ranked = view.rank(opts.only ?? config.upstreams).filter((u) => !preferred.includes(u));
  const first = [...preferred, ...ranked];
  const all = [...first, ...(opts.extraUpstreams ?? []).filter((u) => !first.includes(u))];
  const health = outcomeSink(env, region);
  // Outcomes feed health and the region's metrics (src/metrics/upstream-metrics.ts), both flushed after the response.
  const metrics = upstreamMetricsSink(env, region);
  const sink = {
    report: (o: Parameters<typeof health.report>[0]) => (health.report(o), metrics.report(o)),
    flush: () => Promise.all([health.flush(), metrics.flush()]),
  };
  const session = new VerifiedBlockSession({
    // Only the configured upstreams are the operator's; origins and providers follow redirects to public addresses only.
    upstreams: all.map((base) => new HttpTrustlessGateway(base, config.upstreams.includes(base) ? "operator" : "public")),
    hedgeDelayMs: config.hedgeDelayMs,
    // Health suggests a delay only from measured TTFB; never wait longer than the configured delay.
    hedgeDelayFor: (base) => {
      const suggested = view.hedgeDelayMs?.(base);
      return suggested === undefined ? undefined : Math.min(suggested, config.hedgeDelayMs);
    },
    ttfbTimeoutMs: config.ttfbTimeoutMs,
    idleTimeoutMs: config.idleTimeoutMs,
    maxConcurrent: config.maxConcurrent,
    sink,
    signal: opts.signal,
    pool: opts.pool,
  });
  /** Call when the response is done (or failed): checks for trailing junk and reports outcomes in the background. */
  const finish = () => waitUntil(session.close().finally(() => sink.flush()));
  return { session, finish };
}
