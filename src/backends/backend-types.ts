import type { BackendFactory, BackendType } from "./replication-backend";

/**
 * The import map of backend implementations, one entry per `type` of the
 * `BACKENDS` var. Each module exports `create: BackendFactory` and is loaded
 * with a dynamic `import()` only when a backend of its type is used, so the
 * gateway's bundle entry never pulls an SDK it does not need.
 *
 * MERGE POINT: the s3, kubo, hf and filecoin backends are built on other
 * branches (issues 9 and 10). When their module lands, replace the
 * `unavailable(...)` of its entry with the commented `import()` next to it.
 */
export const BACKEND_MODULES: Record<BackendType, () => Promise<{ create: BackendFactory }>> = {
  r2: () => import("./r2/r2-backend"),
  psa: () => import("./psa/psa-backend"),
  s3: () => unavailable("s3"), // () => import("./s3/s3-backend"),
  kubo: () => unavailable("kubo"), // () => import("./kubo/kubo-backend"),
  hf: () => unavailable("hf"), // () => import("./hf/hf-backend"),
  filecoin: () => unavailable("filecoin"), // () => import("./filecoin/filecoin-backend"),
};

export const BACKEND_TYPES = Object.keys(BACKEND_MODULES) as BackendType[];

/** Thrown (as a permanent configuration error) when a type's module is not part of this build. */
export class BackendUnavailableError extends Error {
  constructor(type: string) {
    super(`backend type "${type}" is not available in this build`);
    this.name = "BackendUnavailableError";
  }
}

function unavailable(type: BackendType): Promise<never> {
  return Promise.reject(new BackendUnavailableError(type));
}
