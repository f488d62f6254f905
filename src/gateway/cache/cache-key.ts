import type { GatewayRequest } from "../request/gateway-request";
import { requestUrl } from "../../http/request-url";
import { rewriteOf } from "../request/rewrite";

/**
 * Path under the request's origin where edge-cache keys live
 * (docs/storage.md "Edge cache keys"). The version changes when what a key
 * covers changes, so old entries are simply never matched again.
 */
export const EDGE_CACHE_PREFIX = "/__edge-cache/v2";

/**
 * The Cache API key of a gateway request, or undefined when the request's
 * answer must not come from (or go into) the edge cache.
 *
 * `request` is the request the /ipfs/ route received: for a subdomain,
 * DNSLink or /ipns/ request that is the internal `/ipfs/{resolved cid}/…`
 * request (request/rewrite.ts), so a key always names immutable content,
 * never a mutable name. The key is everything that can change the bytes or
 * headers of the answer:
 * - the `/ipfs/…` path exactly as received (its CID as written: X-Ipfs-Path echoes it);
 * - every query parameter of the client's URL, sorted, prefixed `q.` (format,
 *   dag-scope, entity-bytes, car-*, filename, download; any other parameter
 *   at worst costs a miss);
 * - what the client saw when it differs from that path (`v.` parameters:
 *   host and path of a subdomain/DNSLink URL, the /ipns/ content path), as
 *   redirects, listing links and X-Ipfs-Path are built from it;
 * - what was derived from `Accept`, in the key's path: the format, whether
 *   it came from Accept (then Content-Location is sent), the CAR `dups`.
 * The `Accept` header itself is not: two headers that decide the same
 * format get the same bytes.
 *
 * For a CAR that is every parameter of its bytes: the path, `dag-scope`,
 * `entity-bytes`, `car-dups`/`car-order`/`car-version` (as `q.` parameters
 * when in the URL; `dups` from Accept in the key's path; the order and
 * version sent are always dfs and 1), and the `filename` of its
 * Content-Disposition.
 *
 * `Range` does not change the key: a single range is answered from the
 * cached 200 (edge-cache.ts; a CAR ignores it), and a 206 is never stored.
 * Not cacheable: `Service-Worker` (may turn into a 400), tar.
 *
 * One entry per answer (v1 had a second `done` marker entry; v2 stores the
 * body's length with it instead: edge-cache.ts).
 *
 * @example edgeCacheKey(req, request) // Request("http://gw.example/__edge-cache/v2/default/url/n/ipfs/bafy…/a.txt?q.filename=x")
 */
export function edgeCacheKey(req: GatewayRequest, request: Request): Request | undefined {
  const url = edgeCacheUrl(req, request);
  return url === undefined ? undefined : new Request(url, { method: "GET" });
}

/**
 * The URL of `edgeCacheKey`'s Request: the look-up of a hit builds its one
 * Request from it, with its `Range` (edge-cache.ts), instead of copying a
 * key Request; on the hot path of every cached response.
 */
export function edgeCacheUrl(req: GatewayRequest, request: Request): string | undefined {
  if (req.headers.has("Service-Worker")) return undefined;
  // Tar bodies are never stored (docs/architecture.md "Edge cache and the R2 tier"): no look-up on their hot path.
  if (req.format.kind === "tar") return undefined;
  // A client's own /ipfs/ request: `req.url` is its URL, parsed once per isolate with the rest of
  // `req` (request/gateway-request.ts), and so is its key.
  if (rewriteOf(request) === undefined) {
    let key = keysByUrl.get(req.url);
    if (key === undefined) keysByUrl.set(req.url, (key = keyUrl(req, req.url)));
    return key;
  }
  return keyUrl(req, requestUrl(request));
}

/** Keys of clients' requests, by the parsed URL `req` carries (one per URL and Accept). */
const keysByUrl = new WeakMap<URL, string>();

function keyUrl(req: GatewayRequest, internal: URL): string {
  const params: [string, string][] = [];
  for (const [k, v] of req.url.searchParams) params.push([`q.${k}`, v]);
  if (req.url.host !== internal.host || req.url.pathname !== internal.pathname || req.path.raw !== internal.pathname) {
    params.push(["v.host", req.url.host], ["v.path", req.url.pathname], ["v.content", req.path.raw]);
  }
  if (params.length > 1) params.sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  const query = params.length === 0 ? "" : new URLSearchParams(params).toString();
  const derived = `${req.format.kind}/${req.format.fromAccept ? "accept" : "url"}/${req.format.car.dups ? "y" : "n"}`;
  return `${internal.origin}${EDGE_CACHE_PREFIX}/${derived}${internal.pathname}${query ? `?${query}` : ""}`;
}
