/**
 * Reusable buffers for raw leaf blocks on their way to a CAR response, so a
 * 1 GiB stream does not leave 1 GiB of short-lived buffers for V8 to collect
 * (docs/benchmarks.md, "Memory"). A buffer goes back to the pool only once
 * the response stream has taken a copy of it (IdentityTransformStream's
 * `write()` settles after the reader side copied the bytes), and only raw
 * leaves are pooled: decoded dag-pb / dag-cbor blocks keep views into their
 * bytes (CIDs, Data), so their buffers must live as long as the traversal.
 *
 * With `headroom`, every block is read `headroom` bytes into its buffer:
 * the CAR writer puts the section's prefix (varint length and CID) in the
 * bytes before the block and sends prefix and block in one write, without
 * copying the block (handlers/car-stream.ts).
 */
export class BufferPool {
  readonly #free: ArrayBuffer[] = [];
  readonly #issued = new WeakSet<ArrayBuffer>();
  readonly #max: number;
  /** Free bytes kept before every block (see above); 0 by default. */
  readonly headroom: number;

  constructor(maxFree = 4, headroom = 0) {
    this.#max = maxFree;
    this.headroom = headroom;
  }

  /** A view of exactly `n` bytes over a pooled (or new) buffer, `headroom` bytes into it. */
  acquire(n: number): Uint8Array {
    const size = n + this.headroom;
    const i = this.#free.findIndex((b) => b.byteLength >= size);
    const buffer = i >= 0 ? this.#free.splice(i, 1)[0]! : new ArrayBuffer(size);
    return new Uint8Array(buffer, this.headroom, n);
  }

  /**
   * Registers the buffer behind `bytes` as the pool's (a BYOB read transfers
   * the acquired buffer: the bytes then live in a new ArrayBuffer object).
   */
  adopt(bytes: Uint8Array): Uint8Array {
    this.#issued.add(bytes.buffer as ArrayBuffer);
    return bytes;
  }

  owns(bytes: Uint8Array): boolean {
    return this.#issued.has(bytes.buffer as ArrayBuffer);
  }

  /** Gives the buffer behind `bytes` back; only call once nothing reads `bytes` any more. No-op for buffers the pool did not issue. */
  release(bytes: Uint8Array): void {
    const buffer = bytes.buffer as ArrayBuffer;
    if (!this.#issued.has(buffer) || buffer.detached) return;
    this.#issued.delete(buffer);
    if (this.#free.length < this.#max) this.#free.push(buffer);
  }
}
