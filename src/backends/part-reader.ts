/**
 * Reads a byte stream in pieces of exact sizes (the pieces of upload parts,
 * part-body.ts), holding at most one piece and one incoming chunk.
 */
export class PartReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  #pending: Uint8Array | undefined;
  #done = false;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
  }

  /** The next `size` bytes, or fewer if the stream ends first (the caller checks the length). */
  async read(size: number): Promise<Uint8Array> {
    const part = new Uint8Array(size);
    let filled = 0;
    while (filled < size) {
      let chunk = this.#pending;
      this.#pending = undefined;
      if (chunk === undefined) {
        if (this.#done) break;
        const next = await this.#reader.read();
        if (next.done) {
          this.#done = true;
          break;
        }
        chunk = next.value;
      }
      const take = Math.min(chunk.length, size - filled);
      part.set(chunk.subarray(0, take), filled);
      filled += take;
      if (take < chunk.length) this.#pending = chunk.subarray(take);
    }
    return filled === size ? part : part.subarray(0, filled);
  }

  async cancel(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
  }
}
