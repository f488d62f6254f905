/**
 * The isolate-local copy of all denylists (docs/denylist.md, "Snapshot"):
 * what the Denylist object hands to isolates, and the 8-byte key search the
 * request path runs on it.
 */
import type { DenyStatus } from "./rule";

export interface SnapshotList {
  /** The list's URL, or `operator` for entries added through the admin API. */
  id: string;
  /** Status of the list's plain `//` entries (its `gateway_status` hint, default 410). */
  status: DenyStatus;
  /**
   * The first 8 bytes of every plain `//` digest of the list, as big-endian
   * uint32 pairs `[hi0, lo0, hi1, lo1, …]`, sorted. 8 bytes of a sha256 give
   * a false-positive chance of n / 2^64 per lookup (≈ 4·10⁻¹⁴ for a million
   * entries); the full 32 bytes stay in the object (`Denylist.has`).
   */
  keys: Uint32Array;
}

export interface SnapshotRule {
  /** Index into `DenylistSnapshot.lists`; later lists override earlier ones. */
  list: number;
  /** Line in its list (operator entries: their id); later lines override earlier ones. */
  line: number;
  /** The rule without hints, as `parseRule` accepts it. */
  text: string;
  /** A per-item status, or null for the list's. */
  status: DenyStatus | null;
}

export interface DenylistSnapshot {
  /** Changes whenever any list or operator entry changes. */
  version: number;
  lists: SnapshotList[];
  /** Every rule that is not a plain `//` entry, by list then line. */
  rules: SnapshotRule[];
}

/** Whether the sorted pair array holds (hi, lo). */
export function hasKey(keys: Uint32Array, hi: number, lo: number): boolean {
  let low = 0;
  let high = keys.length / 2 - 1;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    const h = keys[mid * 2]!;
    const l = keys[mid * 2 + 1]!;
    if (h === hi && l === lo) return true;
    if (h < hi || (h === hi && l < lo)) low = mid + 1;
    else high = mid - 1;
  }
  return false;
}
