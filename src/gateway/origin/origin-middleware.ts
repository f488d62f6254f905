/**
 * Where a request's content comes from, decided from its Host before any
 * route runs (https://specs.ipfs.tech/http-gateways/subdomain-gateway/, https://specs.ipfs.tech/http-gateways/dnslink-gateway/):
 *
 * | host (X-Forwarded-Host, else Host)   | GET/HEAD/OPTIONS                                                  |
 * |--------------------------------------|-------------------------------------------------------------------|
 * | `{cid}.ipfs.{GATEWAY_DOMAIN}`        | `/path` is `/ipfs/{cid}/path`, with `_redirects`                  |
 * | `{name}.ipns.{GATEWAY_DOMAIN}`       | `/path` is `/ipns/{name}/path`, with `_redirects`                 |
 * | any other name with a DNSLink record | `/path` is `/ipns/{host}/path`, with `_redirects`                 |
 * | `{GATEWAY_DOMAIN}`                   | `/ipfs/…`, `/ipns/…` → 301 to the subdomain; other paths: routes  |
 * | anything else                        | path gateway: `/ipfs/…` routes, `/ipns/…` resolved here           |
 *
 * A site's content is served by an internal `/ipfs/` request through the
 * worker's own routes (request/rewrite.ts), which this middleware lets
 * through after the denylist guard. Every gateway response, errors
 * included, leaves with CORS headers (cors.ts: the one place that adds them
 * to errors).
 */
import type { Context, ExecutionContext as HonoExecutionContext, MiddlewareHandler } from "hono";
import { base36 } from "multiformats/bases/base36";
import { denylistMatcher } from "../../denylist/isolate-matcher";
import type { DenylistMatcher } from "../../denylist/matcher";
import { resolveDnslink } from "../../dnslink/resolve";
import { HttpError } from "../../http/errors";
import { errorResponse } from "../../http/error-response";
import { requestUrl } from "../../http/request-url";
import type { AppEnv } from "../../worker";
import { preflight } from "../handlers/cors";
import { decideFormat } from "../request/response-format";
import { rewriteOf } from "../request/rewrite";
import { gatewayDomains, parseHost } from "../subdomain/parse-host";
import { subdomainRedirect, uriRouterLocation } from "../subdomain/redirect";
import { withGatewayCors } from "./cors";
import { guardIpfsPath } from "./deny";
import { serveIpnsPath, serveName } from "./ipns-origin";
import type { OriginContext } from "./origin-context";
import { serveSite } from "./serve-site";

/** Sends a request through the whole worker again (its `fetch`). */
export type AppDispatch = (request: Request, env: Env, ctx: HonoExecutionContext) => Response | Promise<Response>;

/** Not ours: the request goes on to the routes; `gateway` says whether its response gets the gateway's CORS headers. */
interface PassOn {
  gateway: boolean;
}

/**
 * Paths the worker itself serves besides content (src/worker.ts). On a host
 * that may be a DNSLink site, they still reach the worker's routes when the
 * DNSLink lookup fails (resolver down) instead of answering 502.
 */
const OWN_PATHS = /^\/(ipfs|ipns|api|psa|webhooks|metrics|dashboard|mcp)(\/|$)/;

/**
 * The middleware; `dispatch` sends the internal `/ipfs/` requests of sites
 * through the whole app again.
 *
 * @example app.use("*", gatewayOrigins((request, env, ctx) => app.fetch(request, env, ctx)));
 */
export function gatewayOrigins(dispatch: AppDispatch): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const ctx = originContext(c, dispatch);
    if (rewriteOf(c.req.raw)) {
      // An internal /ipfs/ request an origin below made: only the denylist guard is left to do.
      await guardIpfsPath(ctx, ctx.url.pathname);
      await next();
      return;
    }
    let outcome: Response | PassOn;
    try {
      outcome = await route(ctx);
    } catch (err) {
      return withGatewayCors(errorResponse(err, c.req.raw));
    }
    if (outcome instanceof Response) return withGatewayCors(outcome);
    await next();
    if (outcome.gateway) {
      const res = withGatewayCors(c.res);
      if (res !== c.res) c.res = res;
    }
  };
}

function originContext(c: Context<AppEnv>, dispatch: AppDispatch): OriginContext {
  let matcher: Promise<DenylistMatcher> | undefined;
  const waitUntil = (p: Promise<unknown>) => c.executionCtx.waitUntil(p);
  return {
    env: c.env,
    request: c.req.raw,
    url: requestUrl(c.req.raw),
    waitUntil,
    dispatch: async (request) => dispatch(request, c.env, c.executionCtx),
    // One matcher per request, asked for only by content requests; it awaits the Denylist
    // object only at an isolate's first request (src/denylist/isolate-matcher.ts).
    denylist: () => (matcher ??= denylistMatcher(c.env, { waitUntil })),
  };
}

async function route(ctx: OriginContext): Promise<Response | PassOn> {
  const method = ctx.request.method;
  if (method !== "GET" && method !== "HEAD" && method !== "OPTIONS") return { gateway: false };
  const host = parseHost(ctx.request, ctx.env);
  const path = ctx.url.pathname;
  switch (host.kind) {
    case "ipfs-subdomain": {
      if (method === "OPTIONS") return preflight();
      const root = `/ipfs/${host.root.toString()}`;
      return serveSite(ctx, { root, display: root, ipfsLinkBase: `//${host.domain}`, redirects: true }, path);
    }
    case "ipns-key-subdomain":
      if (method === "OPTIONS") return preflight();
      return serveName(ctx, host.key.toString(base36), path, { ipfsLinkBase: `//${host.domain}`, redirects: true });
    case "ipns-dnslink-subdomain":
      if (method === "OPTIONS") return preflight();
      return serveName(ctx, host.name, path, { ipfsLinkBase: `//${host.domain}`, redirects: true });
    case "dnslink": {
      if (!(await hasDnslink(ctx, host.name))) return pathGateway(ctx, false);
      if (method === "OPTIONS") return preflight();
      const domain = gatewayDomains(ctx.env)[0];
      return serveName(ctx, host.name, path, { ipfsLinkBase: domain ? `//${domain}` : "", redirects: true });
    }
    case "path-gateway":
      return pathGateway(ctx, true);
    case "unknown":
      return pathGateway(ctx, false);
  }
}

/**
 * `/ipfs/…` and `/ipns/…` on a host that names no site. On a gateway domain
 * content paths move to their subdomain (subdomain-gateway.md "Migrating
 * from Path to Subdomain Gateway"); elsewhere they are served here.
 */
async function pathGateway(ctx: OriginContext, toSubdomains: boolean): Promise<Response | PassOn> {
  const path = ctx.url.pathname;
  const content = path.startsWith("/ipfs/") || path.startsWith("/ipns/");
  if (!content) return { gateway: false };
  if (ctx.request.method === "OPTIONS") return preflight();
  const router = uriRouterLocation(ctx.url);
  if (router !== undefined) return redirect(router);
  if (toSubdomains && !isTrustlessRequest(ctx)) {
    const location = subdomainRedirect(ctx.request, ctx.env);
    if (location !== undefined) return redirect(location);
  }
  if (path.startsWith("/ipns/")) return serveIpnsPath(ctx);
  await guardIpfsPath(ctx, path);
  return { gateway: true };
}

/**
 * Trustless responses (raw blocks, CARs, IPNS records) are verifiable bytes
 * sent as attachments with `nosniff`: origin isolation, the reason for the
 * subdomain redirect, does not apply, and trustless clients (and other
 * gateways racing this one as an upstream) must not have to follow a
 * redirect to another host. They are served on the gateway domain itself.
 */
function isTrustlessRequest(ctx: OriginContext): boolean {
  try {
    const kind = decideFormat(ctx.url, ctx.request.headers.get("Accept")).kind;
    return kind === "raw" || kind === "car" || kind === "ipns-record";
  } catch {
    return false; // a malformed format is reported by the route that serves it
  }
}

function redirect(location: string): Response {
  return new Response(null, { status: 301, headers: { Location: location } });
}

/**
 * Whether `name` has a DNSLink record (resolveDnslink caches the answer,
 * so the site resolution after it asks no resolver again). A failing
 * resolver does not take the worker's own paths down with it.
 */
async function hasDnslink(ctx: OriginContext, name: string): Promise<boolean> {
  try {
    await resolveDnslink(ctx.env, name);
    return true;
  } catch (err) {
    if (err instanceof HttpError && (err.kind === "not_found" || err.kind === "bad_request")) return false;
    if (OWN_PATHS.test(ctx.url.pathname)) {
      console.error("DNSLink lookup failed; serving the worker's own routes:", err instanceof HttpError ? err.kind : "internal error");
      return false;
    }
    throw err;
  }
}
