/**
 * Calling the worker on any host (subdomain, DNSLink, path gateway): the
 * request URL carries the host, as on the wire. Bindings are those of
 * vitest.config.ts (honest upstream, local routing, DoH and denylist servers).
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../../src/worker";

export interface OriginWorker {
  env: Env;
  /** `url` is absolute: `http://{host}{path}`. */
  fetch(url: string, init?: RequestInit): Promise<Response>;
  /** Waits for the `ctx.waitUntil` work of every request sent so far. */
  settle(): Promise<void>;
}

export function originWorker(overrides: Partial<Env> = {}): OriginWorker {
  const testEnv: Env = { ...env, ...overrides };
  const contexts: ExecutionContext[] = [];
  return {
    env: testEnv,
    async fetch(url, init) {
      const ctx = createExecutionContext();
      contexts.push(ctx);
      return worker.fetch!(new Request(url, init), testEnv, ctx);
    },
    async settle() {
      await Promise.all(contexts.map((ctx) => waitOnExecutionContext(ctx)));
    },
  };
}

/** The gateway domain of vitest.config.ts / wrangler.toml (`GATEWAY_DOMAIN`). */
export const H = "localhost:8787";

export async function text(response: Response): Promise<string> {
  return response.text();
}
