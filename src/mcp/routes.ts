/**
 * `/mcp`: the Model Context Protocol endpoint (Streamable HTTP transport,
 * stateless; docs/operations.md "MCP").
 *
 * - Auth: `Authorization: Bearer` with an API token (the account's pin
 *   tools) or the operator's `ADMIN_TOKEN` (read-only tools; pin tools then
 *   answer a tool error). Checked here, before the SDK is loaded.
 * - Origin (MCP transport spec, "Security Warning": servers MUST validate
 *   the Origin header): a request that has one is refused with 403 unless
 *   it is the worker's own origin or listed in `MCP_ALLOWED_ORIGINS`.
 *   Clients that are not browsers send none.
 * - The SDK is imported on the first request (src/mcp/mcp-handler.ts).
 *
 * Tools reach the worker's own routes through `dispatch` with the caller's
 * token: API routes on the client's origin (PSA delegates name it), content
 * on an IP-literal host so that no DNSLink lookup or subdomain redirect
 * applies (src/gateway/origin/origin-middleware.ts).
 */
import { Hono } from "hono";
import { bearerToken, timingSafeEqualString } from "../accounts/auth";
import { hashToken, tokenAccount } from "../accounts/token-hash";
import { registryStub } from "../durable-objects/pin-registry";
import { HttpError } from "../http/errors";
import { logLine } from "../observability/log";
import type { ToolContext } from "./tools";

type Dispatch = (request: Request, env: Env, ctx: ExecutionContext) => Response | Promise<Response>;

/** Internal content requests of tools go to this origin (an IP literal: a plain path gateway, no DNSLink lookup). */
const INTERNAL_ORIGIN = "http://127.0.0.1";

export function mcpRoutes(dispatch: Dispatch) {
  const routes = new Hono<{ Bindings: Env }>();

  routes.all("/", async (c) => {
    const origin = c.req.header("Origin");
    if (origin !== undefined && !allowedOrigins(c.env, new URL(c.req.url)).has(origin)) {
      throw new HttpError("forbidden", "Origin not allowed for /mcp");
    }
    const token = bearerToken(c.req.header("Authorization"));
    if (token === null || !(await validToken(c.env, token))) {
      throw new HttpError("unauthorized", "Access token is missing or invalid", { "WWW-Authenticate": "Bearer" });
    }
    const ctx = c.executionCtx as unknown as ExecutionContext;
    const tools: ToolContext = {
      call: (path, init = {}) => {
        const headers = new Headers(init.headers);
        headers.set("Authorization", `Bearer ${token}`);
        const base = path.startsWith("/ipfs/") ? INTERNAL_ORIGIN : new URL(c.req.url).origin;
        return Promise.resolve(dispatch(new Request(base + path, { ...init, headers }), c.env, ctx));
      },
      fetchRemote: (url, signal) => fetch(url, { signal, redirect: "follow" }),
    };
    const { serveMcp } = await import("./mcp-handler");
    return serveMcp(c.req.raw, tools, (err) => logLine({ kind: "mcp", event: "error", error: err.message }));
  });

  return routes;
}

async function validToken(env: Env, token: string): Promise<boolean> {
  if (env.ADMIN_TOKEN && timingSafeEqualString(token, env.ADMIN_TOKEN)) return true;
  const account = tokenAccount(token);
  return account !== null && (await registryStub(env, account).hasToken(await hashToken(token)));
}

function allowedOrigins(env: Env, url: URL): Set<string> {
  const configured = (env.MCP_ALLOWED_ORIGINS ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  return new Set([url.origin, ...configured]);
}
