import type { CID } from "multiformats/cid";
import type { ResumePoint } from "../traversal/block-source";

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

export class HttpTrustlessGateway implements TrustlessGateway {
  readonly base: string;

  constructor(base: string) {
    this.base = base;
  }

  /** Fetches the CAR for `rp`, or the single raw block `asRawBlock` (per-block fallback). */
  request(rp: ResumePoint, signal: AbortSignal, asRawBlock?: CID): Promise<Response> {
    const url = asRawBlock ? rawUrl(this.base, asRawBlock) : rp.kind === "raw" ? rawUrl(this.base, rp.cid) : carUrl(this.base, rp);
    const raw = asRawBlock !== undefined || rp.kind === "raw";
    return fetch(url, {
      signal,
      headers: { Accept: raw ? RAW_ACCEPT : CAR_ACCEPT, "User-Agent": "ipfs-kit-edge" },
      redirect: "follow",
    });
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
