/**
 * Mutable content roots: `/ipns/{name}[/path]` on the path gateway
 * (path-gateway.md "GET /ipns/{name}[/{path}]"), `{name}.ipns.{domain}`
 * subdomains and DNSLink hosts. The name is resolved to an `/ipfs/` root
 * (src/ipns/resolve-path.ts: IPNS records via ROUTERS, DNSLink via
 * DOH_RESOLVER) whose content is served like any other.
 */
import { badRequest } from "../../http/errors";
import { isDnslinkName, parseIpnsName } from "../../ipns/name";
import { resolveIpnsPath } from "../../ipns/resolve-path";
import { safeText } from "../request/content-path";
import { decideFormat } from "../request/response-format";
import { guardName, pathSegments } from "./deny";
import { serveIpnsRecord } from "./ipns-record";
import type { OriginContext, Site } from "./origin-context";
import { serveSite } from "./serve-site";

/**
 * Resolves IPNS key or DNSLink `name` to the site it points at. The
 * denylist is asked about the name and `path` first (before any router or
 * resolver), then about the resolved root by the `/ipfs/` route.
 */
export async function mutableSite(
  ctx: OriginContext,
  name: string,
  path: string,
  opts: { ipfsLinkBase: string; redirects: boolean },
): Promise<Site> {
  await guardName(ctx, name, pathSegments(path));
  const resolved = await resolveIpnsPath(ctx.env, `/ipns/${name}`, { ipns: { waitUntil: ctx.waitUntil } });
  return {
    root: resolved.path.replace(/\/+$/, ""),
    display: `/ipns/${name}`,
    ipfsLinkBase: opts.ipfsLinkBase,
    ttlSeconds: resolved.ttlSeconds,
    redirects: opts.redirects,
  };
}

/**
 * `name` (an IPNS key in canonical form, or a DNSLink name) and the request
 * path inside it: the IPNS record when asked for, else the content.
 */
export async function serveName(ctx: OriginContext, name: string, path: string, opts: { ipfsLinkBase: string; redirects: boolean }): Promise<Response> {
  const format = decideFormat(ctx.url, ctx.request.headers.get("Accept"));
  if (format.kind === "ipns-record") return serveIpnsRecord(ctx, name, path, format);
  return serveSite(ctx, await mutableSite(ctx, name, path, opts), path);
}

/**
 * `/ipns/{name}[/path]` on a path gateway. A key that is not in its
 * canonical form (a `12D3KooW…`/`Qm…` peer ID, another multibase) is
 * redirected to it with 302, before any record is fetched (conformance
 * N03/N04). No `_redirects` here: a path gateway gives every site the same
 * origin (web-redirects-file.md "Same-Origin Requirement").
 */
export async function serveIpnsPath(ctx: OriginContext): Promise<Response> {
  const m = /^\/ipns\/([^/]*)(.*)$/.exec(ctx.url.pathname);
  const encoded = m?.[1] ?? "";
  const rest = m?.[2] ?? "";
  let name: string;
  try {
    name = decodeURIComponent(encoded);
  } catch {
    throw badRequest(`invalid path "${safeText(ctx.url.pathname)}": bad percent-encoding`);
  }
  if (name === "") throw badRequest(`invalid path "${safeText(ctx.url.pathname)}": no IPNS name or DNSLink domain`);
  if (!isDnslinkName(name)) {
    const parsed = parseIpnsName(name);
    if (!parsed.canonical) {
      return new Response(null, { status: 302, headers: { Location: `/ipns/${parsed.name}${rest}${ctx.url.search}` } });
    }
    name = parsed.name;
  }
  return serveName(ctx, name, rest, { ipfsLinkBase: "", redirects: false });
}
