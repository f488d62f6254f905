/**
 * Classifies the host a request was made to (https://specs.ipfs.tech/http-gateways/subdomain-gateway/,
 * "Host" and "X-Forwarded-Host"): the plain gateway origin (path gateway),
 * `{cid}.ipfs.{domain}`, `{name}.ipns.{domain}`, or any other name, which
 * may be a DNSLink website (https://specs.ipfs.tech/http-gateways/dnslink-gateway/).
 */
import type { CID } from "multiformats/cid";
import { badRequest } from "../../http/errors";
import { safeText } from "../request/content-path";
import { cidLabel, decodeDnslinkLabel, isDnsName, MAX_DNS_LABEL, parseCid, parseIpnsKey } from "./names";

export type HostKind =
  /** One of GATEWAY_DOMAIN itself: `/ipfs/…` and `/ipns/…` paths are served (or redirected to subdomains). */
  | { kind: "path-gateway"; domain: string }
  /** `{cid}.ipfs.{domain}`: the URL path is a path inside `root`. */
  | { kind: "ipfs-subdomain"; domain: string; root: CID; label: string }
  /** `{key}.ipns.{domain}`: an IPNS key (CIDv1 libp2p-key). */
  | { kind: "ipns-key-subdomain"; domain: string; key: CID; label: string }
  /** `{inlined-name}.ipns.{domain}` or `{fqdn}.ipns.{domain}`: a DNSLink name (decoded). */
  | { kind: "ipns-dnslink-subdomain"; domain: string; name: string; label: string }
  /**
   * Any other DNS name (not a gateway domain): a DNSLink website if the name
   * has a DNSLink record; without one the caller serves it as a plain path
   * gateway (conformance S07: an unknown Host still serves `/ipfs/{cid}`).
   */
  | { kind: "dnslink"; name: string }
  /** No usable host (absent, an IP literal, or not a DNS name). */
  | { kind: "unknown" };

/** The configured gateway domains (`GATEWAY_DOMAIN`, comma-separated, e.g. `localhost:8787`), lower-cased. */
export function gatewayDomains(env: { GATEWAY_DOMAIN?: string }): string[] {
  return [...parsedDomains(env.GATEWAY_DOMAIN ?? "").listed];
}

/** The last `GATEWAY_DOMAIN` read, parsed (every request classifies its host against it). */
let lastDomains: { value: string; listed: readonly string[]; longestFirst: readonly string[] } | undefined;

function parsedDomains(value: string): NonNullable<typeof lastDomains> {
  if (lastDomains?.value !== value) {
    const listed = value
      .split(",")
      .map((d) => d.trim().toLowerCase().replace(/\.$/, ""))
      .filter((d) => d !== "");
    // Longest domain first, so `a.example` does not shadow `b.a.example`.
    lastDomains = { value, listed, longestFirst: [...listed].sort((a, b) => b.length - a.length) };
  }
  return lastDomains;
}

/** The host the client asked for: `X-Forwarded-Host` when present (first value), else `Host`, else the URL's. */
export function requestHost(request: Request): string {
  const forwarded = request.headers.get("X-Forwarded-Host")?.split(",")[0]?.trim();
  const host = forwarded || request.headers.get("Host") || new URL(request.url).host;
  return host.toLowerCase().replace(/\.$/, "").replace(/\.(:\d+)$/, "$1");
}

/**
 * Classifies the request's host against `GATEWAY_DOMAIN`. A subdomain whose
 * label cannot name a content root is a 400 ("Host": "if it is impossible to
 * construct a content path from Host, return HTTP Error 400").
 *
 * @example
 * parseHost(new Request("http://x/", { headers: { Host: "bafk….ipfs.localhost:8787" } }), { GATEWAY_DOMAIN: "localhost:8787" })
 * // → { kind: "ipfs-subdomain", domain: "localhost:8787", root: CID(bafk…), label: "bafk…" }
 */
export function parseHost(request: Request, env: { GATEWAY_DOMAIN?: string }): HostKind {
  const host = requestHost(request);
  for (const domain of parsedDomains(env.GATEWAY_DOMAIN ?? "").longestFirst) {
    if (host === domain) return { kind: "path-gateway", domain };
    for (const ns of ["ipfs", "ipns"] as const) {
      const suffix = `.${ns}.${domain}`;
      if (host.endsWith(suffix) && host.length > suffix.length) {
        const label = host.slice(0, -suffix.length);
        return ns === "ipfs" ? ipfsSubdomain(label, domain) : ipnsSubdomain(label, domain);
      }
    }
  }
  const name = host.replace(/:\d+$/, "");
  if (name === "" || /^\d+(\.\d+){3}$/.test(name) || name.startsWith("[") || !isDnsName(name)) return { kind: "unknown" };
  return { kind: "dnslink", name };
}

function ipfsSubdomain(label: string, domain: string): HostKind {
  // "DNS label limits": a CID longer than one DNS label cannot be served here.
  if (label.length > MAX_DNS_LABEL) throw badRequest(`CID incompatible with DNS label length limit of ${MAX_DNS_LABEL}`);
  const root = label.includes(".") ? undefined : parseCid(label);
  if (!root) throw badRequest(`invalid subdomain "${safeText(label)}": not a valid CID`);
  return { kind: "ipfs-subdomain", domain, root, label };
}

function ipnsSubdomain(label: string, domain: string): HostKind {
  if (!label.includes(".")) {
    const key = parseIpnsKey(label);
    if (key) {
      if (!cidLabel(key, true)) throw badRequest(`CID incompatible with DNS label length limit of ${MAX_DNS_LABEL}`);
      return { kind: "ipns-key-subdomain", domain, key, label };
    }
  }
  // A fully qualified DNSLink name (`dnslink-test.example.org.ipns.{domain}`)
  // is taken as is; a single label is the inlined form ("DNSLink label decoding").
  const name = label.includes(".") ? label : decodeDnslinkLabel(label);
  if (!isDnsName(name)) throw badRequest(`invalid subdomain "${safeText(label)}": not an IPNS key or DNSLink name`);
  return { kind: "ipns-dnslink-subdomain", domain, name, label };
}
