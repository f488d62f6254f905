import type { CID } from "multiformats/cid";
import { blockKey } from "../blocks/block";
import { decodeNode, isUnixfsFile } from "../dag/decode-node";

/** Blocks fetched ahead at most (each ≤ 2 MiB, typically 256 KiB–1 MiB). */
export const READ_AHEAD_BLOCKS = 6;
/** The traversal must take this many blocks in the predicted order before reading ahead starts. */
const STREAK_TO_START = 2;
/** Upcoming CIDs remembered at most (a UnixFS node links at most a few thousand children). */
const MAX_UPCOMING = 4096;

/**
 * Read-ahead for the R2 tier: R2 answers one GET in milliseconds, and a
 * traversal asking for one block at a time would pay that latency per block
 * (thousands of blocks for a large file). UnixFS files are walked in DFS
 * link order, so once the traversal has taken blocks in exactly the order
 * their parents list them, the next few are fetched in parallel.
 *
 * Only file nodes' links are predicted (a directory listing reads the
 * directory, not its children), and reading ahead starts only after a streak
 * of correct predictions, so a Range request that jumps to the end of a file
 * reads nothing it does not use.
 */
export class ReadAhead {
  readonly #fetch: (cid: CID) => Promise<Uint8Array | undefined>;
  /** Predicted next CIDs, DFS order. */
  #upcoming: CID[] = [];
  readonly #started = new Map<string, Promise<Uint8Array | undefined>>();
  #streak = 0;

  /** `fetch` resolves verified bytes, or undefined when the block is not (usably) there. */
  constructor(fetch: (cid: CID) => Promise<Uint8Array | undefined>) {
    this.#fetch = fetch;
  }

  /**
   * The traversal asks for `cid`: the read started for it, if it was
   * predicted and started; updates the prediction either way.
   */
  take(cid: CID): Promise<Uint8Array | undefined> | undefined {
    const key = blockKey(cid.multihash.bytes);
    const next = this.#upcoming[0];
    if (next && blockKey(next.multihash.bytes) === key) {
      this.#upcoming.shift();
      this.#streak++;
    } else {
      // Off the predicted path (a range, a skipped subtree): forget the guesses.
      this.#streak = 0;
      this.#upcoming = [];
      const pending = this.#started.get(key);
      this.#started.clear();
      return pending;
    }
    const pending = this.#started.get(key);
    this.#started.delete(key);
    return pending;
  }

  /** A block was delivered: a file node's children come next, before the rest. */
  delivered(cid: CID, bytes: Uint8Array): void {
    if (cid.code !== 0x70) return;
    const node = decodeNode(cid, bytes);
    if (node.kind !== "dag-pb" || !isUnixfsFile(node) || node.node.Links.length === 0) return;
    this.#upcoming = [...node.node.Links.map((l) => l.Hash), ...this.#upcoming].slice(0, MAX_UPCOMING);
    this.#fill();
  }

  #fill(): void {
    if (this.#streak < STREAK_TO_START) return;
    for (const cid of this.#upcoming.slice(0, READ_AHEAD_BLOCKS)) {
      const key = blockKey(cid.multihash.bytes);
      if (this.#started.has(key)) continue;
      // A failed read-ahead is only a lost guess: the traversal reads the block again itself.
      this.#started.set(key, this.#fetch(cid).catch(() => undefined));
    }
  }

  /** After each take: keep READ_AHEAD_BLOCKS reads in flight along the prediction. */
  refill(): void {
    this.#fill();
  }
}
