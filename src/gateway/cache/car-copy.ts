import type { BodyTap } from "../handlers/body-stream";

/**
 * Default of `EDGE_CACHE_CAR_MAX_BYTES`: the largest CAR the edge cache
 * keeps. A CAR's length is known only at its end, so its cache copy is held
 * in memory until then; small CARs (a file or a directory of a few blocks,
 * what clients such as verified-fetch ask for again and again) fit, a large
 * DAG is simply not cached.
 */
export const MAX_EDGE_CACHE_CAR_BYTES = 4 * 1024 * 1024;

/**
 * Bytes all CAR copies of one isolate may hold at once (a Worker has
 * 128 MB, shared with the blocks in flight of every request): 50 concurrent
 * CAR misses must not hold 50 × the bound. A copy that would go over it is
 * given up (the CAR is then not cached; its client never notices).
 * `EDGE_CACHE_CAR_MAX_BYTES` above it is in effect this budget.
 */
export const CAR_COPIES_BUDGET_BYTES = 32 * 1024 * 1024;

/** `EDGE_CACHE_CAR_MAX_BYTES` as a byte count (default MAX_EDGE_CACHE_CAR_BYTES; "0" = CARs never cached). */
export function edgeCacheCarMaxBytes(value: string | undefined): number {
  const n = Number(value);
  return value !== undefined && value.trim() !== "" && Number.isSafeInteger(n) && n >= 0 ? n : MAX_EDGE_CACHE_CAR_BYTES;
}

/** Bytes held by the copies of one isolate, against a limit. */
export class CopyBudget {
  readonly limit: number;
  #held = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Bytes held now. */
  get held(): number {
    return this.#held;
  }

  /** Takes `n` bytes of the budget, or nothing and false when they do not fit. */
  take(n: number): boolean {
    if (this.#held + n > this.limit) return false;
    this.#held += n;
    return true;
  }

  giveBack(n: number): void {
    this.#held -= n;
  }
}

/** The budget of this isolate's CAR copies (module state: one per isolate). */
export const isolateCarCopies = new CopyBudget(CAR_COPIES_BUDGET_BYTES);

/**
 * The edge cache's in-memory copy of a CAR body as it streams
 * (docs/architecture.md "Edge cache and the R2 tier"): each section is
 * copied (the client's buffers go back to the block pool) while it fits
 * under `maxBytes` and `budget`; past either, the copy is given up at once
 * and its bytes let go, and the client's stream carries on as if there had
 * been no copy. Only a body that ended normally is handed to `store`, as
 * the list of its chunks and their total length; the budget is held until
 * the promise `store` returns settles (the bytes live until the Cache API
 * took them). `settled` resolves once the copy is over whichever way (for
 * the request's `waitUntil`); it never rejects.
 */
export class CarCopy implements BodyTap {
  readonly settled: Promise<void>;
  readonly #maxBytes: number;
  readonly #budget: CopyBudget;
  readonly #store: (chunks: Uint8Array[], length: number) => Promise<unknown>;
  #chunks: Uint8Array[] | undefined = [];
  #length = 0;
  #settle!: () => void;

  constructor(maxBytes: number, budget: CopyBudget, store: (chunks: Uint8Array[], length: number) => Promise<unknown>) {
    this.#maxBytes = maxBytes;
    this.#budget = budget;
    this.#store = store;
    this.settled = new Promise<void>((resolve) => (this.#settle = resolve));
  }

  chunk(bytes: Uint8Array): boolean {
    const chunks = this.#chunks;
    if (chunks === undefined) return false;
    if (this.#length + bytes.length > this.#maxBytes || !this.#budget.take(bytes.length)) {
      this.#giveUp();
      return false;
    }
    this.#length += bytes.length;
    chunks.push(bytes.slice());
    return true;
  }

  end(): void {
    const chunks = this.#chunks;
    if (chunks === undefined) return;
    this.#chunks = undefined;
    const length = this.#length;
    let stored: Promise<unknown>;
    try {
      stored = this.#store(chunks, length);
    } catch (err) {
      stored = Promise.reject(err);
    }
    void stored
      .catch((err: unknown) => console.warn("edge cache: CAR not stored:", err instanceof Error ? err.message : String(err)))
      .finally(() => {
        this.#budget.giveBack(length);
        this.#settle();
      });
  }

  fail(): void {
    this.#giveUp();
  }

  #giveUp(): void {
    if (this.#chunks === undefined) return;
    this.#chunks = undefined;
    this.#budget.giveBack(this.#length);
    this.#length = 0;
    this.#settle();
  }
}
