/**
 * The migration job's shapes, types only: the worker (migrate-jobs.ts, the
 * PinRegistry) and the `ipfs-kit migrate` command (src/cli, built for Node)
 * share them, so this module imports nothing of the Workers runtime.
 */
/** `POST /api/v1/migrate` body, validated. */
export type MigrateSpec = {
  from: string;
  to: string;
  /** copy: `to` gets a copy, `from` keeps its own; move: `from`'s copy is removed once `to` holds one. */
  mode: "copy" | "move";
  /** Root CIDs (CIDv1 strings); absent = every pinned root that matches `filter`. */
  cids?: string[];
  filter?: { sizeAbove?: number; sizeBelow?: number };
};

export type MigrateProgress = {
  id: string;
  spec: MigrateSpec;
  state: "selecting" | "running" | "done";
  selected: number;
  /** Roots whose copy on `to` is stored. */
  copied: number;
  /** Move: roots whose copy on `from` is gone. */
  removed: number;
  failed: number;
  created: string;
  updated: string;
};
