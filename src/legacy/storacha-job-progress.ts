import type { PinState } from "../pinning/pin-types";

/**
 * A Storacha migration job's progress (`GET /api/v1/migrate/{id}`,
 * docs/storacha.md), types only: the StorachaImport object and the
 * `ipfs-kit migrate storacha` command (src/cli, built for Node) share it,
 * so this module imports nothing of the Workers runtime.
 */
export type StorachaJobProgress = {
  id: string;
  source: "storacha";
  space: string;
  state: "listing" | "running" | "done" | "failed";
  /** Uploads listed so far (roots). */
  listed: number;
  /** Pins created by this job; `reused`: roots already pinned in the account (never pinned twice). */
  created: number;
  reused: number;
  pins: Record<PinState, number>;
  /** Classic deals put under the Filecoin watch. */
  dealsWatched: number;
  /** Roots with an error, the first 100. */
  errors: { root: string; error: string }[];
  failed: number;
  attempts: number;
  lastError: string | null;
  nextAttempt: string | null;
  created_at: string;
  updated: string;
};
