/**
 * The isolate's matcher (docs/denylist.md, "Snapshot"): built from the
 * Denylist object's snapshot and re-checked at most every `maxAgeMs` (30 s).
 * Only an isolate's first request awaits the object; later ones use the
 * matcher they have while a re-check runs in the background (`waitUntil`).
 * A re-check costs one tiny RPC when nothing changed (`snapshot(since)`
 * answers `unchanged`). A change made through the admin API is thus
 * effective everywhere within `maxAgeMs` plus one request.
 */
import { denylistObject } from "./denylist-object";
import { DenylistMatcher } from "./matcher";
import type { DenylistSnapshot } from "./snapshot";

export const SNAPSHOT_MAX_AGE_MS = 30_000;

interface Current {
  matcher: DenylistMatcher;
  checkedAt: number;
}

let current: Current | undefined;
let inflight: Promise<Current> | undefined;

export interface MatcherOptions {
  /** Re-check the object when the snapshot is older than this (default 30 s). */
  maxAgeMs?: number;
  /**
   * `ctx.waitUntil` of the request: when given, a stale snapshot is used and
   * refreshed in the background; without it the re-check is awaited.
   */
  waitUntil?: (promise: Promise<unknown>) => void;
}

/**
 * The current matcher of this isolate.
 *
 * @example
 * const verdict = await (await denylistMatcher(env, { waitUntil: (p) => ctx.waitUntil(p) })).isDenied(cid, segments);
 * if (verdict) throw new HttpError(verdict.status === 451 ? "unavailable_for_legal_reasons" : "gone", "…");
 */
export async function denylistMatcher(env: Env, options: MatcherOptions = {}): Promise<DenylistMatcher> {
  const maxAge = options.maxAgeMs ?? SNAPSHOT_MAX_AGE_MS;
  if (!current) return (await refresh(env)).matcher;
  if (Date.now() - current.checkedAt >= maxAge) {
    const pending = refresh(env);
    if (options.waitUntil) {
      options.waitUntil(pending.catch((err) => console.error("denylist snapshot refresh failed", String(err))));
      return current.matcher;
    }
    return (await pending).matcher;
  }
  return current.matcher;
}

/** Forgets this isolate's snapshot (tests; a new isolate starts this way). */
export function resetDenylistMatcher(): void {
  current = undefined;
  inflight = undefined;
}

function refresh(env: Env): Promise<Current> {
  // One re-check at a time per isolate, shared by concurrent requests.
  inflight ??= (async () => {
    try {
      const answer = (await denylistObject(env).snapshot(current?.matcher.version ?? -1)) as
        | DenylistSnapshot
        | { version: number; unchanged: true };
      const matcher = "unchanged" in answer && current ? current.matcher : new DenylistMatcher(answer as DenylistSnapshot);
      current = { matcher, checkedAt: Date.now() };
      return current;
    } finally {
      inflight = undefined;
    }
  })();
  return inflight;
}
