/**
 * If-None-Match handling (path-gateway.md#if-none-match-request-header):
 * a list of entity tags, weak or strong, or `*`. Content under /ipfs/ never
 * changes, so a match is a 304 before any upstream is asked.
 */
export function ifNoneMatchHits(header: string | null, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === "*") return true;
  const strip = (t: string) => t.trim().replace(/^W\//, "");
  const want = strip(etag);
  return header.split(",").some((t) => strip(t) === want);
}

/** 64-bit FNV-1a of a string, hex: a short stable digest for weak ETags of parameterised responses. */
export function shortHash(text: string): string {
  let h = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  for (const b of new TextEncoder().encode(text)) {
    h ^= BigInt(b);
    h = (h * prime) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, "0");
}

export function notModified(etag: string, headers: Headers): Response {
  const h = new Headers(headers);
  h.set("ETag", etag);
  return new Response(null, { status: 304, headers: h });
}
