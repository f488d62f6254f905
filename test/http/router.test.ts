/**
 * Hono's default SmartRouter uses its RegExpRouter (one regular expression
 * per method) unless some pair of routes cannot be expressed in it — e.g. a
 * static `/a/b` beside `/a/:p/c` — and then silently falls back to the
 * TrieRouter for every request of the worker, which cost 6 % of a cached
 * block's CPU under load (docs/benchmarks.md figure 8). A route that brings
 * the fallback back fails here, named.
 */
import { describe, expect, it } from "vitest";
import { RegExpRouter } from "hono/router/reg-exp-router";
import { app } from "../../src/worker";
import { ADMIN, call } from "../pinning/helpers";

describe("routing", () => {
  it("every route of the worker fits the RegExpRouter", async () => {
    // The router compiles on its first match and takes no route after it: each longer prefix of the routes gets a router of its own, so the first that does not fit is named.
    for (let n = 1; n <= app.routes.length; n++) {
      const router = new RegExpRouter<number>();
      for (const route of app.routes.slice(0, n)) router.add(route.method, route.path, 0);
      const last = app.routes[n - 1]!;
      expect(() => router.match("GET", "/"), `${last.method} ${last.path}`).not.toThrow();
    }
    await app.request("/ipfs/bafkqaaa?format=raw");
    expect(app.router.name).toBe("SmartRouter + RegExpRouter");
  });

  it("POST /api/v1/backends/verify still runs, and only under that name", async () => {
    const verify = await call("POST", "/api/v1/backends/verify", { token: ADMIN });
    expect(verify.status).toBe(200);
    expect(await verify.json()).toEqual({ scheduled: expect.any(Number) });
    const other = await call("POST", "/api/v1/backends/verifyx", { token: ADMIN });
    expect(other.status).toBe(404);
    expect(await other.text()).toBe("404 page not found\n");
  });
});
