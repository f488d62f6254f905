import type { DenylistMatcher } from "../../denylist/matcher";

/** Sends a request (an internal /ipfs/ one, see request/rewrite.ts) through the worker's own routes. */
export type Dispatch = (request: Request) => Promise<Response>;

/** What the origin handlers of one client request share. */
export interface OriginContext {
  readonly env: Env;
  /** The client's request and URL. */
  readonly request: Request;
  readonly url: URL;
  readonly waitUntil: (promise: Promise<unknown>) => void;
  readonly dispatch: Dispatch;
  /** The isolate's denylist matcher (awaits the Denylist object only at an isolate's first request). */
  readonly denylist: () => Promise<DenylistMatcher>;
}

/**
 * A website served from a content root: a subdomain (`{cid}.ipfs.…`,
 * `{name}.ipns.…`), a DNSLink host, or the target of an `/ipns/` path.
 */
export interface Site {
  /** The immutable root, percent-encoded, no trailing slash: `/ipfs/{cid}[/sub/path]`. */
  readonly root: string;
  /** The content path the client addresses, prefix of `X-Ipfs-Path`: `/ipfs/{cid}` or `/ipns/{name}`. */
  readonly display: string;
  /** Prefix of `/ipfs/{cid}` links in generated pages (request/rewrite.ts). */
  readonly ipfsLinkBase: string;
  /** Seconds the mutable pointer may be cached (IPNS/DNSLink); undefined for an immutable root. */
  readonly ttlSeconds?: number;
  /** Whether `_redirects` applies (subdomain and DNSLink origins only, web-redirects-file.md "Same-Origin Requirement"). */
  readonly redirects: boolean;
}
