import type { CID } from "multiformats/cid";
import type { VerifiedBlock } from "./blocks/block";
import { isIdentity } from "./blocks/verify-block";
import { decodeNode } from "./dag/decode-node";
import type { ResumePoint } from "./traversal/block-source";
import { loadBlock } from "./traversal/load-block";
import { selectBlocks } from "./traversal/select-blocks";
import { openSession } from "./upstream/open-session";

export interface FetchDagOptions {
  /** Extra trustless gateway base URLs (a pin's `origins`), raced with the configured upstreams. */
  origins?: string[];
  signal?: AbortSignal;
  /** Background work (outcome reports); defaults to fire-and-forget. */
  waitUntil?: (p: Promise<unknown>) => void;
}

/**
 * Every block of the complete DAG under `root` (dag-scope=all), in DFS
 * order, each verified against its CID, raced across UPSTREAMS plus
 * `origins`. Throws HttpError not_found / bad_gateway / gateway_timeout when
 * it cannot be had. Identity blocks are not yielded. Memory stays at about
 * one block: blocks are yielded as they are verified.
 */
export async function* fetchDag(env: Env, root: CID, opts: FetchDagOptions = {}): AsyncGenerator<VerifiedBlock> {
  const waitUntil = opts.waitUntil ?? ((p: Promise<unknown>) => void p.catch(() => undefined));
  const { session, finish } = openSession(env, waitUntil, { extraUpstreams: opts.origins, signal: opts.signal });
  const rp: ResumePoint = { kind: "car", root, segments: [], scope: "all" };
  let ok = false;
  try {
    const bytes = await loadBlock(session, root, rp);
    for await (const block of selectBlocks(session, { cid: root, bytes }, decodeNode(root, bytes), { scope: "all" }, rp)) {
      if (!isIdentity(block.cid)) yield block;
    }
    ok = true;
  } finally {
    if (!ok) session.abort();
    finish();
  }
}
