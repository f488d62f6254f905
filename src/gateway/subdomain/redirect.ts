/**
 * Redirects from the path gateway to the subdomain gateway
 * (https://specs.ipfs.tech/http-gateways/subdomain-gateway/, "Migrating from Path to Subdomain Gateway",
 * "Location" / "Use in interop with Path Gateway") and the `?uri=` router
 * ("URI router").
 */
import { badRequest } from "../../http/errors";
import { safeText } from "../request/content-path";
import { cidLabel, encodeDnslinkLabel, isDnsName, MAX_DNS_LABEL, parseCid, parseIpnsKey } from "./names";
import { parseHost } from "./parse-host";

/**
 * "URI router": `/ipfs/?uri=ipfs://{cid}/{path}` (and `ipns://`) → the
 * relative path `/ipfs/{cid}/{path}`. Undefined when the request is not a
 * URI-router request; a 400 when `uri` is not an `ipfs://`/`ipns://` address.
 *
 * @example uriRouterLocation(new URL("http://gw/ipfs/?uri=ipfs%3A%2F%2Fbafy…%2Fa")) // "/ipfs/bafy…/a"
 */
export function uriRouterLocation(url: URL): string | undefined {
  if (url.pathname !== "/ipfs/" && url.pathname !== "/ipns/") return undefined;
  const uri = url.searchParams.get("uri");
  if (uri === null) return undefined;
  const m = /^(ipfs|ipns):\/\/([^/?#]+)([^#]*)/i.exec(uri);
  if (!m || /[\s\u0000-\u001f\u007f]/.test(uri)) {
    throw badRequest(`invalid uri query parameter "${safeText(uri)}": expected ipfs://… or ipns://…`);
  }
  const [, scheme, root, rest] = m as unknown as [string, string, string, string];
  // Keep the address as given (it is already a URI, so `%` escapes stay);
  // only characters that may not appear in a URL path are escaped.
  return `/${scheme.toLowerCase()}/${escapePath(root)}${escapePath(rest)}`;
}

/**
 * The 301 `Location` that moves a path-gateway request on a gateway domain
 * to its subdomain: `/ipfs/{cid}{/path}{?query}` → `{scheme}://{cidv1b32}.ipfs.{domain}{/path}{?query}`,
 * `/ipns/{name}…` → `{key-base36 | inlined-dnslink}.ipns.{domain}`. The path
 * and query are kept as received (percent-encoded); only the root is
 * validated ("content path validation before the redirect SHOULD be limited
 * to the correctness of the root CID"). The scheme comes from
 * `X-Forwarded-Proto`, else the request URL.
 *
 * Undefined when no redirect applies (not a gateway domain, not a content
 * path); throws a 400 for an invalid root or one that cannot fit in a DNS label.
 */
export function subdomainRedirect(request: Request, env: { GATEWAY_DOMAIN?: string }): string | undefined {
  const url = new URL(request.url);
  const router = uriRouterLocation(url);
  if (router !== undefined) return router;

  const host = parseHost(request, env);
  if (host.kind !== "path-gateway") return undefined;
  const m = /^\/(ipfs|ipns)\/([^/]+)(.*)$/.exec(url.pathname);
  if (!m) return undefined;
  const [, ns, rootText, rest] = m as unknown as [string, "ipfs" | "ipns", string, string];

  const label = ns === "ipfs" ? ipfsLabel(rootText, url.pathname) : ipnsLabel(rootText, url.pathname);
  const scheme = forwardedProto(request) ?? url.protocol.slice(0, -1);
  return `${scheme}://${label}.${ns}.${host.domain}${rest === "" ? "/" : rest}${url.search}`;
}

function ipfsLabel(rootText: string, pathname: string): string {
  const cid = parseCid(safeDecode(rootText));
  if (!cid) throw badRequest(`invalid path "${safeText(pathname)}": not a valid CID`);
  const label = cidLabel(cid);
  if (!label) throw badRequest(`CID incompatible with DNS label length limit of ${MAX_DNS_LABEL}`);
  return label;
}

function ipnsLabel(rootText: string, pathname: string): string {
  const name = safeDecode(rootText);
  const key = parseIpnsKey(name);
  if (key) {
    // "Host": base36 so that an ed25519 key fits in one DNS label.
    const label = cidLabel(key, true);
    if (!label) throw badRequest(`CID incompatible with DNS label length limit of ${MAX_DNS_LABEL}`);
    return label;
  }
  if (!isDnsName(name)) throw badRequest(`invalid path "${safeText(pathname)}": not an IPNS key or DNSLink name`);
  // "DNSLink label encoding": dots inlined so one wildcard TLS certificate covers the name.
  const label = encodeDnslinkLabel(name);
  if (label.length > MAX_DNS_LABEL) {
    throw badRequest(`DNSLink name "${safeText(name)}" incompatible with DNS label length limit of ${MAX_DNS_LABEL}`);
  }
  return label;
}

function forwardedProto(request: Request): string | undefined {
  const proto = request.headers.get("X-Forwarded-Proto")?.split(",")[0]?.trim().toLowerCase();
  return proto === "http" || proto === "https" ? proto : undefined;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function escapePath(s: string): string {
  return s.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@/%?]/gu, (c) => encodeURIComponent(c));
}
