import { HttpError } from "../http/errors";
import { parseIpnsName, type IpnsName } from "./name";
import { IPNS_RECORD_CONTENT_TYPE, IpnsRecordError } from "./record";
import { askRouter, parseRouters } from "./routers";
import { TtlCache } from "./ttl-cache";
import { verifyIpnsRecord, type VerifiedIpnsRecord } from "./verify";

export interface ResolvedIpns extends VerifiedIpnsRecord {
  /** Canonical name (base36 CIDv1 libp2p-key). */
  readonly name: string;
  /** The verified record exactly as a router served it (`?format=ipns-record`). */
  readonly record: Uint8Array;
  /** Seconds a response may still be cached: what is left of min(TTL, validity). Feeds `Cache-Control: max-age`. */
  readonly maxAgeSeconds: number;
  readonly source: "memory" | "edge-cache" | "routers";
}

export interface ResolveIpnsOptions {
  /** Aborts the whole resolution (e.g. the client went away). */
  signal?: AbortSignal;
  /** Per-resolution deadline for the routers, ms (default 10 000). */
  routerTimeoutMs?: number;
  /** After the first valid record, how long the other routers may still answer with a higher sequence, ms (default 200). */
  graceMs?: number;
  /** Isolate cache (default: one per isolate). */
  memory?: TtlCache<CachedIpns>;
  /** Shared edge cache; null disables it (default `caches.default`). */
  edgeCache?: Cache | null;
  /** Where to park the edge-cache write (default: awaited). */
  waitUntil?: (promise: Promise<unknown>) => void;
}

export interface CachedIpns {
  readonly record: Uint8Array;
  readonly verified: VerifiedIpnsRecord;
  /** ms epoch: fetch time + TTL, or the end of validity if sooner. */
  readonly freshUntil: number;
}

/**
 * Our caches keep a record at most a day even when its TTL says more (the
 * fixtures say 100 years): the TTL still drives `Cache-Control`, but a
 * republished record reaches this gateway within a day.
 */
const MAX_CACHE_MS = 86_400_000;
const DEFAULT_ROUTER_TIMEOUT_MS = 10_000;
const DEFAULT_GRACE_MS = 200;
const defaultMemory = new TtlCache<CachedIpns>(1000);
/** Synthetic Cache API key space; never fetched. */
const EDGE_KEY_PREFIX = "https://ipns-record.cache.invalid/";

type Outcome =
  | { kind: "valid"; bytes: Uint8Array; verified: VerifiedIpnsRecord }
  | { kind: "not_found" }
  | { kind: "failed"; reason: string }
  | { kind: "rejected"; error: IpnsRecordError };

/**
 * Resolves an IPNS name to its current value: isolate cache, then the Cache
 * API, then every router in `ROUTERS` at once (routing v1 spec
 * `GET /routing/v1/ipns/{name}`). Every record is verified (verify.ts); the
 * valid one with the highest sequence wins (IPNS spec "Protocol": records are
 * compared by sequence), ties broken by the later validity.
 *
 * @throws HttpError 400 bad name; 404 when every router says it has no
 *   record; 502 when records were rejected (message says why) or routers failed
 */
export async function resolveIpns(
  env: Pick<Env, "ROUTERS">,
  name: string | IpnsName,
  opts: ResolveIpnsOptions = {},
): Promise<ResolvedIpns> {
  const parsed = typeof name === "string" ? parseIpnsName(name) : name;
  const memory = opts.memory ?? defaultMemory;
  const edge = opts.edgeCache === undefined ? caches.default : opts.edgeCache;
  const now = Date.now();

  const hit = memory.get(parsed.name, now);
  if (hit !== undefined) return result(parsed.name, hit.value, now, "memory");

  if (edge !== null) {
    const cached = await readEdge(edge, parsed, now);
    if (cached !== undefined) {
      memory.set(parsed.name, cached, Math.min(cached.freshUntil, now + MAX_CACHE_MS), now);
      return result(parsed.name, cached, now, "edge-cache");
    }
  }

  const outcomes = await askRouters(parseRouters(env.ROUTERS), parsed, opts);
  const best = outcomes
    .filter((o): o is Extract<Outcome, { kind: "valid" }> => o.kind === "valid")
    .sort(
      (a, b) =>
        Number(b.verified.sequence - a.verified.sequence) ||
        b.verified.validity.getTime() - a.verified.validity.getTime(),
    )[0];
  if (best === undefined) throw failure(parsed.name, outcomes);

  const fetchedAt = Date.now();
  const entry: CachedIpns = {
    record: best.bytes,
    verified: best.verified,
    freshUntil: Math.min(fetchedAt + best.verified.ttlSeconds * 1000, best.verified.validity.getTime()),
  };
  const cacheUntil = Math.min(entry.freshUntil, fetchedAt + MAX_CACHE_MS);
  memory.set(parsed.name, entry, cacheUntil, fetchedAt);
  if (edge !== null) {
    const write = writeEdge(edge, parsed.name, entry, cacheUntil, fetchedAt);
    if (opts.waitUntil) opts.waitUntil(write);
    else await write;
  }
  return result(parsed.name, entry, fetchedAt, "routers");
}

function result(name: string, entry: CachedIpns, now: number, source: ResolvedIpns["source"]): ResolvedIpns {
  return {
    ...entry.verified,
    name,
    record: entry.record,
    maxAgeSeconds: Math.max(0, Math.floor((entry.freshUntil - now) / 1000)),
    source,
  };
}

/** All routers at once; returns once all answered, or `graceMs` after the first valid record, or at the deadline. */
async function askRouters(routers: string[], name: IpnsName, opts: ResolveIpnsOptions): Promise<Outcome[]> {
  if (routers.length === 0) throw new HttpError("bad_gateway", "no delegated routers configured (ROUTERS is empty)");
  opts.signal?.throwIfAborted();
  const controller = new AbortController();
  const abort = () => controller.abort();
  opts.signal?.addEventListener("abort", abort);
  const deadline = setTimeout(abort, opts.routerTimeoutMs ?? DEFAULT_ROUTER_TIMEOUT_MS);

  const outcomes: Outcome[] = routers.map(() => ({ kind: "failed", reason: "timed out" }));
  let sawValid!: () => void;
  const firstValid = new Promise<void>((resolve) => (sawValid = resolve));
  const tasks = routers.map(async (base, i) => {
    const answer = await askRouter(base, name.name, controller.signal);
    if (answer.kind !== "record") {
      outcomes[i] = answer;
      return;
    }
    try {
      outcomes[i] = { kind: "valid", bytes: answer.bytes, verified: await verifyIpnsRecord(answer.bytes, name) };
      sawValid();
    } catch (err) {
      if (err instanceof IpnsRecordError) {
        outcomes[i] = { kind: "rejected", error: err };
      } else {
        // Our bug, not the router's: logged, and this router's answer is lost (a task must not
        // reject after the race may already be over).
        console.error("IPNS verification crashed", err instanceof Error ? (err.stack ?? err.message) : String(err));
        outcomes[i] = { kind: "failed", reason: "internal error verifying the record" };
      }
    }
  });
  const all = Promise.all(tasks);
  try {
    await Promise.race([all, firstValid.then(() => sleep(opts.graceMs ?? DEFAULT_GRACE_MS))]);
  } finally {
    clearTimeout(deadline);
    opts.signal?.removeEventListener("abort", abort);
    controller.abort(); // routers still talking lost the race
  }
  opts.signal?.throwIfAborted();
  return outcomes.slice();
}

function failure(name: string, outcomes: Outcome[]): HttpError {
  const rejected = outcomes.filter((o) => o.kind === "rejected");
  if (rejected.length > 0) {
    const reasons = [...new Set(rejected.map((o) => o.error.reason))].join("; ");
    return new HttpError("bad_gateway", `IPNS record for ${name} rejected: ${reasons}`);
  }
  if (outcomes.every((o) => o.kind === "not_found")) {
    return new HttpError("not_found", `no IPNS record found for ${name}`);
  }
  const reasons = outcomes
    .map((o, i) => `router ${i + 1}: ${o.kind === "failed" ? o.reason : "no record"}`)
    .join("; ");
  return new HttpError("bad_gateway", `could not fetch the IPNS record for ${name} (${reasons})`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function readEdge(edge: Cache, name: IpnsName, now: number): Promise<CachedIpns | undefined> {
  const key = EDGE_KEY_PREFIX + name.name;
  const response = await edge.match(key);
  if (response === undefined) return undefined;
  const freshUntil = Number(response.headers.get("X-Fresh-Until"));
  if (!(freshUntil > now)) {
    await response.body?.cancel();
    return undefined;
  }
  const record = new Uint8Array(await response.arrayBuffer());
  try {
    // Re-verified on the way out: the entry may have outlived its validity.
    const verified = await verifyIpnsRecord(record, name, now);
    return { record, verified, freshUntil };
  } catch {
    await edge.delete(key);
    return undefined;
  }
}

async function writeEdge(edge: Cache, name: string, entry: CachedIpns, cacheUntil: number, now: number): Promise<void> {
  const seconds = Math.floor((cacheUntil - now) / 1000);
  if (seconds <= 0) return;
  const response = new Response(entry.record, {
    headers: {
      "Content-Type": IPNS_RECORD_CONTENT_TYPE,
      "Cache-Control": `max-age=${seconds}`,
      "X-Fresh-Until": String(entry.freshUntil),
    },
  });
  await edge.put(EDGE_KEY_PREFIX + name, response);
}
