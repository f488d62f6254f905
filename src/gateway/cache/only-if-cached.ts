/**
 * `Cache-Control: only-if-cached` on a request (path-gateway.md
 * "Cache-Control (request header)", RFC 9111 §5.2.1.7): the client wants the
 * content only if this gateway already holds it. Here "holds" means the
 * edge cache has the complete response, or R2 has the blocks
 * (docs/architecture.md "Edge cache and the R2 tier"); anything that would
 * need an upstream is a 412 Precondition Failed.
 */
export function onlyIfCached(headers: Headers): boolean {
  const value = headers.get("Cache-Control");
  if (value === null) return false;
  return value.split(",").some((directive) => directive.trim().toLowerCase() === "only-if-cached");
}
