/**
 * This gateway's base URL as the multiaddr a PSA `origins` entry needs
 * (the spec's origins are multiaddrs; HTTP gateways are written
 * `/dns4/<host>/tcp/<port>/https`, or `/ip4|ip6/...` for literal addresses,
 * with `/http-path/<urlencoded>` when the gateway lives under a path, as
 * src/pinning/origins.ts reads them back).
 */
export function gatewayMultiaddr(base: string): string {
  const url = new URL(base);
  const https = url.protocol === "https:";
  const port = url.port === "" ? (https ? "443" : "80") : url.port;
  const host = url.hostname;
  const proto = /^\d+\.\d+\.\d+\.\d+$/.test(host) ? "ip4" : host.startsWith("[") ? "ip6" : "dns4";
  const name = proto === "ip6" ? host.slice(1, -1) : host;
  const path = url.pathname.replace(/\/+$/, "");
  return `/${proto}/${name}/tcp/${port}/${https ? "https" : "http"}${path === "" ? "" : `/http-path/${encodeURIComponent(path)}`}`;
}
