import type { CID } from "multiformats/cid";
import { TtlCache } from "../../ipns/ttl-cache";
import { EDGE_CACHE_PREFIX } from "../cache/cache-key";
import { askRouter, type Provider } from "./ask-router";
import { parseProviderRouters } from "./provider-routers";

/** Providers used per request at most (each is an extra upstream in the race). */
export const MAX_PROVIDERS = 10;
/** How long a router may take to answer. */
export const ROUTER_TIMEOUT_MS = 5000;
/** Answers with providers are kept this long at most (or the router's max-age, if shorter, but ≥ MIN). */
const MAX_TTL_S = 300;
/** Answers without providers, or with a router failing, are kept this long (http-routing-v1.md suggests 15 s). */
const MIN_TTL_S = 15;

export interface RouterStatus {
  router: string;
  status: "ok" | "failed";
  /** Usable HTTP gateway providers this router named. */
  providers: number;
  error?: string;
}

/** What provider discovery found for one CID. */
export interface ProviderAnswer {
  /** The CID asked about, as CIDv1. */
  cid: string;
  providers: Provider[];
  routers: RouterStatus[];
  /** When the routers were asked, and until when the answer is reused (ms epoch). */
  foundAt: number;
  expiresAt: number;
  /** Where this answer came from: the routers now, this isolate's memory, or the edge cache. */
  source: "routers" | "isolate" | "edge-cache";
}

const remembered = new TtlCache<ProviderAnswer>(1000);
const inFlight = new Map<string, Promise<ProviderAnswer>>();

export interface FindOptions {
  /** Origin of the request, for the edge-cache key. */
  cacheOrigin: string;
  waitUntil: (p: Promise<unknown>) => void;
}

/**
 * Providers of `cid` that serve the trustless gateway over HTTP, from the
 * delegated routers of `PROVIDER_ROUTERS` (IPNI: cid.contact by default).
 * Answers are kept briefly in this isolate and in the edge cache, so a CID
 * that nobody has costs one routing query per TTL, not one per request.
 * Never throws for a router's failure: the answer says which failed.
 */
export async function findProviders(env: Env, cid: CID, opts: FindOptions): Promise<ProviderAnswer> {
  const key = cid.toV1().toString();
  const now = Date.now();
  const known = remembered.get(key, now);
  if (known) return { ...known.value, source: "isolate" };
  let pending = inFlight.get(key);
  if (!pending) {
    pending = lookUp(env, cid, key, opts).finally(() => inFlight.delete(key));
    inFlight.set(key, pending);
  }
  return pending;
}

async function lookUp(env: Env, cid: CID, key: string, opts: FindOptions): Promise<ProviderAnswer> {
  const cacheKey = `${opts.cacheOrigin}${EDGE_CACHE_PREFIX}/providers/${key}`;
  const cached = await fromCache(cacheKey);
  if (cached && cached.expiresAt > Date.now()) {
    remembered.set(key, cached, cached.expiresAt);
    return { ...cached, source: "edge-cache" };
  }

  const routers = parseProviderRouters(env.PROVIDER_ROUTERS);
  const foundAt = Date.now();
  const answers = await Promise.all(routers.map((r) => askRouter(r, cid, AbortSignal.timeout(ROUTER_TIMEOUT_MS))));
  const providers: Provider[] = [];
  for (const a of answers) {
    if (a.status !== "ok") continue;
    for (const p of a.providers) {
      if (providers.length < MAX_PROVIDERS && !providers.some((q) => q.url === p.url)) providers.push(p);
    }
  }
  const failed = answers.some((a) => a.status === "failed");
  const ages = answers.flatMap((a) => (a.status === "ok" && a.maxAgeSeconds !== undefined ? [a.maxAgeSeconds] : []));
  const ttl = providers.length === 0 || failed ? MIN_TTL_S : Math.max(MIN_TTL_S, Math.min(MAX_TTL_S, ...ages));
  const answer: ProviderAnswer = {
    cid: key,
    providers,
    routers: answers.map((a) =>
      a.status === "ok" ? { router: a.router, status: "ok", providers: a.providers.length } : { router: a.router, status: "failed", providers: 0, error: a.error },
    ),
    foundAt,
    expiresAt: foundAt + ttl * 1000,
    source: "routers",
  };
  remembered.set(key, answer, answer.expiresAt);
  if (routers.length > 0) opts.waitUntil(toCache(cacheKey, answer, ttl));
  return answer;
}

async function fromCache(key: string): Promise<ProviderAnswer | undefined> {
  try {
    const hit = await caches.default.match(key);
    if (!hit) return undefined;
    return (await hit.json()) as ProviderAnswer;
  } catch (err) {
    console.warn("provider cache: match failed", err instanceof Error ? err.message : String(err));
    return undefined;
  }
}

async function toCache(key: string, answer: ProviderAnswer, ttlSeconds: number): Promise<void> {
  try {
    const body = JSON.stringify(answer);
    await caches.default.put(key, new Response(body, { headers: { "Content-Type": "application/json", "Cache-Control": `public, max-age=${ttlSeconds}` } }));
  } catch (err) {
    console.warn("provider cache: put failed", err instanceof Error ? err.message : String(err));
  }
}

