/**
 * An isolate-local map whose entries expire, bounded in size (oldest insert
 * evicted first). Used for resolved IPNS names and DNSLink answers so that a
 * hot name costs one lookup per TTL per isolate. Not shared between isolates:
 * the Cache API is the shared layer.
 */
export class TtlCache<V> {
  readonly #entries = new Map<string, { value: V; expiresAt: number }>();
  readonly #maxEntries: number;

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  /** The value and its expiry (ms epoch), or undefined when absent or expired. */
  get(key: string, now: number = Date.now()): { value: V; expiresAt: number } | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Stores `value` until `expiresAt` (ms epoch); a past expiry stores nothing. */
  set(key: string, value: V, expiresAt: number, now: number = Date.now()): void {
    this.#entries.delete(key);
    if (expiresAt <= now) return;
    while (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value, expiresAt });
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }
}
