/**
 * Buffered reader over a byte stream that reads in large pieces: a fetch body
 * read with the default reader arrives in ~4 KiB chunks, while a BYOB reader
 * with `readAtLeast` fills whole blocks at once (the difference between tens
 * and hundreds of MB/s once every byte is hashed). `readExactly` reads a
 * block's bytes straight into the block's own buffer, with no extra copy.
 *
 * One watchdog per stream bounds idleness: if no byte arrives for `idleMs`
 * while a read is pending, `onIdle` is called (the owner aborts the fetch)
 * and the read fails with IdleTimeout.
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
  #reading = false;
  #progressAt = 0;
  #watchdog: ReturnType<typeof setTimeout> | null = null;
  #timedOut = false;
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
   * bytes the caller expects to need soon, so one read can fetch more.
   */
  async fill(n: number, hint = n): Promise<boolean> {
    while (this.#end - this.#start < n) {
      if (this.#eof) return false;
      const want = Math.max(n, hint);
      this.#makeRoom(want);
      const min = n - (this.#end - this.#start);
      await this.#readIntoBuffer(min);
    }
    return true;
  }

  /** Copies out `n` bytes (which must be available) and consumes them. */
  take(n: number): Uint8Array {
    const out = this.#buf.slice(this.#start, this.#start + n);
    this.#start += n;
    return out;
  }

  /**
   * The next `n` bytes in a buffer of their own: what is buffered is copied,
   * the rest is read straight into it (BYOB). Undefined if the stream ends first.
   */
  async readExactly(n: number, allocate: (n: number) => Uint8Array = (k) => new Uint8Array(k)): Promise<Uint8Array | undefined> {
    const have = Math.min(n, this.available);
    let out = allocate(n);
    out.set(this.#buf.subarray(this.#start, this.#start + have));
    this.#start += have;
    let filled = have;
    if (filled < n && !this.#byob) {
      // Default reader: go through the buffer.
      if (!(await this.fill(n - filled))) return undefined;
      out.set(this.take(n - filled), filled);
      return out;
    }
    while (filled < n) {
      if (this.#eof) return undefined;
      const { value, done } = await this.#guarded(this.#byob!.readAtLeast(n - filled, out.subarray(filled)));
      if (value) {
        // BYOB transfers the buffer: adopt the returned one.
        out = new Uint8Array(value.buffer, value.byteOffset - filled, n);
        filled += value.byteLength;
        this.received += value.byteLength;
        this.#progressAt = Date.now();
      }
      if (done) this.#eof = true;
    }
    return out;
  }

  async cancel(reason?: unknown): Promise<void> {
    this.#eof = true;
    this.#stopWatchdog();
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

  async #readIntoBuffer(min: number): Promise<void> {
    if (this.#byob) {
      const free = this.#buf.subarray(this.#end);
      const { value, done } = await this.#guarded(this.#byob.readAtLeast(Math.max(1, Math.min(min, free.length)), free));
      if (value) {
        this.#buf = new Uint8Array(value.buffer, 0, value.buffer.byteLength);
        this.#end += value.byteLength;
        this.received += value.byteLength;
      }
      if (done) this.#eof = true;
      return;
    }
    const { value, done } = await this.#guarded(this.#plain!.read());
    if (done) this.#eof = true;
    if (value && value.byteLength) {
      this.#makeRoom(this.#end - this.#start + value.byteLength);
      this.#buf.set(value, this.#end);
      this.#end += value.byteLength;
      this.received += value.byteLength;
    }
  }

  /** Runs one read under the idle watchdog. */
  async #guarded<T>(read: Promise<T>): Promise<T> {
    this.#reading = true;
    this.#progressAt = Date.now();
    this.#armWatchdog();
    try {
      const result = await read;
      if (this.#timedOut) throw new IdleTimeout(this.#idleMs);
      this.#progressAt = Date.now();
      return result;
    } catch (err) {
      if (this.#timedOut) throw new IdleTimeout(this.#idleMs);
      throw err;
    } finally {
      this.#reading = false;
    }
  }

  /** One timer per stream, re-armed only when it fires: no timer churn per read. */
  #armWatchdog(): void {
    if (this.#watchdog !== null) return;
    const check = () => {
      this.#watchdog = null;
      if (this.#eof || this.#timedOut) return;
      if (!this.#reading) return; // re-armed by the next read
      const idleFor = Date.now() - this.#progressAt;
      if (idleFor >= this.#idleMs) {
        this.#timedOut = true;
        this.#onIdle();
        void (this.#byob ?? this.#plain)?.cancel(new IdleTimeout(this.#idleMs)).catch(() => undefined);
        return;
      }
      this.#watchdog = setTimeout(check, this.#idleMs - idleFor);
    };
    this.#watchdog = setTimeout(check, this.#idleMs);
  }

  #stopWatchdog(): void {
    if (this.#watchdog !== null) clearTimeout(this.#watchdog);
    this.#watchdog = null;
  }
}

export class IdleTimeout extends Error {
  constructor(ms: number) {
    super(`no bytes for ${ms} ms`);
    this.name = "IdleTimeout";
  }
}
