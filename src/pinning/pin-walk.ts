import type { CID } from "multiformats/cid";
import type { R2BlockStore } from "../backends/r2-block-store";
import { blockLinks } from "./block-links";
import type { DagSource } from "./dag-source";

const RAW = 0x55;
const IDENTITY = 0x00;
/** Blocks fetched upstream are held and written in batches of at most this many bytes. */
const BATCH_BYTES = 4 * 1024 * 1024;
const BATCH_BLOCKS = 64;

export type WalkBudget = {
  /** Blocks this step may write to R2 before it pauses. */
  maxNewBlocks: number;
  /** Wall-clock time (ms since epoch) at which this step pauses. */
  until: number;
  /** Bytes the DAG may total before the account's quota is exceeded. */
  maxDagBytes: number;
};

export type WalkResult =
  | { kind: "complete"; dagSize: number; blocks: number }
  | { kind: "paused"; dagSize: number; blocks: number; newBlocks: number }
  | { kind: "over_quota"; dagSize: number };

export type WalkDeps = {
  store: R2BlockStore;
  /** Records that this pin needs these blocks; called before their presence is checked (GC safety). */
  hold: (cids: CID[]) => Promise<void>;
  source: DagSource;
};

/**
 * One resumable step of pinning the complete DAG under `root`: a
 * depth-first walk that reads blocks already in R2 and, for the first
 * block it does not find, fetches that whole subtree through `source`
 * (verified) and writes it to R2. Progress lives in R2 itself, so a step
 * cut short (budget, eviction, crash) is resumed by walking again from the
 * root: held blocks are read back, missing ones fetched. Complete only when
 * every block of the DAG is in R2.
 */
export async function walkDag(root: CID, deps: WalkDeps, budget: WalkBudget): Promise<WalkResult> {
  const seen = new Set<string>();
  const stack: CID[] = [root];
  let dagSize = 0;
  let blocks = 0;
  let newBlocks = 0;
  await deps.hold([root]);

  while (stack.length > 0) {
    if (newBlocks >= budget.maxNewBlocks || Date.now() >= budget.until) {
      return { kind: "paused", dagSize, blocks, newBlocks };
    }
    const cid = stack.pop()!;
    const key = cid.toV1().toString();
    if (seen.has(key)) continue;
    seen.add(key);

    if (cid.multihash.code === IDENTITY) {
      await pushChildren(cid, cid.multihash.digest);
      continue;
    }
    if (cid.code === RAW) {
      const size = await deps.store.sizeOf(cid);
      if (size !== undefined) {
        dagSize += size;
        blocks++;
        if (dagSize > budget.maxDagBytes) return { kind: "over_quota", dagSize };
        continue;
      }
    } else {
      const bytes = await deps.store.get(cid);
      if (bytes !== undefined) {
        dagSize += bytes.length;
        blocks++;
        if (dagSize > budget.maxDagBytes) return { kind: "over_quota", dagSize };
        await pushChildren(cid, bytes);
        continue;
      }
    }

    // Not in R2: fetch the whole subtree, verified, and store it.
    const abort = new AbortController();
    let batch: { cid: CID; bytes: Uint8Array }[] = [];
    let batchBytes = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      const current = batch;
      batch = [];
      batchBytes = 0;
      await deps.hold(current.map((b) => b.cid));
      await Promise.all(current.map((b) => deps.store.put(b.cid, b.bytes)));
    };
    try {
      for await (const block of deps.source(cid, abort.signal)) {
        const blockKey = block.cid.toV1().toString();
        if (seen.has(blockKey) && blockKey !== key) continue;
        seen.add(blockKey);
        batch.push(block);
        batchBytes += block.bytes.length;
        dagSize += block.bytes.length;
        blocks++;
        newBlocks++;
        if (dagSize > budget.maxDagBytes) {
          abort.abort();
          await flush();
          return { kind: "over_quota", dagSize };
        }
        if (batchBytes >= BATCH_BYTES || batch.length >= BATCH_BLOCKS) await flush();
        if (newBlocks >= budget.maxNewBlocks || Date.now() >= budget.until) {
          abort.abort();
          await flush();
          return { kind: "paused", dagSize, blocks, newBlocks };
        }
      }
      await flush();
    } finally {
      abort.abort();
    }
  }
  return { kind: "complete", dagSize, blocks };

  async function pushChildren(cid: CID, bytes: Uint8Array): Promise<void> {
    const children = blockLinks(cid, bytes);
    if (children.length === 0) return;
    await deps.hold(children);
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
}
