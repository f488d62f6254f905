import { parseUpstreams } from "./upstream/upstream-list";

/** The gateway's settings, read from wrangler vars (documented in README.md and wrangler.toml). */
export interface GatewayConfig {
  upstreams: string[];
  hedgeDelayMs: number;
  ttfbTimeoutMs: number;
  idleTimeoutMs: number;
  maxConcurrent: number;
}

const cache = new Map<string, GatewayConfig>();

export function gatewayConfig(env: Env): GatewayConfig {
  const key = [env.UPSTREAMS, env.HEDGE_DELAY_MS, env.TTFB_TIMEOUT_MS, env.IDLE_TIMEOUT_MS, env.MAX_CONCURRENT_UPSTREAMS].join("|");
  let c = cache.get(key);
  if (!c) {
    c = {
      upstreams: parseUpstreams(env.UPSTREAMS ?? ""),
      hedgeDelayMs: positive(env.HEDGE_DELAY_MS, 300),
      ttfbTimeoutMs: positive(env.TTFB_TIMEOUT_MS, 15_000),
      idleTimeoutMs: positive(env.IDLE_TIMEOUT_MS, 30_000),
      maxConcurrent: positive(env.MAX_CONCURRENT_UPSTREAMS, 3),
    };
    if (cache.size > 16) cache.clear();
    cache.set(key, c);
  }
  return c;
}

function positive(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}
