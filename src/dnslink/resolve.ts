import { HttpError } from "../http/errors";
import { TtlCache } from "../ipns/ttl-cache";
import { queryTxt, type TxtAnswer } from "./doh";
import { normalizeDomain } from "./domain";
import { dnslinkEntries } from "./txt";

export interface ResolvedDnslink {
  readonly domain: string;
  /** `/ipfs/{cid}[/path]` or `/ipns/{name-or-domain}[/path]`, as published. */
  readonly value: string;
  /** Seconds the answer may still be cached (what is left of the DNS TTL). */
  readonly ttlSeconds: number;
  readonly source: "memory" | "dns";
}

export interface ResolveDnslinkOptions {
  signal?: AbortSignal;
  /** Per-query deadline, ms (default 5000). */
  timeoutMs?: number;
  /** Isolate cache (default: one per isolate). */
  memory?: TtlCache<DnslinkCacheEntry>;
}

export type DnslinkCacheEntry = { readonly value: string } | { readonly value: null };

const DEFAULT_RESOLVER = "https://cloudflare-dns.com/dns-query";
const DEFAULT_TIMEOUT_MS = 5000;
/** Cap on how long an answer is kept, whatever its TTL says. */
const MAX_TTL_SECONDS = 86_400;
/** "No DNSLink here" is remembered this long, so a missing name cannot make us query DNS per request. */
const NEGATIVE_TTL_SECONDS = 60;
const defaultMemory = new TtlCache<DnslinkCacheEntry>(1000);

/**
 * Resolves one step of DNSLink (https://dnslink.dev): TXT records of
 * `_dnslink.{domain}` via the DNS-over-HTTPS resolver `DOH_RESOLVER`, falling
 * back to the TXT records of `{domain}` itself when `_dnslink.` has no
 * DNSLink entry (the older convention, still allowed by the spec). Answers are
 * cached in the isolate for their DNS TTL. Recursion through `/ipns/…` values
 * is the caller's (see src/ipns/resolve-path.ts).
 *
 * @throws HttpError 400 invalid domain; 404 no DNSLink record; 502 malformed
 *   records or resolver failure; 504 resolver timeout
 */
export async function resolveDnslink(
  env: Pick<Env, "DOH_RESOLVER">,
  domain: string,
  opts: ResolveDnslinkOptions = {},
): Promise<ResolvedDnslink> {
  const name = normalizeDomain(domain);
  const memory = opts.memory ?? defaultMemory;
  const now = Date.now();
  const hit = memory.get(name, now);
  if (hit !== undefined) {
    if (hit.value.value === null) throw notFound(name);
    return { domain: name, value: hit.value.value, ttlSeconds: Math.floor((hit.expiresAt - now) / 1000), source: "memory" };
  }

  const resolver = env.DOH_RESOLVER || DEFAULT_RESOLVER;
  const query = { signal: opts.signal, timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS };
  const malformed: { entry: string; reason: string }[] = [];
  for (const qname of [`_dnslink.${name}`, name]) {
    const answer: TxtAnswer = await queryTxt(resolver, qname, query);
    if (answer.kind === "nxdomain") continue;
    const entries = dnslinkEntries(answer.texts);
    malformed.push(...entries.malformed);
    const value = entries.valid[0];
    if (value === undefined) continue;
    const ttlSeconds = Math.min(answer.ttlSeconds, MAX_TTL_SECONDS);
    memory.set(name, { value }, now + ttlSeconds * 1000, now);
    return { domain: name, value, ttlSeconds, source: "dns" };
  }

  const first = malformed[0];
  if (first !== undefined) {
    throw new HttpError(
      "bad_gateway",
      `malformed DNSLink record for ${name}: "${first.entry.slice(0, 200)}" (${first.reason})`,
    );
  }
  memory.set(name, { value: null }, now + NEGATIVE_TTL_SECONDS * 1000, now);
  throw notFound(name);
}

function notFound(domain: string): HttpError {
  return new HttpError("not_found", `no DNSLink record found for ${domain} (no dnslink= TXT at _dnslink.${domain} or ${domain})`);
}
