import type { CID } from "multiformats/cid";
import type { R2BlockStore } from "../backends/r2-block-store";

/**
 * Writes verified blocks to R2 with a few puts in flight (throughput) and a
 * cap on the bytes waiting (bounded memory). Each block is held for the
 * upload (GC safety) before it is written.
 */
export class BlockWriter {
  readonly #store: R2BlockStore;
  readonly #hold: (cids: CID[]) => Promise<void>;
  readonly #maxInFlightBytes: number;
  readonly #inFlight = new Set<Promise<void>>();
  #inFlightBytes = 0;
  #failure: unknown;
  bytes = 0;
  blocks = 0;

  constructor(store: R2BlockStore, hold: (cids: CID[]) => Promise<void>, maxInFlightBytes = 8 * 1024 * 1024) {
    this.#store = store;
    this.#hold = hold;
    this.#maxInFlightBytes = maxInFlightBytes;
  }

  async write(cid: CID, bytes: Uint8Array): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure;
    while (this.#inFlight.size > 0 && this.#inFlightBytes + bytes.length > this.#maxInFlightBytes) {
      await Promise.race(this.#inFlight);
      if (this.#failure !== undefined) throw this.#failure;
    }
    this.bytes += bytes.length;
    this.blocks++;
    this.#inFlightBytes += bytes.length;
    const job = (async () => {
      await this.#hold([cid]);
      await this.#store.put(cid, bytes);
    })()
      .catch((err: unknown) => {
        this.#failure ??= err;
      })
      .finally(() => {
        this.#inFlightBytes -= bytes.length;
        this.#inFlight.delete(job);
      });
    this.#inFlight.add(job);
  }

  /** Waits for every write; throws the first failure. */
  async flush(): Promise<void> {
    await Promise.all(this.#inFlight);
    if (this.#failure !== undefined) throw this.#failure;
  }
}
