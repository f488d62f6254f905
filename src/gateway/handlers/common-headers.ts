import type { CID } from "multiformats/cid";

/** Cache-Control for responses under /ipfs/ (path-gateway.md#cache-control-response-header): content-addressed, so immutable. */
export const IMMUTABLE = "public, max-age=29030400, immutable";

/** Headers every /ipfs/ response carries (path-gateway.md#response-headers). */
export function contentHeaders(contentPath: string, roots: CID[]): Headers {
  const h = new Headers();
  h.set("X-Ipfs-Path", contentPath);
  h.set("X-Ipfs-Roots", roots.map(String).join(","));
  h.set("Cache-Control", IMMUTABLE);
  h.set("Vary", "Accept");
  return h;
}

/**
 * Content-Disposition with an ASCII fallback and RFC 5987 `filename*` for
 * other names (path-gateway.md#content-disposition-response-header):
 * `attachment; filename="test____.car"; filename*=UTF-8''test%D1%82...`.
 */
export function contentDisposition(kind: "attachment" | "inline", filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]/g, "_").replace(/["\\]/g, "_");
  if (ascii === filename) return `${kind}; filename="${filename}"`;
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/** Content-Location for a response whose format came from Accept: the same URL with the format spelt out (trustless-gateway.md#content-location-response-header). */
export function contentLocation(url: URL, extra: Record<string, string>): string {
  const q = new URLSearchParams(url.search);
  for (const [k, v] of Object.entries(extra)) q.set(k, v);
  return `${url.pathname}?${q.toString()}`;
}
