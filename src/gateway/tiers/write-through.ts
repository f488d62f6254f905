import type { CID } from "multiformats/cid";
import type { BlockStore } from "../../backends/block-store";
import type { VerifiedBlock } from "../blocks/block";

/** R2 writes in flight at once for one response. */
const CONCURRENCY = 4;
/** Blocks held (one BlockRefs call per shard) before they are written. */
const HOLD_BATCH = 16;

/** Records a GC holder for blocks before they are written (rejects: those blocks are not written). */
export type HoldBlocks = (cids: CID[]) => Promise<void>;

/**
 * Writes verified blocks to the R2 block store in the background
 * (`waitUntil`), for the hot-content policy and for repairing a corrupt R2
 * block. Bounded: at most `maxBytes` per response are accepted (which also
 * bounds the memory held by writes not yet done); past that, the rest is
 * skipped and the response is marked incomplete.
 *
 * The R2 tier treats a root present in R2 as "this DAG is here"
 * (docs/storage.md), so the root block is written **last**, and only when
 * the caller says the response walked the whole DAG, every other write
 * succeeded and nothing was skipped. A partial write-through (a range, a
 * path, an aborted response, the budget exceeded) leaves the root out, and
 * later requests still go upstream for that DAG.
 *
 * GC (docs/storage.md "Hot write-through"): with `hold`, every block is held
 * before it is written (the rule every writer keeps: hold, then write), under
 * a holder with a lifetime, so that GC collects the blocks once it ends
 * unless a pin holds them too. A block whose hold failed is not written.
 */
export class WriteThrough {
  readonly #store: BlockStore;
  readonly #waitUntil: (p: Promise<unknown>) => void;
  readonly #maxBytes: number;
  readonly #queue: VerifiedBlock[] = [];
  #accepted = 0;
  #running = 0;
  #incomplete = false;
  #root: VerifiedBlock | undefined;
  #finished = false;

  readonly #hold: HoldBlocks | undefined;

  constructor(store: BlockStore, waitUntil: (p: Promise<unknown>) => void, maxBytes: number, hold?: HoldBlocks) {
    this.#store = store;
    this.#waitUntil = waitUntil;
    this.#maxBytes = maxBytes;
    this.#hold = hold;
  }

  /** Queues a verified block for R2 (bytes must already match `cid`). */
  add(cid: CID, bytes: Uint8Array): void {
    if (this.#finished || this.#incomplete) return;
    if (this.#accepted + bytes.length > this.#maxBytes) {
      this.#incomplete = true;
      this.#queue.length = 0;
      return;
    }
    this.#accepted += bytes.length;
    this.#queue.push({ cid, bytes });
    if (this.#running < CONCURRENCY) {
      this.#running++;
      this.#waitUntil(this.#pump());
    }
  }

  /**
   * The response is over. `root` is the request's root block when the
   * response walked its whole DAG and completed; it is written after every
   * other block, if nothing failed or was skipped.
   */
  finish(root: VerifiedBlock | undefined): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#root = root;
    this.#writeRootWhenDone();
  }

  async #pump(): Promise<void> {
    try {
      for (let batch = this.#queue.splice(0, HOLD_BATCH); batch.length > 0; batch = this.#queue.splice(0, HOLD_BATCH)) {
        if (!(await this.#held(batch.map((b) => b.cid)))) continue;
        for (const block of batch) {
          try {
            await this.#store.put(block.cid, block.bytes);
          } catch (err) {
            this.#incomplete = true;
            console.warn("R2 write-through failed", String(block.cid), err instanceof Error ? err.message : String(err));
          }
        }
      }
    } finally {
      this.#running--;
      this.#writeRootWhenDone();
    }
  }

  #writeRootWhenDone(): void {
    const root = this.#root;
    if (!this.#finished || !root || this.#running > 0 || this.#queue.length > 0) return;
    this.#root = undefined;
    if (this.#incomplete || this.#accepted + root.bytes.length > this.#maxBytes) return;
    const write = async () => {
      if (!(await this.#held([root.cid]))) return;
      await this.#store.put(root.cid, root.bytes);
    };
    this.#waitUntil(
      write().catch((err: unknown) => {
        console.warn("R2 write-through of the root failed", String(root.cid), err instanceof Error ? err.message : String(err));
      }),
    );
  }

  /** Holds `cids` for GC before they are written; false (and the response marked incomplete) when that failed. */
  async #held(cids: CID[]): Promise<boolean> {
    if (!this.#hold) return true;
    try {
      await this.#hold(cids);
      return true;
    } catch (err) {
      this.#incomplete = true;
      console.warn("R2 write-through: hold failed, blocks not written", err instanceof Error ? err.message : String(err));
      return false;
    }
  }
}
