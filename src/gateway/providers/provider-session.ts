import { gatewayConfig } from "../gateway-config";
import { VerifiedBlockSession } from "../upstream/block-session";
import { healthView, outcomeSink, regionOf } from "../upstream/health";
import { HttpTrustlessGateway } from "../upstream/trustless-gateway";
import type { UpstreamSession } from "../tiers/tiered-block-source";

/**
 * A verified block session over providers found through IPNI: the same
 * `VerifiedBlockSession` as the configured upstreams (every block hashed,
 * a liar dropped and penalised, hedged racing), the same health accounting
 * (outcomes filed under the provider's base URL in the region's
 * GatewayHealth, ranking from the isolate's snapshot), only other bases.
 * `openSession` is not reused because it would put the configured upstreams
 * (which just said not found) in front again.
 */
export function openProviderSession(env: Env, waitUntil: (p: Promise<unknown>) => void, request: Request, bases: string[]): UpstreamSession {
  const config = gatewayConfig(env);
  const region = regionOf(request);
  const view = healthView(env, region);
  const sink = outcomeSink(env, region);
  const session = new VerifiedBlockSession({
    upstreams: view.rank(bases).map((base) => new HttpTrustlessGateway(base)),
    hedgeDelayMs: config.hedgeDelayMs,
    hedgeDelayFor: (base) => {
      const suggested = view.hedgeDelayMs?.(base);
      return suggested === undefined ? undefined : Math.min(suggested, config.hedgeDelayMs);
    },
    ttfbTimeoutMs: config.ttfbTimeoutMs,
    idleTimeoutMs: config.idleTimeoutMs,
    maxConcurrent: config.maxConcurrent,
    sink,
  });
  return { session, finish: () => waitUntil(session.close().finally(() => sink.flush())) };
}
