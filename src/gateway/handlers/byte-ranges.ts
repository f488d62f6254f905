import type { EntityBytes } from "../request/dag-scope";
import type { GatewayRequest } from "../request/gateway-request";
import { parseRange, type ByteRange } from "../request/range";

/**
 * Most parts a multipart/byteranges answer has. Each range of a file is its
 * own narrow upstream request (entity-bytes), and the block session allows a
 * response 3 × upstreams + 3 races in all (block-session.ts), so with a single
 * upstream more parts could not be served.
 */
export const MAX_PARTS = 4;

/**
 * `Range` on deserialized responses (path-gateway.md#range-request-header,
 * RFC 9110 §14): one range → 206 with `Content-Range`; several →
 * 206 `multipart/byteranges` (RFC 9110 §14.6); none, a malformed one, an
 * `If-Range` that does not match, or ranges adding up to more than the
 * whole, or more than MAX_PARTS ranges (RFC 9110 §14.2 lets a server ignore
 * such requests) → 200. Every range unsatisfiable → 416 (thrown by parseRange).
 */
export function requestedRanges(req: GatewayRequest, size: number, etag: string): ByteRange[] | undefined {
  const ifRange = req.headers.get("If-Range");
  if (ifRange !== null && ifRange.trim() !== etag) return undefined;
  const ranges = parseRange(req.headers.get("Range"), size);
  if (!ranges || ranges.length > MAX_PARTS) return undefined;
  const total = ranges.reduce((sum, [first, last]) => sum + (last - first + 1), 0);
  return total > size ? undefined : ranges;
}

/**
 * The entity-bytes that cover the first range of a `Range` header, before
 * the file size is known (so a request for the tail of a large file asks
 * upstreams only for the tail). Undefined when there is no usable range.
 */
export function firstRangeAsEntityBytes(header: string | null): EntityBytes | undefined {
  if (!header) return undefined;
  const m = /^\s*bytes\s*=\s*([^,]+)/i.exec(header);
  const r = m && /^\s*(\d*)\s*-\s*(\d*)\s*$/.exec(m[1]!);
  if (!r || (r[1] === "" && r[2] === "")) return undefined;
  if (r[1] === "") return Number(r[2]) > 0 ? { from: -Number(r[2]), to: "*" } : undefined;
  const from = Number(r[1]);
  if (!Number.isSafeInteger(from)) return undefined;
  if (r[2] === "") return { from, to: "*" };
  const to = Number(r[2]);
  return Number.isSafeInteger(to) && to >= from ? { from, to } : undefined;
}

/** How a ranged body is framed: its status, headers and the byte parts that make it. */
export interface RangedBody {
  status: 200 | 206;
  length: number;
  /** Sets Content-Type, Content-Length and Content-Range (or the multipart type). */
  apply(headers: Headers): void;
  /** The body, given a reader of file bytes for one inclusive range. */
  stream(read: (range: ByteRange) => AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array>;
}

const enc = new TextEncoder();

export function rangedBody(ranges: ByteRange[] | undefined, size: number, contentType: string): RangedBody {
  if (!ranges || ranges.length === 0) {
    return {
      status: 200,
      length: size,
      apply: (h) => {
        h.set("Content-Type", contentType);
        h.set("Content-Length", String(size));
      },
      async *stream(read) {
        if (size > 0) yield* read([0, size - 1]);
      },
    };
  }
  if (ranges.length === 1) {
    const [first, last] = ranges[0]!;
    return {
      status: 206,
      length: last - first + 1,
      apply: (h) => {
        h.set("Content-Type", contentType);
        h.set("Content-Length", String(last - first + 1));
        h.set("Content-Range", `bytes ${first}-${last}/${size}`);
      },
      async *stream(read) {
        yield* read([first, last]);
      },
    };
  }
  const boundary = crypto.randomUUID().replace(/-/g, "");
  const heads = ranges.map(([first, last], i) =>
    enc.encode(`${i > 0 ? "\r\n" : ""}--${boundary}\r\nContent-Type: ${contentType}\r\nContent-Range: bytes ${first}-${last}/${size}\r\n\r\n`),
  );
  const tail = enc.encode(`\r\n--${boundary}--\r\n`);
  const length = heads.reduce((sum, head, i) => sum + head.length + ranges[i]![1] - ranges[i]![0] + 1, tail.length);
  return {
    status: 206,
    length,
    apply: (h) => {
      h.set("Content-Type", `multipart/byteranges; boundary=${boundary}`);
      h.set("Content-Length", String(length));
    },
    async *stream(read) {
      for (let i = 0; i < ranges.length; i++) {
        yield heads[i]!;
        yield* read(ranges[i]!);
      }
      yield tail;
    },
  };
}

/** A reader over bytes already in memory (a single block). */
export function readFromBytes(bytes: Uint8Array): (range: ByteRange) => AsyncIterable<Uint8Array> {
  return async function* ([first, last]) {
    yield bytes.subarray(first, last + 1);
  };
}
