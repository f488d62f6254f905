import type { CID } from "multiformats/cid";
import { blockKey } from "../blocks/block";

/**
 * `HOT_WRITE_THROUGH` (docs/storage.md "Hot write-through"): whether the
 * verified blocks a request fetched from upstreams are also written to R2,
 * so that the next request for them — in any region — is answered from R2
 * instead of going upstream again.
 *
 * - `off` (default): never;
 * - `always`: every request;
 * - a number `n` ≥ 1: from the n-th request for the same root CID seen by
 *   this isolate (a cheap, local popularity signal: isolates are per colo,
 *   so content popular in one place gets written once it is hot there).
 *
 * Anything else is a configuration mistake and throws (a 500 naming the var).
 */
export type HotPolicy = { kind: "off" } | { kind: "always" } | { kind: "threshold"; requests: number };

export function parseHotPolicy(value: string | undefined): HotPolicy {
  const v = (value ?? "").trim().toLowerCase();
  if (v === "" || v === "off") return { kind: "off" };
  if (v === "always") return { kind: "always" };
  if (/^\d+$/.test(v) && Number(v) >= 1) return { kind: "threshold", requests: Number(v) };
  throw new Error(`HOT_WRITE_THROUGH must be off, always or a request count ≥ 1, not "${v.slice(0, 32)}"`);
}

/** Roots counted at most per isolate; the oldest counted root is forgotten first. */
const MAX_COUNTED_ROOTS = 10_000;
const counts = new Map<string, number>();

/**
 * Counts this request for `root` and says whether its blocks are written
 * through. Isolate-local, bounded, never awaits anything.
 */
export function isHot(policy: HotPolicy, root: CID): boolean {
  if (policy.kind === "off") return false;
  if (policy.kind === "always") return true;
  const key = blockKey(root.multihash.bytes);
  const seen = (counts.get(key) ?? 0) + 1;
  counts.delete(key);
  counts.set(key, seen);
  if (counts.size > MAX_COUNTED_ROOTS) counts.delete(counts.keys().next().value!);
  return seen >= policy.requests;
}

/** The per-response byte budget of write-through (`HOT_WRITE_THROUGH_MAX_BYTES`, default 32 MiB). */
export function hotMaxBytes(value: string | undefined): number {
  const n = Number(value);
  return Number.isSafeInteger(n) && n > 0 ? n : 32 * 1024 * 1024;
}

/**
 * How long blocks written through stay held for GC after their last write
 * (`HOT_CACHE_TTL_MS`, default 7 days): then GC deletes them after
 * `GC_GRACE_MS` unless a pin holds them (docs/storage.md "Hot write-through").
 */
export function hotCacheTtlMs(value: string | undefined): number {
  const n = Number(value);
  return value !== undefined && value.trim() !== "" && Number.isSafeInteger(n) && n >= 0 ? n : 7 * 86_400_000;
}
