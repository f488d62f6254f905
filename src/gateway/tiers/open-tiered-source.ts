import { R2BlockStore } from "../../backends/r2-block-store";
import { BufferPool } from "../blocks/buffer-pool";
import { SECTION_PREFIX_ROOM } from "../car/car-encoder";
import { onlyIfCached } from "../cache/only-if-cached";
import { RAW } from "../dag/codecs";
import { findProviders } from "../providers/find-providers";
import { openProviderSession } from "../providers/provider-session";
import type { GatewayRequest } from "../request/gateway-request";
import { gatewayConfig } from "../gateway-config";
import { openSession } from "../upstream/open-session";
import { hotCacheTtlMs, hotMaxBytes, isHot, parseHotPolicy } from "./hot-policy";
import { holdBlocksUntil, hotHolder } from "../../pinning/block-refs";
import type { CID } from "multiformats/cid";
import { TieredBlockSource, type WholeDag } from "./tiered-block-source";
import { WriteThrough } from "./write-through";
import { holdersOf } from "./holder-lookup";

/**
 * The block source of one gateway request: R2 first, then the configured
 * upstreams, then IPNI providers (tiered-block-source.ts), with hot
 * write-through when `HOT_WRITE_THROUGH` says so. Same shape as
 * `openSession`: call `finish()` once the response is done (or failed).
 *
 * @example
 * const { session, finish } = openTieredSource(c.env, (p) => c.executionCtx.waitUntil(p), c.req.raw, req);
 */
export function openTieredSource(
  env: Env,
  waitUntil: (p: Promise<unknown>) => void,
  request: Request,
  req: GatewayRequest,
  /** Called once when the response is done (metrics: src/metrics/request-metrics.ts). */
  onFinish?: (source: TieredBlockSource) => void,
) {
  const store = new R2BlockStore(env.BLOCKS);
  const cachedOnly = onlyIfCached(req.headers);
  const hot = !cachedOnly && isHot(parseHotPolicy(env.HOT_WRITE_THROUGH), req.path.root);
  // A CAR response and a file body write each block out and keep nothing, so their raw leaves can
  // reuse buffers; write-through keeps blocks until they are in R2, so not then.
  const pooled = req.format.kind === "car" || req.format.kind === "default" || req.format.kind === "html";
  // A CAR writes each section's prefix into the bytes before its block: one write per block (car-stream.ts).
  const pool = pooled && !hot ? new BufferPool(undefined, req.format.kind === "car" ? SECTION_PREFIX_ROOM : 0) : undefined;
  const session = new TieredBlockSource({
    store,
    root: req.path.root,
    onlyIfCached: cachedOnly,
    openUpstream: (preferred) => openSession(env, waitUntil, { request, pool, preferred }),
    // Providers holding a copy of the root (Filecoin...): one R2 read per root per isolate, beside the root block's.
    holders: () => holdersOf(env.BLOCKS, req.path.root),
    openProviders: async (root) => {
      const answer = await findProviders(env, root, { cacheOrigin: new URL(request.url).origin, waitUntil });
      const configured = gatewayConfig(env).upstreams;
      const bases = answer.providers.map((p) => p.url).filter((u) => !configured.includes(u));
      return bases.length === 0 ? undefined : openProviderSession(env, waitUntil, request, bases);
    },
    writeThrough: hot ? hotWriteThrough(env, store, waitUntil, req.path.root) : undefined,
    wholeDag: wholeDag(req),
    waitUntil,
  });
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    session.finish();
    onFinish?.(session);
  };
  return { session, finish, pool };
}

/**
 * Hot write-through of one response: its blocks are held under the root's
 * hot holder until `HOT_CACHE_TTL_MS` after this write (docs/storage.md
 * "Hot write-through"), then GC may collect them unless a pin holds them.
 */
function hotWriteThrough(env: Env, store: R2BlockStore, waitUntil: (p: Promise<unknown>) => void, root: CID): WriteThrough {
  const holder = hotHolder(root);
  const expires = Date.now() + hotCacheTtlMs(env.HOT_CACHE_TTL_MS);
  return new WriteThrough(store, waitUntil, hotMaxBytes(env.HOT_WRITE_THROUGH_MAX_BYTES), (cids) => holdBlocksUntil(env, holder, cids, expires));
}

/**
 * Whether this request, when it completes, has read every block of the DAG
 * under its root (then hot write-through may write the root, marking the
 * DAG as present in R2): a GET without path, Range or If-None-Match that is
 * a CAR of the whole DAG, any request for a single-block (raw) root, or a
 * deserialized GET that turns out to be a UnixFS file (its bytes are the
 * whole DAG).
 */
export function wholeDag(req: GatewayRequest): WholeDag {
  const h = req.headers;
  if (req.method !== "GET" || req.path.segments.length > 0 || h.has("Range") || h.has("If-None-Match")) return "no";
  if (req.path.root.code === RAW) return "yes";
  if (req.format.kind === "car") return req.scope === "all" && !req.entityBytes ? "yes" : "no";
  if (req.format.kind === "default" || req.format.kind === "html") return "if-unixfs-file";
  return "no";
}
