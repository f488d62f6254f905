/**
 * A small LRU of recently delivered blocks, bounded in bytes. It serves a
 * block the traversal meets again when the upstream did not repeat it
 * (dups=n), without holding a whole DAG in memory.
 */
export class BlockCache {
  readonly #limit: number;
  readonly #map = new Map<string, Uint8Array>();
  #bytes = 0;

  constructor(limitBytes: number) {
    this.#limit = limitBytes;
  }

  get(key: string): Uint8Array | undefined {
    const v = this.#map.get(key);
    if (v) {
      this.#map.delete(key);
      this.#map.set(key, v);
    }
    return v;
  }

  put(key: string, bytes: Uint8Array): void {
    if (bytes.length > this.#limit / 4 || this.#map.has(key)) return;
    this.#map.set(key, bytes);
    this.#bytes += bytes.length;
    for (const [k, v] of this.#map) {
      if (this.#bytes <= this.#limit) break;
      this.#map.delete(k);
      this.#bytes -= v.length;
    }
  }
}
