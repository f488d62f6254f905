/**
 * Cuts a byte stream into consecutive parts of exact sizes, holding at most
 * one part and one incoming chunk in memory (an S3 part needs a known
 * length and is retried whole, so it is buffered; the stream is not).
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

  /** True when the stream has no byte left (reads ahead at most one chunk). */
  async atEnd(): Promise<boolean> {
    if (this.#pending !== undefined) return false;
    if (this.#done) return true;
    const next = await this.#reader.read();
    if (next.done) {
      this.#done = true;
      return true;
    }
    this.#pending = next.value;
    return false;
  }

  async cancel(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
  }
}
