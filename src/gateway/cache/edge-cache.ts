import type { GatewayRequest } from "../request/gateway-request";
import { ifNoneMatchHits, notModified } from "../handlers/etag";
import { edgeCacheKeys } from "./cache-key";
import { lockstepTee } from "./lockstep-tee";

/** Larger responses are never put in the edge cache (the Cache API's object size limit). */
export const MAX_EDGE_CACHE_BYTES = 512 * 1024 * 1024;

/** Headers a 304 built from a cached response carries (what the handlers' own 304s carry). */
const NOT_MODIFIED_HEADERS = ["X-Ipfs-Path", "X-Ipfs-Roots", "Cache-Control", "Vary"];
/** Headers the Cache API adds to a match; dropped so that a hit carries exactly what the miss carried (handlers set none of them). */
const ADDED_BY_CACHE = ["CF-Cache-Status", "Age", "Expires", "Date"];

type WaitUntil = (p: Promise<unknown>) => void;

/**
 * The edge cache's answer to a gateway request (docs/architecture.md "Edge
 * cache and the R2 tier"), or undefined on a miss or for a request the
 * cache does not serve (`edgeCacheKeys`; `request` is what the /ipfs/ route
 * received). A hit is the stored 200 with the same headers;
 * `If-None-Match` matching its ETag is a 304; a HEAD gets the headers only.
 * An entry counts only with its `done` marker (cache-key.ts). The Cache API
 * failing is a miss, never an error.
 */
export async function fromEdgeCache(req: GatewayRequest, request: Request, waitUntil: WaitUntil): Promise<Response | undefined> {
  const keys = edgeCacheKeys(req, request);
  if (!keys) return undefined;
  let hit: Response | undefined;
  try {
    const done = await caches.default.match(keys.done);
    if (!done) return undefined;
    await done.body?.cancel();
    hit = await caches.default.match(keys.body);
  } catch (err) {
    console.warn("edge cache: match failed", err instanceof Error ? err.message : String(err));
    return undefined;
  }
  if (!hit) return undefined;
  const length = Number(hit.headers.get("Content-Length") ?? NaN);
  if (hit.status !== 200 || hit.body === null || !Number.isSafeInteger(length)) {
    await hit.body?.cancel();
    return undefined;
  }
  const headers = new Headers(hit.headers);
  for (const name of ADDED_BY_CACHE) headers.delete(name);
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
  return new Response(checkedLength(hit.body, length, () => waitUntil(forget(keys))), { status: 200, headers });
}

/**
 * Puts a complete response into the edge cache while it streams to the
 * client, and returns the client's copy. Only a GET's 200 with a known
 * length of at most MAX_EDGE_CACHE_BYTES and a cacheable Cache-Control is
 * stored: never a 206, a 304, an error, a HEAD, or a stream of unknown
 * length (CARs, tar, generated listings: decided in docs/architecture.md).
 * The copy for the cache goes through `lockstepTee` (bounded memory) and
 * `cache.put` runs in `waitUntil`, so the response is not delayed. The
 * `done` marker is written only once the body is stored; a body that errors
 * or is cut short makes `cache.put` reject, and whatever part a store kept
 * is deleted: nothing partial is ever served.
 */
export function intoEdgeCache(req: GatewayRequest, request: Request, response: Response, waitUntil: WaitUntil): Response {
  if (req.method !== "GET" || response.status !== 200 || response.body === null) return response;
  const keys = edgeCacheKeys(req, request);
  if (!keys) return response;
  const length = Number(response.headers.get("Content-Length") ?? NaN);
  if (!Number.isSafeInteger(length) || length < 0 || length > MAX_EDGE_CACHE_BYTES) return response;
  const cacheControl = response.headers.get("Cache-Control") ?? "";
  if (/(^|,)\s*(no-store|private|no-cache)\b/i.test(cacheControl)) return response;

  const [client, copy] = lockstepTee(response.body);
  const stored = caches.default
    .put(keys.body, new Response(fixedLength(copy, length), { status: 200, headers: response.headers }))
    .then(() => caches.default.put(keys.done, new Response(null, { headers: { "Cache-Control": cacheControl } })))
    .catch(async (err: unknown) => {
      console.warn("edge cache: not stored:", err instanceof Error ? err.message : String(err));
      await forget(keys);
    });
  waitUntil(stored);
  return new Response(fixedLength(client, length), { status: 200, headers: response.headers });
}

/** A known-length body (Workers send Content-Length only for fixed-length streams; see handlers/body-stream.ts). */
function fixedLength(body: ReadableStream<Uint8Array>, length: number): ReadableStream<Uint8Array> {
  const fixed = new FixedLengthStream(length);
  body.pipeTo(fixed.writable).catch(() => undefined);
  return fixed.readable;
}

/**
 * The cached body, errored (never ended short) if it holds fewer or more
 * bytes than its Content-Length; `onBad` then drops the entry. A last line
 * of defence: the `done` marker already keeps failed writes out.
 */
function checkedLength(body: ReadableStream<Uint8Array>, length: number, onBad: () => void): ReadableStream<Uint8Array> {
  let seen = 0;
  const counted = body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        controller.enqueue(chunk);
      },
      // Runs only when the stored body ended by itself (not when the client went away).
      flush() {
        if (seen === length) return;
        console.warn(`edge cache: a cached body held ${seen} bytes, not its Content-Length ${length}; entry dropped`);
        onBad();
        throw new Error("cached body shorter or longer than its Content-Length");
      },
    }),
  );
  return fixedLength(counted, length);
}

async function forget(keys: { body: Request; done: Request }): Promise<void> {
  try {
    await caches.default.delete(keys.done);
    await caches.default.delete(keys.body);
  } catch (err) {
    console.warn("edge cache: delete failed", err instanceof Error ? err.message : String(err));
  }
}
