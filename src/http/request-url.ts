/**
 * The parsed URL of a request, parsed once per `Request` object: the
 * metrics middleware, the origin middleware, the gateway request and the
 * edge-cache key all read it, and parsing it four times was ~2 % of a
 * cached block's CPU (docs/benchmarks.md figure 8). Shared, so read-only:
 * build a new URL to change one (`new URL(requestUrl(r))`).
 */
const parsed = new WeakMap<Request, URL>();

export function requestUrl(request: Request): URL {
  let url = parsed.get(request);
  if (url === undefined) parsed.set(request, (url = new URL(request.url)));
  return url;
}
