/**
 * Where a CID is (docs/dashboard.md "Content"): pinned by which accounts, its
 * root block in R2, path-gateway answers in the edge cache, HTTP providers
 * through IPNI, and a verified fetch through the gateway itself.
 */
import type { CID } from "multiformats/cid";
import { R2BlockStore } from "../backends/r2-block-store";
import { registryStub } from "../durable-objects/pin-registry";
import { edgeCacheKey } from "../gateway/cache/cache-key";
import { findProviders, type ProviderAnswer } from "../gateway/providers/find-providers";
import { parseGatewayRequest } from "../gateway/request/gateway-request";
import { PIN_STATES, type PinRecord } from "../pinning/pin-types";

/** The fetch test reads at most this much of the CAR, then stops (bounded time and memory). */
export const FETCH_TEST_MAX_BYTES = 16 * 1024 * 1024;
/** And gives up after this long. */
export const FETCH_TEST_TIMEOUT_MS = 30_000;

export interface PinHit {
  account: string;
  pin: PinRecord;
}

/** Pins of `cid` (any CID version) in the given accounts, at most 10 per account. */
export async function pinsOf(env: Env, accounts: string[], cid: CID): Promise<PinHit[]> {
  const root = cid.toV1().toString();
  const lists = await Promise.all(
    accounts.map(async (account) => {
      const list = await registryStub(env, account).listPins({ cids: [root], match: "exact", status: [...PIN_STATES], limit: 10 });
      return list.results.map((pin) => ({ account, pin }));
    }),
  );
  return lists.flat();
}

/** Size of the root block in R2, or null when it is not there. */
export async function rootInR2(env: Env, cid: CID): Promise<number | null> {
  return (await new R2BlockStore(env.BLOCKS).sizeOf(cid)) ?? null;
}

export interface EdgeCacheEntry {
  /** The request whose cached answer was looked up. */
  request: string;
  cached: boolean;
}

/**
 * Whether the edge cache of this location holds complete answers for the
 * two common path-gateway requests of `cid` at `origin` (the deserialized
 * file and the raw block), looked up by the gateway's own keys
 * (cache/cache-key.ts; an entry counts with its `done` marker). Other
 * requests (paths, other formats, subdomain hosts) have keys of their own.
 */
export async function edgeCacheEntries(origin: string, cid: CID): Promise<EdgeCacheEntry[]> {
  const paths = [`/ipfs/${cid}`, `/ipfs/${cid}?format=raw`];
  return Promise.all(
    paths.map(async (path) => {
      const request = new Request(origin + path);
      const key = edgeCacheKey(parseGatewayRequest(request), request);
      let cached = false;
      if (key !== undefined) {
        try {
          // One entry per answer (cache-key.ts, v2 keys); its body is not needed here.
          const hit = await caches.default.match(key);
          await hit?.body?.cancel();
          cached = hit !== undefined;
        } catch {
          cached = false;
        }
      }
      return { request: path, cached };
    }),
  );
}

export function providersOf(env: Env, cid: CID, origin: string, waitUntil: (p: Promise<unknown>) => void): Promise<ProviderAnswer> {
  return findProviders(env, cid, { cacheOrigin: origin, waitUntil });
}

export interface FetchTest {
  request: string;
  status: number;
  /** ms from sending the request to the response headers. */
  headersMs: number;
  /** ms to the first body byte (null: no body byte arrived). */
  ttfbMs: number | null;
  totalMs: number;
  bytes: number;
  /** ended: the CAR arrived whole (every block verified by the gateway); capped: stopped at FETCH_TEST_MAX_BYTES; failed: the stream broke. */
  end: "ended" | "capped" | "failed";
  error: string | null;
}

/**
 * Fetches `cid` as a CAR (`dag-scope=all`) through the gateway's own routes
 * (edge cache, R2, racing upstreams, every block hash-checked: a stream that
 * breaks is a block that did not verify or an upstream that failed) and
 * times it.
 */
export async function verifiedFetchTest(dispatch: (r: Request) => Promise<Response>, origin: string, cid: CID): Promise<FetchTest> {
  const path = `/ipfs/${cid}?format=car&dag-scope=all`;
  const signal = AbortSignal.timeout(FETCH_TEST_TIMEOUT_MS);
  const started = performance.now();
  const now = () => Math.round(performance.now() - started);
  const response = await dispatch(new Request(origin + path, { headers: { Accept: "application/vnd.ipld.car" }, signal }));
  const headersMs = now();
  const result: FetchTest = { request: path, status: response.status, headersMs, ttfbMs: null, totalMs: headersMs, bytes: 0, end: "ended", error: null };
  if (response.status !== 200 || response.body === null) {
    result.error = (await response.text()).trim().slice(0, 300) || null;
    result.end = "failed";
    result.totalMs = now();
    return result;
  }
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (result.ttfbMs === null) result.ttfbMs = now();
      result.bytes += value.byteLength;
      if (result.bytes >= FETCH_TEST_MAX_BYTES) {
        result.end = "capped";
        await reader.cancel();
        break;
      }
    }
  } catch (err) {
    result.end = "failed";
    result.error = err instanceof Error ? err.message : String(err);
  }
  result.totalMs = now();
  return result;
}
