/**
 * Buffered reader over a byte stream that reads in large pieces: a fetch body
 * read with the default reader arrives in ~4 KiB chunks, while a BYOB reader
 * with `readAtLeast` fills whole blocks at once (the difference between tens
 * and hundreds of MB/s once every byte is hashed).
 *
 * Every read is bounded by `idleMs`: if no bytes arrive in that time, `onIdle`
 * is called (the owner aborts the fetch) and the read fails.
 */
export class ByteReader {
  #byob: ReadableStreamBYOBReader | undefined;
  #plain: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #buf: Uint8Array = new Uint8Array(64 * 1024);
  #start = 0;
  #end = 0;
  #eof = false;
  readonly #idleMs: number;
  readonly #onIdle: () => void;
  /** Total bytes taken from the stream so far. */
  received = 0;

  constructor(stream: ReadableStream<Uint8Array>, idleMs: number, onIdle: () => void) {
    try {
      this.#byob = stream.getReader({ mode: "byob" });
    } catch {
      this.#plain = stream.getReader();
    }
    this.#idleMs = idleMs;
    this.#onIdle = onIdle;
  }

  /** Bytes buffered and not yet consumed. */
  get available(): number {
    return this.#end - this.#start;
  }

  /** View of the buffered bytes (valid until the next `fill`). */
  view(): Uint8Array {
    return this.#buf.subarray(this.#start, this.#end);
  }

  consume(n: number): void {
    this.#start += n;
  }

  /**
   * Makes at least `n` bytes available; returns false if the stream ended
   * first (the bytes that did arrive stay available). `hint` is how many
   * bytes the caller expects to need soon, so one read can fetch a whole block.
   */
  async fill(n: number, hint = n): Promise<boolean> {
    while (this.#end - this.#start < n) {
      if (this.#eof) return false;
      const want = Math.max(n, hint);
      this.#makeRoom(want);
      const min = Math.min(n, want) - (this.#end - this.#start);
      await this.#read(min);
    }
    return true;
  }

  /** Copies out `n` bytes (which must be available) and consumes them. */
  take(n: number): Uint8Array {
    const out = this.#buf.slice(this.#start, this.#start + n);
    this.#start += n;
    return out;
  }

  async cancel(reason?: unknown): Promise<void> {
    this.#eof = true;
    try {
      await (this.#byob ?? this.#plain)?.cancel(reason);
    } catch {
      // the stream is already errored or closed: nothing to release
    }
  }

  /** Ensures the buffer can hold `want` bytes from the current start, compacting or growing it. */
  #makeRoom(want: number): void {
    if (this.#buf.length - this.#start >= want && this.#end < this.#buf.length) return;
    const have = this.#end - this.#start;
    if (this.#buf.length >= want) {
      this.#buf.copyWithin(0, this.#start, this.#end);
    } else {
      const next = new Uint8Array(Math.max(want, this.#buf.length * 2));
      next.set(this.#buf.subarray(this.#start, this.#end), 0);
      this.#buf = next;
    }
    this.#start = 0;
    this.#end = have;
  }

  async #read(min: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const idle = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.#onIdle();
        reject(new IdleTimeout(this.#idleMs));
      }, this.#idleMs);
    });
    try {
      if (this.#byob) {
        const free = this.#buf.subarray(this.#end);
        const { value, done } = await Promise.race([this.#byob.readAtLeast(Math.max(1, Math.min(min, free.length)), free), idle]);
        if (value) {
          // BYOB transfers the buffer: adopt the returned one.
          this.#buf = new Uint8Array(value.buffer, 0, value.buffer.byteLength);
          this.#end += value.byteLength;
          this.received += value.byteLength;
        }
        if (done) this.#eof = true;
      } else {
        const { value, done } = await Promise.race([this.#plain!.read(), idle]);
        if (done) this.#eof = true;
        if (value && value.byteLength) {
          this.#makeRoom(this.#end - this.#start + value.byteLength);
          this.#buf.set(value, this.#end);
          this.#end += value.byteLength;
          this.received += value.byteLength;
        }
      }
    } finally {
      if (timer) clearTimeout(timer);
    }
  }
}

export class IdleTimeout extends Error {
  constructor(ms: number) {
    super(`no bytes for ${ms} ms`);
    this.name = "IdleTimeout";
  }
}
