import { HttpError } from "../../http/errors";

/** A byte range resolved against a known length: [first, last] inclusive. */
export type ByteRange = [number, number];

/**
 * Parses `Range: bytes=...` (RFC 9110 §14.1.2) against `size`. Returns the
 * satisfiable ranges in request order; undefined when there is no usable
 * Range header (it is then ignored, as RFC 9110 allows for a malformed one);
 * 416 when every range is unsatisfiable.
 */
export function parseRange(header: string | null, size: number): ByteRange[] | undefined {
  if (!header) return undefined;
  const m = /^\s*bytes\s*=\s*(.+)$/i.exec(header);
  if (!m) return undefined;
  const specs = m[1]!.split(",").map((s) => s.trim()).filter(Boolean);
  if (specs.length === 0 || specs.length > 64) return undefined;
  const out: ByteRange[] = [];
  for (const spec of specs) {
    const r = /^(\d*)\s*-\s*(\d*)$/.exec(spec);
    if (!r || (r[1] === "" && r[2] === "")) return undefined;
    if (r[1] === "") {
      const n = Number(r[2]);
      if (n === 0) continue;
      out.push([Math.max(0, size - n), size - 1]);
      continue;
    }
    const first = Number(r[1]);
    const last = r[2] === "" ? size - 1 : Math.min(Number(r[2]), size - 1);
    if (r[2] !== "" && Number(r[2]) < first) return undefined;
    if (first >= size) continue;
    out.push([first, last]);
  }
  if (out.length === 0) {
    throw new HttpError("range_not_satisfiable", `range not satisfiable for ${size} bytes`, { "Content-Range": `bytes */${size}` });
  }
  return out;
}
