/**
 * The HTTP base URL of a provider that offers the trustless gateway over
 * HTTP (`transport-ipfs-gateway-http`), from one of its multiaddrs
 * (multiformats/multiaddr, string form). Understood:
 *
 *   /ip4/A | /ip6/A | /dns/H | /dns4/H | /dns6/H
 *     /tcp/PORT
 *     /https | /tls/http | /tls/sni/H/http | /http
 *     [/http-path/URL-ESCAPED-PATH]   (IPNI's path prefix, e.g. %2Fgateway)
 *     [/p2p/PEER-ID]
 *
 * Anything else (udp, quic, websockets, webtransport…) is not an HTTP
 * gateway address: undefined.
 *
 * `allowPrivate` decides whether loopback, private and link-local IP
 * literals (and `localhost`) are accepted: a public router's answer must
 * not make the worker fetch from addresses inside someone's network.
 *
 * @example gatewayUrlOf("/dns/gw.example/tcp/443/https", false) // "https://gw.example"
 * @example gatewayUrlOf("/ip4/127.0.0.1/tcp/8080/http/http-path/honest", true) // "http://127.0.0.1:8080/honest"
 */
export function gatewayUrlOf(multiaddr: string, allowPrivate: boolean): string | undefined {
  const parts = multiaddr.split("/");
  if (parts[0] !== "" || parts.length < 5) return undefined;
  let i = 1;
  const take = () => parts[i++];
  const proto = take();
  const host = take();
  if (!host) return undefined;
  let hostPart: string;
  switch (proto) {
    case "ip4":
      if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.split(".").some((o) => Number(o) > 255)) return undefined;
      hostPart = host;
      break;
    case "ip6":
      if (!/^[0-9a-fA-F:.]+$/.test(host) || !host.includes(":")) return undefined;
      hostPart = `[${host}]`;
      break;
    case "dns":
    case "dns4":
    case "dns6":
      if (!/^[A-Za-z0-9.-]{1,253}$/.test(host)) return undefined;
      hostPart = host.toLowerCase();
      break;
    default:
      return undefined;
  }
  if (take() !== "tcp") return undefined;
  const portText = take() ?? "";
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) return undefined;
  const port = Number(portText);

  let scheme: "http" | "https";
  const next = take();
  if (next === "https") {
    scheme = "https";
  } else if (next === "http") {
    scheme = "http";
  } else if (next === "tls") {
    if (parts[i] === "sni") i += 2;
    if (take() !== "http") return undefined;
    scheme = "https";
  } else {
    return undefined;
  }

  let path = "";
  if (parts[i] === "http-path") {
    i++;
    const escaped = take();
    if (escaped === undefined) return undefined;
    try {
      path = decodeURIComponent(escaped);
    } catch {
      return undefined;
    }
    path = ("/" + path.replace(/^\/+/, "")).replace(/\/+$/, "");
    if (/[?#\s]/.test(path) || path.split("/").some((s) => s === "." || s === "..")) return undefined;
  }
  if (parts[i] === "p2p") i += 2;
  if (i < parts.length && !(i === parts.length - 1 && parts[i] === "")) return undefined;

  if (!allowPrivate && isPrivateHost(proto, host)) return undefined;
  const defaultPort = scheme === "https" ? 443 : 80;
  const url = `${scheme}://${hostPart}${port === defaultPort ? "" : `:${port}`}${path}`;
  try {
    new URL(url);
  } catch {
    return undefined;
  }
  // Again on the URL as fetch will read it (an octet like `0177` is octal 127 to the URL parser).
  if (!allowPrivate && isPrivateUrl(url)) return undefined;
  return url;
}

/**
 * Loopback, private, link-local (cloud metadata: 169.254.169.254), unspecified,
 * CGNAT, multicast or reserved addresses, and names that only resolve inside
 * a network: `localhost`, `*.local`, `*.internal` (`metadata.google.internal`)
 * and single-label names (`metadata`). A public DNS name that resolves to a
 * private address cannot be told apart here (Workers have no resolver API).
 */
export function isPrivateHost(proto: string, host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, "");
  if (proto.startsWith("dns")) return !h.includes(".") || h.endsWith(".localhost") || h.endsWith(".local") || h.endsWith(".internal");
  if (proto === "ip4") {
    const [a = 0, b = 0] = h.split(".").map(Number);
    return a === 0 || a === 10 || a === 127 || a >= 224 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127);
  }
  // ip6: loopback, unspecified, unique local fc00::/7, link-local fe80::/10, IPv4-mapped.
  return h === "::1" || h === "::" || /^f[cd]/.test(h) || /^fe[89ab]/.test(h) || h.startsWith("::ffff:");
}

/** Whether a URL's host is private by the same rule (used for routers: a private router may name private providers). */
export function isPrivateUrl(url: string): boolean {
  const host = new URL(url).hostname;
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(host)) return isPrivateHost("ip4", host);
  if (host.startsWith("[")) return isPrivateHost("ip6", host.slice(1, -1));
  return isPrivateHost("dns", host);
}
