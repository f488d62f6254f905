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

/**
 * 64-bit FNV-1a of a string, hex: a short stable digest for weak ETags of
 * parameterised responses. Computed in four 16-bit limbs (every product
 * stays below 2^31) rather than with BigInt, which allocated three BigInts
 * per byte on every CAR request; the same digest.
 */
export function shortHash(text: string): string {
  // offset basis 0xcbf29ce484222325, low limb first
  let h0 = 0x2325;
  let h1 = 0x8422;
  let h2 = 0x9ce4;
  let h3 = 0xcbf2;
  for (const b of new TextEncoder().encode(text)) {
    h0 ^= b;
    // × prime 0x100000001b3 = 0x1b3 + 2^40 (limb 2 gets 0x100), mod 2^64
    const r0 = h0 * 0x1b3;
    const r1 = h1 * 0x1b3 + (r0 >>> 16);
    const r2 = h2 * 0x1b3 + h0 * 0x100 + (r1 >>> 16);
    const r3 = h3 * 0x1b3 + h1 * 0x100 + (r2 >>> 16);
    h0 = r0 & 0xffff;
    h1 = r1 & 0xffff;
    h2 = r2 & 0xffff;
    h3 = r3 & 0xffff;
  }
  return [h3, h2, h1, h0].map((limb) => limb.toString(16).padStart(4, "0")).join("");
}

export function notModified(etag: string, headers: Headers): Response {
  const h = new Headers(headers);
  h.set("ETag", etag);
  return new Response(null, { status: 304, headers: h });
}
