import type { CID } from "multiformats/cid";
import type { ResumePoint } from "../traversal/block-source";
import { fetchPublic } from "./public-fetch";

/**
 * One upstream trustless gateway (trustless-gateway.md), spoken to over HTTP.
 *
 * Error contract: `request` resolves with the upstream's response whatever
 * its status (the caller classifies it) and rejects only on network failure
 * or when `signal` aborts. Nothing it returns is trusted: every byte is
 * hash-checked by the caller before use.
 */
export interface TrustlessGateway {
  readonly base: string;
  request(rp: ResumePoint, signal: AbortSignal, asRawBlock?: CID): Promise<Response>;
}

const CAR_ACCEPT = "application/vnd.ipld.car; version=1; order=dfs; dups=y";
const RAW_ACCEPT = "application/vnd.ipld.raw";

/**
 * Who named a base URL. "operator": a configured UPSTREAMS entry, trusted,
 * its redirects followed by fetch. "public": a pin's `origins` or an IPNI
 * provider, its redirects followed only to public addresses (public-fetch.ts);
 * a refused redirect rejects like a network failure.
 */
export type GatewayTrust = "operator" | "public";

export class HttpTrustlessGateway implements TrustlessGateway {
  readonly base: string;
  readonly trust: GatewayTrust;

  constructor(base: string, trust: GatewayTrust = "operator") {
    this.base = base;
    this.trust = trust;
  }

  /** Fetches the CAR for `rp`, or the single raw block `asRawBlock` (per-block fallback). */
  request(rp: ResumePoint, signal: AbortSignal, asRawBlock?: CID): Promise<Response> {
    const url = asRawBlock ? rawUrl(this.base, asRawBlock) : rp.kind === "raw" ? rawUrl(this.base, rp.cid) : carUrl(this.base, rp);
    const raw = asRawBlock !== undefined || rp.kind === "raw";
    const init = { signal, headers: { Accept: raw ? RAW_ACCEPT : CAR_ACCEPT, "User-Agent": "ipfs-kit-edge" } };
    return this.trust === "operator" ? fetch(url, { ...init, redirect: "follow" }) : fetchPublic(url, init);
  }
}

function rawUrl(base: string, cid: CID): string {
  return `${base}/ipfs/${cid}?format=raw`;
}

/** The trustless request for a resume point, with every parameter in the URL (trustless-gateway.md recommends format= besides Accept). */
export function carUrl(base: string, rp: Extract<ResumePoint, { kind: "car" }>): string {
  const path = rp.segments.map(encodeURIComponent).join("/");
  const q = new URLSearchParams({ format: "car", "dag-scope": rp.scope });
  if (rp.entityBytes) q.set("entity-bytes", `${rp.entityBytes.from}:${rp.entityBytes.to}`);
  q.set("car-version", "1");
  q.set("car-order", "dfs");
  q.set("car-dups", "y");
  return `${base}/ipfs/${rp.root}${path ? "/" + path : ""}?${q.toString().replace(/%3A/g, ":")}`;
}
