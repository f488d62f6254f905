import { resolveDnslink, type ResolveDnslinkOptions } from "../dnslink/resolve";
import { HttpError } from "../http/errors";
import { isDnslinkName } from "./name";
import { resolveIpns, type ResolveIpnsOptions } from "./resolve";

export interface ResolvedPath {
  /** The immutable content path: `/ipfs/{cid}[/path]`. */
  readonly path: string;
  /** The shortest remaining cache lifetime along the chain, seconds. */
  readonly ttlSeconds: number;
  /** Every mutable path resolved on the way, first to last. */
  readonly chain: readonly string[];
}

/** dnslink-gateway spec "Host": "there MUST be a hard recursion limit (e.g. 32)". */
export const MAX_RESOLUTION_STEPS = 32;

/**
 * Resolves `/ipns/{name}[/path]` to an `/ipfs/` path, following IPNS records
 * and DNSLink records through each other and keeping every sub-path on the
 * way (dnslink-gateway spec example: `/ipns/a.example.com/path-a` with
 * `a` → `/ipns/b.example.net/path-b` and `b` → `/ipfs/bafy…/path-c` gives
 * `/ipfs/bafy…/path-c/path-b/path-a`).
 *
 * @throws HttpError 400 past 32 steps or on a bad name; else what resolveIpns / resolveDnslink throw
 */
export async function resolveIpnsPath(
  env: Pick<Env, "ROUTERS" | "DOH_RESOLVER">,
  path: string,
  opts: { ipns?: ResolveIpnsOptions; dnslink?: ResolveDnslinkOptions } = {},
): Promise<ResolvedPath> {
  if (!path.startsWith("/ipns/")) throw new HttpError("bad_request", `not an /ipns/ path: ${path.slice(0, 200)}`);
  const chain: string[] = [];
  let current = path;
  let ttlSeconds = Infinity;
  while (current.startsWith("/ipns/")) {
    if (chain.length === MAX_RESOLUTION_STEPS) {
      throw new HttpError("bad_request", `IPNS/DNSLink recursion limit of ${MAX_RESOLUTION_STEPS} reached resolving ${path.slice(0, 200)}`);
    }
    chain.push(current);
    const rest = current.slice("/ipns/".length);
    const slash = rest.indexOf("/");
    const root = slash === -1 ? rest : rest.slice(0, slash);
    const tail = slash === -1 ? "" : rest.slice(slash);
    const step = isDnslinkName(root)
      ? await resolveDnslink(env, root, opts.dnslink).then((r) => ({ value: r.value, ttl: r.ttlSeconds }))
      : await resolveIpns(env, root, opts.ipns).then((r) => ({ value: r.value, ttl: r.maxAgeSeconds }));
    ttlSeconds = Math.min(ttlSeconds, step.ttl);
    current = tail === "" ? step.value : step.value.replace(/\/+$/, "") + tail;
  }
  // Record and DNSLink values are checked to be /ipfs/ or /ipns/ paths, so the loop ends on /ipfs/.
  return { path: current, ttlSeconds, chain };
}
