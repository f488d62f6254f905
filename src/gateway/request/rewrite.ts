/**
 * Requests the gateway makes to itself. A subdomain, DNSLink or `/ipns/`
 * request is served as the `/ipfs/` content path it stands for
 * (src/gateway/origin/): the origin builds an internal `/ipfs/…` request and
 * dispatches it through the same routes. What the client saw travels beside
 * it, keyed by the Request object, so no client can forge it with a header:
 * handlers build redirects and listing links from `displayUrl` and
 * `X-Ipfs-Path` from `contentPath` (path-gateway.md#x-ipfs-path-response-header:
 * "the original, requested content path").
 */

export interface RewriteInfo {
  /** The URL as the client sent it (its path is what relative links and redirects are built on). */
  readonly displayUrl: URL;
  /** The content path the client asked for, percent-encoded: `/ipfs/{cid}/…` or `/ipns/{name}/…`. */
  readonly contentPath: string;
  /**
   * Where `/ipfs/{cid}` links of generated pages point: "" on a path
   * gateway; the path gateway's origin (`//{domain}`) on subdomain and
   * DNSLink origins, where `/ipfs/…` is a path inside the site.
   */
  readonly ipfsLinkBase: string;
}

const rewrites = new WeakMap<Request, RewriteInfo>();

/**
 * An internal request for `ipfsPath` (`/ipfs/{cid}[/path]`, percent-encoded)
 * with the method and headers of `init` (default: GET, no headers).
 */
export function internalRequest(origin: string, ipfsPath: string, search: string, info: RewriteInfo, init?: Request): Request {
  const request = new Request(`${origin}${ipfsPath}${search}`, init ?? { method: "GET" });
  rewrites.set(request, info);
  return request;
}

/** What the client saw, when `request` is an internal one; undefined for a client's request. */
export function rewriteOf(request: Request): RewriteInfo | undefined {
  return rewrites.get(request);
}
