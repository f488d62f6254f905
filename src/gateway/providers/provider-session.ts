import { openSession } from "../upstream/open-session";
import type { UpstreamSession } from "../tiers/tiered-block-source";

/**
 * A verified block session over providers found through IPNI: the same
 * `VerifiedBlockSession` as the configured upstreams (every block hashed,
 * a liar dropped and penalised, hedged racing), the same health accounting
 * (outcomes filed under the provider's base URL in the region's
 * GatewayHealth, ranking from the isolate's snapshot), only other bases:
 * the configured upstreams, which just said not found, are left out.
 */
export function openProviderSession(env: Env, waitUntil: (p: Promise<unknown>) => void, request: Request, bases: string[]): UpstreamSession {
  return openSession(env, waitUntil, { request, only: bases });
}
