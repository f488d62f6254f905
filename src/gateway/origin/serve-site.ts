/**
 * Serving a path of a site (subdomain, DNSLink host, `/ipns/` target) as the
 * `/ipfs/` content path it stands for, through the gateway's own `/ipfs/`
 * routes (request/rewrite.ts), then `_redirects` for missing paths and the
 * mutable pointer's `Cache-Control`.
 */
import { decideFormat } from "../request/response-format";
import { internalRequest } from "../request/rewrite";
import type { OriginContext, Site } from "./origin-context";
import { applyRedirects } from "./redirects-file";

/**
 * `path` (percent-encoded, "" or starting with "/") inside `site`, with the
 * method and headers of `init` (default: the client's request).
 */
export function fetchInSite(ctx: OriginContext, site: Site, path: string, init: Request = ctx.request, displayUrl: URL = ctx.url): Promise<Response> {
  const request = internalRequest(ctx.url.origin, site.root + path, init === ctx.request ? ctx.url.search : "", {
    displayUrl,
    contentPath: site.display + path,
    ipfsLinkBase: site.ipfsLinkBase,
  }, init);
  return ctx.dispatch(request);
}

/** The client's request path inside `site`: the content, or what `_redirects` says for a missing path. */
export async function serveSite(ctx: OriginContext, site: Site, path: string): Promise<Response> {
  let response = await fetchInSite(ctx, site, path);
  // web-redirects-file.md "No Forced Redirects": rules apply only to paths absent from the DAG;
  // and only to web (deserialized) responses, not to trustless formats.
  if (response.status === 404 && site.redirects && isWebRequest(ctx)) response = await applyRedirects(ctx, site, response);
  return mutableCaching(response, site);
}

function isWebRequest(ctx: OriginContext): boolean {
  try {
    const kind = decideFormat(ctx.url, ctx.request.headers.get("Accept")).kind;
    return kind === "html" || kind === "default";
  } catch {
    return false; // a bad format parameter: the content request already answered 400
  }
}

/**
 * path-gateway.md#cache-control-response-header: "`public, max-age=<ttl>`
 * SHOULD be returned for mutable resources under `/ipns/`", the remaining
 * TTL of the IPNS record or DNSLink TXT record; never `immutable`. Error
 * responses (`no-store`) keep theirs.
 */
export function mutableCaching(response: Response, site: Pick<Site, "ttlSeconds">): Response {
  if (site.ttlSeconds === undefined) return response;
  const current = response.headers.get("Cache-Control");
  if (current === "no-store") return response;
  const res = mutable(response);
  res.headers.set("Cache-Control", `public, max-age=${mutableMaxAge(site.ttlSeconds)}`);
  // The Date the max-age counts from (RFC 9111 §4.2.3), also where no front end adds one.
  if (!res.headers.has("Date")) res.headers.set("Date", new Date().toUTCString());
  return res;
}

/**
 * The most a mutable response may be cached, seconds: one day, whatever the
 * record says ("Implementations MAY place an upper bound on any TTL
 * received"; the conformance records carry 100-year TTLs). Our own record
 * caches use the same bound (docs/ipns-dnslink.md), so a republished name
 * reaches clients within a day.
 */
export const MAX_MUTABLE_MAX_AGE = 86_400;

export function mutableMaxAge(ttlSeconds: number): number {
  return Math.max(0, Math.min(Math.floor(ttlSeconds), MAX_MUTABLE_MAX_AGE));
}

/** A copy whose headers can be changed (the body stream is handed over, not copied). */
export function mutable(response: Response): Response {
  return new Response(response.body, response);
}
