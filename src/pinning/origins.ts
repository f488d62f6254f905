import { isPrivateUrl } from "../gateway/providers/multiaddr-url";

/**
 * PSA `Pin.origins` are multiaddrs of peers that have the data. The worker
 * speaks HTTP only, so it uses those that name an HTTP(S) trustless gateway:
 *   /ip4|ip6|dns|dns4|dns6/<host>/tcp/<port>/(http|https|tls/http)[/http-path/<urlencoded path>][/p2p/<id>]
 * and, as a convenience, plain `http(s)://` base URLs. Others (bitswap
 * over tcp/quic) are ignored: the spec makes origins best-effort ("dial
 * failure should not fail the pinning operation").
 *
 * Origins come from whoever holds a token or a webhook secret, so those on
 * private, loopback, link-local or metadata addresses (`isPrivateUrl`) are
 * ignored too: a pin must not make the worker fetch from inside a network.
 * `allowPrivate` is for callers that vouch for their origins (tests).
 */
export function originUrls(origins: string[], allowPrivate = false): string[] {
  const urls: string[] = [];
  for (const origin of origins) {
    const url = originUrl(origin, allowPrivate);
    if (url !== null && !urls.includes(url)) urls.push(url);
  }
  return urls;
}

export function originUrl(origin: string, allowPrivate = false): string | null {
  const url = parseOrigin(origin);
  // Checked on the URL as parsed: `http://2130706433/` and `/ip4/0177.0.0.1/…` are 127.0.0.1 by then.
  return url !== null && !allowPrivate && isPrivateUrl(url) ? null : url;
}

function parseOrigin(origin: string): string | null {
  if (/^https?:\/\//i.test(origin)) {
    try {
      const url = new URL(origin);
      return url.origin + url.pathname.replace(/\/+$/, "");
    } catch {
      return null;
    }
  }
  const parts = origin.split("/");
  if (parts[0] !== "") return null;
  let host: string | undefined;
  let port: string | undefined;
  let scheme: "http" | "https" | undefined;
  let path = "";
  let tls = false;
  for (let i = 1; i < parts.length; i++) {
    const proto = parts[i];
    switch (proto) {
      case "ip4":
      case "dns":
      case "dns4":
      case "dns6":
        host = parts[++i];
        break;
      case "ip6":
        host = `[${parts[++i]}]`;
        break;
      case "tcp":
        port = parts[++i];
        break;
      case "tls":
        tls = true;
        break;
      case "http":
        scheme = tls ? "https" : "http";
        break;
      case "https":
        scheme = "https";
        break;
      case "http-path":
        path = decodeURIComponent(parts[++i] ?? "");
        break;
      case "p2p":
      case "ipfs":
        i++;
        break;
      case "":
        break;
      default:
        return null;
    }
  }
  if (host === undefined || scheme === undefined || host === "") return null;
  const defaultPort = scheme === "https" ? "443" : "80";
  const authority = port === undefined || port === defaultPort ? host : `${host}:${port}`;
  try {
    const url = new URL(`${scheme}://${authority}${path.startsWith("/") || path === "" ? path : "/" + path}`);
    return url.origin + url.pathname.replace(/\/+$/, "");
  } catch {
    return null;
  }
}
