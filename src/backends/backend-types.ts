import type { BackendFactory, BackendType } from "./replication-backend";

/**
 * The import map of backend implementations, one entry per `type` of the
 * `BACKENDS` var. Each module exports `create: BackendFactory` and is loaded
 * with a dynamic `import()` only when a backend of its type is used, so the
 * gateway's bundle entry never pulls an SDK it does not need.
 */
export const BACKEND_MODULES: Record<BackendType, () => Promise<{ create: BackendFactory }>> = {
  r2: () => import("./r2/r2-backend"),
  psa: () => import("./psa/psa-backend"),
  s3: () => import("./s3/s3-backend"),
  kubo: () => import("./kubo/kubo-backend"),
  hf: () => import("./hf/hf-backend"),
  filecoin: () => import("./filecoin/filecoin-backend"),
};

export const BACKEND_TYPES = Object.keys(BACKEND_MODULES) as BackendType[];

