import type { BackendType, Json } from "./replication-backend";
import { BACKEND_TYPES } from "./backend-types";

/** One configured backend: its `BACKENDS` entry, validated. */
export type BackendConfig = { name: string; type: BackendType; settings: { [key: string]: Json } };

/** Name of the built-in R2 backend (the pin's own copy), present even when `BACKENDS` does not list it. */
export const R2_BACKEND = "r2";

const NAME = /^[a-z0-9][a-z0-9-]{0,39}$/;

/** A `BACKENDS` var that cannot be used: the operator must fix the configuration. */
export class BackendConfigError extends Error {
  constructor(message: string) {
    super(`BACKENDS: ${message}`);
    this.name = "BackendConfigError";
  }
}

const cache = new Map<string, Map<string, BackendConfig>>();

/**
 * Parses the `BACKENDS` var (JSON `{ "<name>": { "type": "...", ...settings } }`,
 * `replication-backend.ts` BackendFactory). Names are lower-case letters,
 * digits and `-` (they become secret names `BACKEND_<NAME>_<FIELD>`). The
 * built-in `r2` backend is always present. Throws BackendConfigError on a
 * malformed value; parsed once per isolate and value.
 */
export function backendConfigs(env: Env): Map<string, BackendConfig> {
  const raw = env.BACKENDS ?? "";
  const hit = cache.get(raw);
  if (hit !== undefined) return hit;
  const out = new Map<string, BackendConfig>([[R2_BACKEND, { name: R2_BACKEND, type: "r2", settings: {} }]]);
  if (raw.trim() !== "") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new BackendConfigError("not valid JSON");
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new BackendConfigError("must be a JSON object of named backends");
    for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
      if (!NAME.test(name)) throw new BackendConfigError(`backend name "${name}" must match ${NAME.source}`);
      if (typeof value !== "object" || value === null || Array.isArray(value)) throw new BackendConfigError(`backend "${name}" must be an object`);
      const { type, ...settings } = value as { type?: unknown; [key: string]: unknown };
      if (typeof type !== "string" || !(BACKEND_TYPES as string[]).includes(type)) {
        throw new BackendConfigError(`backend "${name}" has unknown type ${JSON.stringify(type)} (one of ${BACKEND_TYPES.join(", ")})`);
      }
      out.set(name, { name, type: type as BackendType, settings: settings as { [key: string]: Json } });
    }
  }
  cache.set(raw, out);
  return out;
}

/** `BACKEND_<NAME>_<FIELD>`: name upper-cased, `-` → `_` (replication-backend.ts). */
export function secretName(backend: string, field: string): string {
  return `BACKEND_${backend.toUpperCase().replace(/-/g, "_")}_${field.toUpperCase().replace(/-/g, "_")}`;
}
