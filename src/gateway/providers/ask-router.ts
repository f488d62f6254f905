import type { CID } from "multiformats/cid";
import { gatewayUrlOf, isPrivateUrl } from "./multiaddr-url";
import { readBounded } from "../../http/read-bounded";
import { fetchPublic, RedirectRefused } from "../upstream/public-fetch";

/** The transfer protocol name of the trustless HTTP gateway (multicodec table, IPIP-484 filtering). */
export const GATEWAY_HTTP = "transport-ipfs-gateway-http";
/** A provider answer larger than this is refused (the spec caps JSON answers at 100 records). */
const MAX_ANSWER_BYTES = 1024 * 1024;

/** One provider that serves the trustless gateway over HTTP. */
export interface Provider {
  /** Its peer ID, as the router wrote it. */
  id: string;
  /** Base URL derived from `addr`: requests go to `${url}/ipfs/{cid}`. */
  url: string;
  /** The multiaddr it came from. */
  addr: string;
  /** The router that named it. */
  router: string;
}

export type RouterAnswer =
  | { router: string; status: "ok"; providers: Provider[]; maxAgeSeconds: number | undefined }
  | { router: string; status: "failed"; error: string };

/**
 * `GET {router}/routing/v1/providers/{cid}` (http-routing-v1.md "Content
 * Routing API"), asking the router to keep only HTTP gateway providers
 * (`filter-protocols`, IPIP-484) and checking that again here. A 404 is
 * "no providers" (the spec says so). Only records with a multiaddr we can
 * turn into an HTTP(S) URL count; private addresses only from a router that
 * is itself on a private address (a local or operator-run router):
 * `allowPrivate` defaults to that, and a public router's private, loopback,
 * link-local or metadata addresses are dropped (multiaddr-url.ts), and
 * its redirects are followed only to public addresses (public-fetch.ts).
 */
export async function askRouter(router: string, cid: CID, signal: AbortSignal, allowPrivate = isPrivateUrl(router)): Promise<RouterAnswer> {
  const url = `${router}/routing/v1/providers/${cid.toV1().toString()}?filter-protocols=${GATEWAY_HTTP}`;
  let res: Response;
  try {
    const init = { headers: { Accept: "application/json", "User-Agent": "ipfs-kit-edge" }, signal };
    res = allowPrivate ? await fetch(url, init) : await fetchPublic(url, init);
  } catch (err) {
    if (err instanceof RedirectRefused) return { router, status: "failed", error: err.message };
    return { router, status: "failed", error: signal.aborted ? "timed out" : `fetch failed (${err instanceof Error ? err.message : String(err)})` };
  }
  if (res.status === 404) {
    await res.body?.cancel();
    return { router, status: "ok", providers: [], maxAgeSeconds: maxAge(res) };
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    return { router, status: "failed", error: `HTTP ${res.status}` };
  }
  let body: unknown;
  try {
    const bytes = await readBounded(res, MAX_ANSWER_BYTES);
    const text = bytes === undefined ? undefined : new TextDecoder().decode(bytes);
    if (text === undefined) return { router, status: "failed", error: `answer larger than ${MAX_ANSWER_BYTES} bytes` };
    body = JSON.parse(text);
  } catch (err) {
    return { router, status: "failed", error: signal.aborted ? "timed out" : `not JSON (${err instanceof Error ? err.message : String(err)})` };
  }
  const records = (body as { Providers?: unknown } | null)?.Providers;
  if (records !== null && records !== undefined && !Array.isArray(records)) return { router, status: "failed", error: "Providers is not a list" };
  const providers: Provider[] = [];
  for (const record of records ?? []) {
    const p = providerOf(record, router, allowPrivate);
    if (p) providers.push(p);
  }
  return { router, status: "ok", providers, maxAgeSeconds: maxAge(res) };
}

function providerOf(record: unknown, router: string, allowPrivate: boolean): Provider | undefined {
  if (record === null || typeof record !== "object") return undefined;
  const r = record as { Schema?: unknown; ID?: unknown; Addrs?: unknown; Protocols?: unknown };
  if (r.Schema !== "peer" || typeof r.ID !== "string") return undefined;
  if (!Array.isArray(r.Protocols) || !r.Protocols.some((p) => typeof p === "string" && p.toLowerCase() === GATEWAY_HTTP)) return undefined;
  if (!Array.isArray(r.Addrs)) return undefined;
  for (const addr of r.Addrs) {
    if (typeof addr !== "string" || addr.length > 1024) continue;
    const url = gatewayUrlOf(addr, allowPrivate);
    if (url) return { id: r.ID.slice(0, 128), url, addr, router };
  }
  return undefined;
}

/** `max-age` of the answer's Cache-Control, if any (http-routing-v1.md "Response Headers"). */
function maxAge(res: Response): number | undefined {
  const m = /(?:^|,)\s*max-age\s*=\s*(\d+)/i.exec(res.headers.get("Cache-Control") ?? "");
  return m ? Number(m[1]) : undefined;
}
