import { parseRange } from "../request/range";
import type { GatewayRequest } from "../request/gateway-request";
import { copyBody, startBody } from "../handlers/body-stream";
import { ifNoneMatchHits, notModified } from "../handlers/etag";
import { edgeCacheKeys } from "./cache-key";

/** Larger responses are never put in the edge cache (the Cache API's object size limit on most plans); `EDGE_CACHE_MAX_BYTES` overrides it. */
export const MAX_EDGE_CACHE_BYTES = 512 * 1024 * 1024;

/** `EDGE_CACHE_MAX_BYTES` as a byte count (default MAX_EDGE_CACHE_BYTES). */
export function edgeCacheMaxBytes(value: string | undefined): number {
  const n = Number(value);
  return Number.isSafeInteger(n) && n > 0 ? n : MAX_EDGE_CACHE_BYTES;
}

/**
 * How many chunks (blocks) the cache's copy of a body may fall behind the
 * client's before it is given up (body-stream.ts `copyBody`): the copy
 * never paces the client, and holds at most this many blocks.
 */
const MAX_COPY_LAG = 8;

/** Headers a 304 built from a cached response carries (what the handlers' own 304s carry). */
const NOT_MODIFIED_HEADERS = ["X-Ipfs-Path", "X-Ipfs-Roots", "Cache-Control", "Vary"];
/** Headers the Cache API adds to a match; dropped so that a hit carries exactly what the miss carried (handlers set none of them). */
const ADDED_BY_CACHE = ["CF-Cache-Status", "Age", "Expires", "Date"];
/** On the `done` marker: the stored body's length and ETag, so a Range can be decided before the body is asked for. */
const MARKER_LENGTH = "X-Edge-Length";
const MARKER_ETAG = "X-Edge-ETag";

type WaitUntil = (p: Promise<unknown>) => void;

/**
 * The edge cache's answer to a gateway request (docs/architecture.md "Edge
 * cache and the R2 tier"), or undefined on a miss or for a request the
 * cache does not serve (`edgeCacheKeys`; `request` is what the /ipfs/ route
 * received). A hit is the stored 200 with the same headers;
 * `If-None-Match` matching its ETag is a 304; a HEAD gets the headers only;
 * a single `Range` is a 206 cut from the stored body by the Cache API.
 *
 * An entry counts only with its `done` marker (cache-key.ts), which also
 * records the body's length. The body is always asked for as a byte range
 * (`bytes=0-` for the whole), so the Cache API says in `Content-Range` how
 * many bytes it really holds: a stored body of any other length than the
 * marker's is never trusted (dropped, and the request is a miss). The body
 * itself is returned as the runtime streams it, behind a natively piped
 * FixedLengthStream: no JavaScript runs per chunk. The Cache API failing is
 * a miss, never an error.
 */
export async function fromEdgeCache(req: GatewayRequest, request: Request, waitUntil: WaitUntil): Promise<Response | undefined> {
  const keys = edgeCacheKeys(req, request);
  if (!keys) return undefined;
  const range = req.headers.get("Range");
  let marker: Response | undefined;
  let hit: Response | undefined;
  try {
    // Without a Range both look-ups go at once: a hit costs one round trip to the cache, not two.
    [marker, hit] = await Promise.all([caches.default.match(keys.done), range === null ? matchPart(keys.body, "bytes=0-") : undefined]);
  } catch (err) {
    console.warn("edge cache: match failed", err instanceof Error ? err.message : String(err));
    return undefined;
  }
  const size = Number(marker?.headers.get(MARKER_LENGTH) ?? NaN);
  await marker?.body?.cancel();
  if (!marker || !Number.isSafeInteger(size) || size <= 0) {
    // No marker: nothing complete is stored. No length on it: an entry of an older layout, or an empty body (no range to ask for).
    await hit?.body?.cancel();
    return undefined;
  }
  if (range !== null) return fromCacheRanged(req, keys, marker, size, range, waitUntil);
  if (!hit) return undefined;
  if (!(await trusted(hit, 0, size - 1, size, keys, waitUntil))) return undefined;
  const headers = cachedHeaders(hit);
  headers.delete("Content-Range");
  headers.set("Content-Length", String(size));
  const etag = headers.get("ETag");
  if (etag !== null && ifNoneMatchHits(req.headers.get("If-None-Match"), etag)) {
    await hit.body?.cancel();
    const kept = new Headers();
    for (const name of NOT_MODIFIED_HEADERS) {
      const value = headers.get(name);
      if (value !== null) kept.set(name, value);
    }
    return notModified(etag, kept);
  }
  if (req.method === "HEAD") {
    await hit.body?.cancel();
    return new Response(null, { status: 200, headers });
  }
  return new Response(fixedLength(hit.body!, size), { status: 200, headers });
}

/**
 * A single satisfiable `Range` of a GET answered from the cached 200 as the
 * handlers would answer it: 206, the stored headers with `Content-Range`
 * and the part's `Content-Length`. Anything else (HEAD, If-None-Match,
 * several ranges, an `If-Range` that is not the stored ETag) is left to the
 * handlers; every range unsatisfiable is their 416.
 */
async function fromCacheRanged(
  req: GatewayRequest,
  keys: { body: Request; done: Request },
  marker: Response,
  size: number,
  range: string,
  waitUntil: WaitUntil,
): Promise<Response | undefined> {
  const etag = marker.headers.get(MARKER_ETAG);
  if (req.method !== "GET" || req.headers.has("If-None-Match")) return undefined;
  const ifRange = req.headers.get("If-Range");
  if (ifRange !== null && ifRange.trim() !== etag) return undefined;
  const ranges = parseRange(range, size);
  if (!ranges || ranges.length !== 1) return undefined;
  const [first, last] = ranges[0]!;
  let hit: Response | undefined;
  try {
    hit = await matchPart(keys.body, `bytes=${first}-${last}`);
  } catch (err) {
    console.warn("edge cache: match failed", err instanceof Error ? err.message : String(err));
    return undefined;
  }
  if (!hit || !(await trusted(hit, first, last, size, keys, waitUntil))) return undefined;
  const headers = cachedHeaders(hit);
  headers.set("Content-Length", String(last - first + 1));
  return new Response(fixedLength(hit.body!, last - first + 1), { status: 206, headers });
}

function matchPart(key: Request, range: string): Promise<Response | undefined> {
  return caches.default.match(new Request(key, { headers: { Range: range } }));
}

/**
 * Whether a ranged match is the part asked for of a stored body of exactly
 * `size` bytes. A stored 200 of another length (a store that kept part of a
 * failed write) is dropped.
 */
async function trusted(hit: Response, first: number, last: number, size: number, keys: { body: Request; done: Request }, waitUntil: WaitUntil): Promise<boolean> {
  const contentRange = hit.headers.get("Content-Range");
  if (hit.status === 206 && hit.body !== null && contentRange === `bytes ${first}-${last}/${size}`) return true;
  await hit.body?.cancel();
  if (hit.status === 206 || hit.status === 416) {
    console.warn(`edge cache: a cached body answered ${hit.status} ${contentRange ?? ""} for bytes ${first}-${last} of ${size}; entry dropped`);
    waitUntil(forget(keys));
  }
  return false;
}

function cachedHeaders(hit: Response): Headers {
  const headers = new Headers(hit.headers);
  for (const name of ADDED_BY_CACHE) headers.delete(name);
  return headers;
}

/**
 * Puts a complete response into the edge cache while it streams to the
 * client, and returns the client's copy. Only a GET's 200 with a known
 * length of at most `maxBytes` and a cacheable Cache-Control is
 * stored: never a 206, a 304, an error, a HEAD, or a stream of unknown
 * length (CARs, tar, generated listings: decided in docs/architecture.md).
 * The copy for the cache goes through `lockstepTee` (bounded memory) and
 * `cache.put` runs in `waitUntil`, so the response is not delayed. The
 * `done` marker is written only once the body is stored; a body that errors
 * or is cut short makes `cache.put` reject, and whatever part a store kept
 * is deleted: nothing partial is ever served.
 */
export function intoEdgeCache(req: GatewayRequest, request: Request, response: Response, waitUntil: WaitUntil, maxBytes = MAX_EDGE_CACHE_BYTES): Response {
  try {
    return storeWhileStreaming(req, request, response, waitUntil, maxBytes);
  } finally {
    startBody(response.body);
  }
}

function storeWhileStreaming(req: GatewayRequest, request: Request, response: Response, waitUntil: WaitUntil, maxBytes: number): Response {
  if (req.method !== "GET" || req.headers.has("Range") || response.status !== 200 || response.body === null) return response;
  const keys = edgeCacheKeys(req, request);
  if (!keys) return response;
  const length = Number(response.headers.get("Content-Length") ?? NaN);
  if (!Number.isSafeInteger(length) || length <= 0 || length > maxBytes) return response;
  const cacheControl = response.headers.get("Cache-Control") ?? "";
  if (/(^|,)\s*(no-store|private|no-cache)\b/i.test(cacheControl)) return response;

  // A body the handlers write block by block (files, ranges of blocks) gets a second copy written
  // alongside; any other cacheable body is one block already in memory, which the runtime tees natively.
  let client = response.body;
  let copy = copyBody(response.body, MAX_COPY_LAG);
  if (!copy) [client, copy] = response.body.tee();
  const marker: Record<string, string> = { "Cache-Control": cacheControl, [MARKER_LENGTH]: String(length) };
  const etag = response.headers.get("ETag");
  if (etag !== null) marker[MARKER_ETAG] = etag;
  const stored = caches.default
    .put(keys.body, new Response(copy, { status: 200, headers: response.headers }))
    .then(() => caches.default.put(keys.done, new Response(null, { headers: marker })))
    .catch(async (err: unknown) => {
      console.warn("edge cache: not stored:", err instanceof Error ? err.message : String(err));
      await forget(keys);
    });
  waitUntil(stored);
  return new Response(client, { status: 200, headers: response.headers });
}

/**
 * A known-length body: the runtime pipes it natively into a
 * FixedLengthStream (Content-Length on the wire; no JavaScript per chunk),
 * which errors the response rather than end it short if fewer bytes come.
 */
function fixedLength(body: ReadableStream<Uint8Array>, length: number): ReadableStream<Uint8Array> {
  const fixed = new FixedLengthStream(length);
  body.pipeTo(fixed.writable).catch(() => undefined);
  return fixed.readable;
}

async function forget(keys: { body: Request; done: Request }): Promise<void> {
  try {
    await caches.default.delete(keys.done);
    await caches.default.delete(keys.body);
  } catch (err) {
    console.warn("edge cache: delete failed", err instanceof Error ? err.message : String(err));
  }
}
