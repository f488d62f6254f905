import { parseRange } from "../request/range";
import type { GatewayRequest } from "../request/gateway-request";
import { copyBody, startBody, tapBody } from "../handlers/body-stream";
import { ifNoneMatchHits, notModified } from "../handlers/etag";
import { edgeCacheKey, edgeCacheUrl } from "./cache-key";
import { CarCopy, isolateCarCopies, MAX_EDGE_CACHE_CAR_BYTES, type CopyBudget } from "./car-copy";

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

/**
 * Stored with each entry: the length its body must have. A store may keep
 * the part of a body it received before the stream failed (the local
 * simulator does, even though `put` rejects, and keeps the full
 * Content-Length header with it); the Cache API's `Content-Range` tells the
 * length it really holds, and an entry counts only when the two agree.
 */
const STORED_LENGTH = "X-Edge-Length";
/** Headers a 304 built from a cached response carries (what the handlers' own 304s carry). */
const NOT_MODIFIED_HEADERS = ["X-Ipfs-Path", "X-Ipfs-Roots", "Cache-Control", "Vary"];
/** Headers the Cache API adds to a match, or we store for ourselves; dropped so that a hit carries exactly what the miss carried. */
const NOT_SERVED = ["CF-Cache-Status", "Age", "Expires", "Date", "Content-Range", STORED_LENGTH];

type WaitUntil = (p: Promise<unknown>) => void;

/**
 * The edge cache's answer to a gateway request (docs/architecture.md "Edge
 * cache and the R2 tier"), or undefined on a miss or for a request the
 * cache does not serve (`edgeCacheKey`; `request` is what the /ipfs/ route
 * received). A hit is the stored 200 with the same headers;
 * `If-None-Match` matching its ETag is a 304; a HEAD gets the headers only;
 * a single `Range` is a 206 cut from the stored body by the Cache API,
 * except on a CAR: its handler ignores `Range` (`Accept-Ranges: none`,
 * handlers/car-stream.ts) and answers the whole 200, and so does a hit.
 *
 * One look-up per hit: the body is always asked for as a byte range
 * (`bytes=0-` for the whole), so the Cache API says in `Content-Range` how
 * many bytes it really holds, and an entry whose body is not exactly its
 * stored length is never trusted (dropped, and the request is a miss). The
 * body itself is the Cache API's own stream, returned as it is: its length
 * is known to the runtime (the part `Content-Range` names), which sends it
 * as `Content-Length`, and no JavaScript stage (not even a piped
 * FixedLengthStream, which cost ~1 ms of CPU per hit under load:
 * docs/benchmarks.md figure 8) runs per chunk or per request. The Cache API
 * failing is a miss, never an error.
 */
export async function fromEdgeCache(req: GatewayRequest, request: Request, waitUntil: WaitUntil): Promise<Response | undefined> {
  const key = edgeCacheUrl(req, request);
  if (key === undefined) return undefined;
  // A CAR's handler ignores Range and If-Range and sends the whole CAR; a hit does the same.
  const range = req.format.kind === "car" ? null : req.headers.get("Range");
  let ask = "bytes=0-";
  if (range !== null) {
    // Only a GET of a single range (and no If-None-Match, which the handlers answer first) is cut from the cache.
    const single = singleRange(range);
    if (req.method !== "GET" || req.headers.has("If-None-Match") || single === undefined) return undefined;
    ask = single;
  }
  let hit: Response | undefined;
  try {
    hit = await caches.default.match(new Request(key, { headers: { Range: ask } }));
  } catch (err) {
    console.warn("edge cache: match failed", err instanceof Error ? err.message : String(err));
    return undefined;
  }
  if (!hit) return undefined;
  const size = Number(hit.headers.get(STORED_LENGTH) ?? NaN);
  const part = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(hit.headers.get("Content-Range") ?? "");
  if (hit.status !== 206 || hit.body === null || !part || !Number.isSafeInteger(size) || Number(part[3]) !== size) {
    await hit.body?.cancel();
    if (hit.status === 206 || hit.status === 416) {
      console.warn(`edge cache: an entry holds ${part?.[3] ?? "an unknown number of"} bytes, not its ${size}; dropped`);
      waitUntil(forget(key));
    }
    return undefined;
  }
  const [first, last] = [Number(part[1]), Number(part[2])];
  const headers = new Headers(hit.headers);
  for (const name of NOT_SERVED) headers.delete(name);

  if (range !== null) return servedRange(req, hit.body, headers, range, size, first, last);
  headers.set("Content-Length", String(size));
  const etag = headers.get("ETag");
  if (etag !== null && ifNoneMatchHits(req.headers.get("If-None-Match"), etag)) {
    await hit.body.cancel();
    const kept = new Headers();
    for (const name of NOT_MODIFIED_HEADERS) {
      const value = headers.get(name);
      if (value !== null) kept.set(name, value);
    }
    return notModified(etag, kept);
  }
  if (req.method === "HEAD") {
    await hit.body.cancel();
    return new Response(null, { status: 200, headers });
  }
  return new Response(hit.body, { status: 200, headers });
}

/** A `Range` header of exactly one range spec, normalised (`bytes=a-b`, `bytes=a-`, `bytes=-n`), else undefined. */
function singleRange(header: string): string | undefined {
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m || (m[1] === "" && m[2] === "")) return undefined;
  return `bytes=${m[1]}-${m[2]}`;
}

/**
 * The 206 the handlers would send for this range of the cached 200 (the
 * stored headers with `Content-Range` and the part's `Content-Length`),
 * when the range means the same to them (rules of request/range.ts, an
 * `If-Range` equal to the ETag); anything else is left to the handlers.
 */
async function servedRange(
  req: GatewayRequest,
  body: ReadableStream<Uint8Array>,
  headers: Headers,
  range: string,
  size: number,
  first: number,
  last: number,
): Promise<Response | undefined> {
  const ifRange = req.headers.get("If-Range");
  let ranges: ReturnType<typeof parseRange>;
  try {
    ranges = parseRange(range, size);
  } catch {
    ranges = undefined; // unsatisfiable: the handlers' 416
  }
  const same = ranges?.length === 1 && ranges[0]![0] === first && ranges[0]![1] === last;
  if (!same || (ifRange !== null && ifRange.trim() !== headers.get("ETag"))) {
    await body.cancel();
    return undefined;
  }
  headers.set("Content-Range", `bytes ${first}-${last}/${size}`);
  headers.set("Content-Length", String(last - first + 1));
  return new Response(body, { status: 206, headers });
}

/**
 * Puts a complete response into the edge cache while it streams to the
 * client, and returns the client's copy (and starts a `pullBody` body: see
 * handlers/body-stream.ts). Only a GET's 200 without `Range`, with a known
 * length of 1 to `maxBytes` bytes and a cacheable Cache-Control is stored:
 * never a 206, a 304, an error, a HEAD, or a stream of unknown length
 * (tar, generated listings: decided in docs/architecture.md), except a CAR
 * (`storeCar`: kept in memory up to `carMaxBytes`).
 * A body the handlers write block by block gets a second copy written
 * alongside, which never paces the client (it is given up if it falls
 * MAX_COPY_LAG blocks behind); `cache.put` runs in `waitUntil`, so the
 * response is not delayed. A body that errors or is cut short makes
 * `cache.put` reject, and whatever part a store kept is deleted (and would
 * not be trusted anyway: STORED_LENGTH).
 */
export function intoEdgeCache(
  req: GatewayRequest,
  request: Request,
  response: Response,
  waitUntil: WaitUntil,
  maxBytes = MAX_EDGE_CACHE_BYTES,
  carMaxBytes = MAX_EDGE_CACHE_CAR_BYTES,
): Response {
  try {
    if (req.format.kind === "car") return storeCar(req, request, response, waitUntil, Math.min(carMaxBytes, maxBytes), isolateCarCopies);
    return storeWhileStreaming(req, request, response, waitUntil, maxBytes);
  } finally {
    startBody(response.body);
  }
}

function storeWhileStreaming(req: GatewayRequest, request: Request, response: Response, waitUntil: WaitUntil, maxBytes: number): Response {
  if (req.method !== "GET" || req.headers.has("Range") || response.status !== 200 || response.body === null) return response;
  const key = edgeCacheKey(req, request);
  if (!key) return response;
  const length = Number(response.headers.get("Content-Length") ?? NaN);
  if (!Number.isSafeInteger(length) || length <= 0 || length > maxBytes) return response;
  const cacheControl = response.headers.get("Cache-Control") ?? "";
  if (/(^|,)\s*(no-store|private|no-cache)\b/i.test(cacheControl)) return response;

  // A body the handlers write block by block gets a second copy written alongside; any other
  // cacheable body is one block already in memory, which the runtime tees natively.
  let client = response.body;
  let copy = copyBody(response.body, MAX_COPY_LAG);
  if (!copy) [client, copy] = response.body.tee();
  const stored = new Headers(response.headers);
  stored.set(STORED_LENGTH, String(length));
  waitUntil(
    caches.default.put(key, new Response(copy, { status: 200, headers: stored })).catch(async (err: unknown) => {
      console.warn("edge cache: not stored:", err instanceof Error ? err.message : String(err));
      await forget(key);
    }),
  );
  return new Response(client, { status: 200, headers: response.headers });
}

/**
 * A CAR's copy for the edge cache (docs/architecture.md "Edge cache and
 * the R2 tier"). A CAR for the same path, dag-scope, entity-bytes, dups and
 * order is the same bytes every time (trustless-gateway.md: such responses
 * are `immutable`), but its length is known only at its end: the copy is
 * taken in memory as the CAR is written (car-copy.ts, at most `maxBytes`,
 * within the isolate's `budget`), and only a CAR whose body ended normally
 * is put, with its `Content-Length` and STORED_LENGTH, in `waitUntil`. An
 * aborted, errored or cut body never is. The handler ignores `Range` on a
 * CAR (the whole 200 is sent), so a request with `Range` is stored too.
 */
function storeCar(req: GatewayRequest, request: Request, response: Response, waitUntil: WaitUntil, maxBytes: number, budget: CopyBudget): Response {
  if (req.method !== "GET" || response.status !== 200 || response.body === null || maxBytes <= 0) return response;
  const key = edgeCacheKey(req, request);
  if (!key) return response;
  const cacheControl = response.headers.get("Cache-Control") ?? "";
  if (/(^|,)\s*(no-store|private|no-cache)\b/i.test(cacheControl)) return response;
  const headers = new Headers(response.headers);
  const copy = new CarCopy(maxBytes, budget, (chunks, length) => {
    headers.set("Content-Length", String(length));
    headers.set(STORED_LENGTH, String(length));
    return caches.default.put(key, new Response(chunksBody(chunks, length), { status: 200, headers })).catch(async (err: unknown) => {
      await forget(key);
      throw err;
    });
  });
  if (tapBody(response.body, copy)) waitUntil(copy.settled);
  return response;
}

/**
 * `chunks` as a body of `length` bytes (a FixedLengthStream, so the Cache
 * API sees its length), each chunk let go once the store took it: memory
 * shrinks as the put proceeds, never a second whole copy.
 */
function chunksBody(chunks: Uint8Array[], length: number): ReadableStream<Uint8Array> {
  const { readable, writable } = new FixedLengthStream(length);
  const writer = writable.getWriter();
  void (async () => {
    for (let chunk = chunks.shift(); chunk !== undefined; chunk = chunks.shift()) await writer.write(chunk);
    await writer.close();
  })().catch((err: unknown) => writer.abort(err).catch(() => undefined));
  return readable;
}

async function forget(key: Request | string): Promise<void> {
  try {
    await caches.default.delete(key);
  } catch (err) {
    console.warn("edge cache: delete failed", err instanceof Error ? err.message : String(err));
  }
}
