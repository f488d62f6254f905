import type { CID } from "multiformats/cid";
import { fetchDag } from "../gateway/fetch-dag";

/**
 * Where pinning gets blocks it does not hold yet: the gateway's verified
 * upstream race (UPSTREAMS plus the pin's `origins`), every block checked
 * against its CID before it is yielded. Throws HttpError not_found /
 * bad_gateway / gateway_timeout when the DAG cannot be had.
 */
export type DagSource = (root: CID, signal: AbortSignal) => AsyncIterable<{ cid: CID; bytes: Uint8Array }>;

export function upstreamDagSource(env: Env, origins: string[]): DagSource {
  return (root, signal) => fetchDag(env, root, { origins, signal });
}
