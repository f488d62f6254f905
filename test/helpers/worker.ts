/**
 * Calling the worker from tests (inside workerd): through its real `fetch`
 * with the bindings of `vitest.config.ts`, or with another UPSTREAMS list.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import worker from "../../src/worker";
import { upstreamUrl } from "./upstream-url";

/** Origin of the requests tests send to the worker. */
export const GATEWAY_ORIGIN = "http://gateway.test";

/** `path` is everything after the origin, e.g. `/ipfs/{cid}?format=car`. */
export function fetchWorker(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(GATEWAY_ORIGIN + path, init));
}

export interface WorkerWithUpstreams {
  /** The UPSTREAMS value the worker sees. */
  upstreams: string;
  env: Env;
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** Waits for the `ctx.waitUntil` work of every request sent so far (read the bodies first). */
  settle(): Promise<void>;
}

/**
 * The worker with UPSTREAMS set to the given personalities of the test
 * upstream, in that order, e.g. `withUpstreams(["flip-byte-1", "honest"])`.
 * `overrides` sets other vars (HEDGE_DELAY_MS...).
 */
export function withUpstreams(personalities: string[], overrides: Partial<Env> = {}): WorkerWithUpstreams {
  const upstreams = personalities.map(upstreamUrl).join(",");
  const testEnv: Env = { ...env, ...overrides, UPSTREAMS: upstreams };
  const contexts: ExecutionContext[] = [];
  return {
    upstreams,
    env: testEnv,
    async fetch(path, init) {
      const ctx = createExecutionContext();
      contexts.push(ctx);
      const handler = worker.fetch;
      if (!handler) throw new Error("src/worker.ts has no fetch handler");
      return handler(new Request(GATEWAY_ORIGIN + path, init), testEnv, ctx);
    },
    async settle() {
      await Promise.all(contexts.map((ctx) => waitOnExecutionContext(ctx)));
    },
  };
}
