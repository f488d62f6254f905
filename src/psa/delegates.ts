import { accountsStub } from "../durable-objects/accounts";

let peerId: Promise<string> | undefined;

/** The service peer ID (generated once, kept in the Accounts object), cached per isolate. */
export function servicePeerId(env: Env): Promise<string> {
  peerId ??= accountsStub(env).servicePeerId().catch((err: unknown) => {
    peerId = undefined;
    throw err;
  });
  return peerId;
}

/**
 * PSA `delegates` (≥ 1): this worker's own HTTP gateway as a multiaddr,
 * `/dns|ip4|ip6/<host>/tcp/<port>/(https|http)/p2p/<service peer ID>`, the
 * form HTTP-capable clients (e.g. Kubo's HTTP retrieval) dial for
 * trustless-gateway transfers.
 */
export function delegateFor(requestUrl: URL, peer: string): string {
  const https = requestUrl.protocol === "https:";
  const port = requestUrl.port || (https ? "443" : "80");
  const host = requestUrl.hostname;
  const proto = /^\d{1,3}(\.\d{1,3}){3}$/.test(host) ? "ip4" : host.startsWith("[") ? "ip6" : "dns";
  const address = proto === "ip6" ? host.slice(1, -1) : host;
  return `/${proto}/${address}/tcp/${port}/${https ? "https" : "http"}/p2p/${peer}`;
}
