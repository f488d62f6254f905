/**
 * Collects the 32-byte digests of a list's plain `//` entries in fixed 1 MiB
 * blocks (no growing copies), then yields them sorted and de-duplicated in
 * 1 MiB chunks, the storage unit of the Denylist object. Memory: 32 bytes per
 * entry while collecting, plus 12 bytes per entry while sorting.
 */

export const DIGEST_BYTES = 32;
/** Digests per stored chunk: 32 768 × 32 B = 1 MiB (a DO SQLite value may be at most 2 MB). */
export const CHUNK_DIGESTS = 32_768;

export class HashSetBuilder {
  readonly #blocks: Uint8Array[] = [];
  #count = 0;

  constructor(readonly maxEntries: number) {}

  get count(): number {
    return this.#count;
  }

  /** Adds one digest; false once `maxEntries` is reached (the caller rejects the list). */
  add(digest: Uint8Array): boolean {
    if (this.#count >= this.maxEntries) return false;
    const i = this.#count % CHUNK_DIGESTS;
    if (i === 0) this.#blocks.push(new Uint8Array(CHUNK_DIGESTS * DIGEST_BYTES));
    this.#blocks[this.#blocks.length - 1]!.set(digest.subarray(0, DIGEST_BYTES), i * DIGEST_BYTES);
    this.#count++;
    return true;
  }

  /** The digests in byte order, without duplicates, in chunks of at most CHUNK_DIGESTS. */
  *sortedChunks(): Generator<Uint8Array> {
    const n = this.#count;
    const hi = new Uint32Array(n);
    const lo = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const [block, off] = this.#at(i);
      hi[i] = readU32(block, off);
      lo[i] = readU32(block, off + 4);
    }
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => hi[a]! - hi[b]! || lo[a]! - lo[b]! || this.#compareFull(a, b));

    let chunk = new Uint8Array(Math.min(n, CHUNK_DIGESTS) * DIGEST_BYTES);
    let inChunk = 0;
    let previous = -1;
    for (let k = 0; k < n; k++) {
      const idx = order[k]!;
      if (previous !== -1 && hi[idx] === hi[previous] && lo[idx] === lo[previous] && this.#compareFull(idx, previous) === 0) {
        continue; // duplicate entry
      }
      previous = idx;
      const [block, off] = this.#at(idx);
      chunk.set(block.subarray(off, off + DIGEST_BYTES), inChunk * DIGEST_BYTES);
      inChunk++;
      if (inChunk === CHUNK_DIGESTS) {
        yield chunk;
        chunk = new Uint8Array(Math.min(n - k - 1, CHUNK_DIGESTS) * DIGEST_BYTES);
        inChunk = 0;
      }
    }
    if (inChunk > 0) yield chunk.subarray(0, inChunk * DIGEST_BYTES);
  }

  #at(i: number): [Uint8Array, number] {
    return [this.#blocks[Math.floor(i / CHUNK_DIGESTS)]!, (i % CHUNK_DIGESTS) * DIGEST_BYTES];
  }

  #compareFull(a: number, b: number): number {
    const [ba, oa] = this.#at(a);
    const [bb, ob] = this.#at(b);
    for (let j = 8; j < DIGEST_BYTES; j++) {
      const d = ba[oa + j]! - bb[ob + j]!;
      if (d !== 0) return d;
    }
    return 0;
  }
}

/** Big-endian uint32 at `off`. */
export function readU32(bytes: Uint8Array, off: number): number {
  return ((bytes[off]! << 24) | (bytes[off + 1]! << 16) | (bytes[off + 2]! << 8) | bytes[off + 3]!) >>> 0;
}

/** Byte-order comparison of two digests (memcmp, as SQLite compares BLOBs). */
export function compareDigests(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number): number {
  for (let j = 0; j < DIGEST_BYTES; j++) {
    const d = a[aOff + j]! - b[bOff + j]!;
    if (d !== 0) return d;
  }
  return 0;
}
