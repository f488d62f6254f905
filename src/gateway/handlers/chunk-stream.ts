/**
 * A response body written chunk by chunk from JavaScript, which the runtime
 * sends without copying it or cutting it up.
 *
 * Why not an IdentityTransformStream (what the CAR and file bodies used):
 * its `write()` copies the chunk (the writer cannot know the caller will
 * not change it), and the runtime pumps its readable side into the
 * response through a 64 KiB buffer (workerd `api/streams/internal.c++`
 * `pumpTo`): a second copy and one socket write per 64 KiB, sixteen per
 * 1 MiB block. A JavaScript ReadableStream returned as a body is pumped by
 * the runtime's `PumpToReader` (`api/streams/standard.c++`): one read per
 * chunk, the chunk written to the sink as it is (a view of its buffer, no
 * copy, no detach for a value stream), and the next read only once that
 * write is done. `cache.put` and service bindings consume a body the same
 * way; `arrayBuffer()`/`text()` detach each chunk's buffer (it is then
 * theirs). docs/benchmarks.md, figure 7, has what it saves.
 *
 * Lending. A chunk is lent to the consumer until its next read: `write()`
 * resolves `true` once the consumer asked for a later chunk (the runtime's
 * pumps are done with a chunk by then, so its buffer may be reused:
 * blocks/buffer-pool.ts), `false` when it must not be reused (see below),
 * and rejects when the body failed (a failed write: the buffer is left to
 * the GC). JavaScript that reads the stream itself (`getReader`, `tee`,
 * `pipeTo`, `pipeThrough`, `values`, async iteration) may keep chunks
 * longer (a `tee()` branch lags the other; a test collects chunks): calling
 * any of them switches the stream to handing chunks over, and `write()`
 * resolves `false` from then on. Nothing in this code base clones such a
 * response (`Response.clone()` tees inside the runtime, unseen here): a
 * body written with reused buffers must not be cloned.
 *
 * `write()` settling paces the producer: it has at most the chunks it keeps
 * in flight queued. `close()` ends the body; `abort(err)` errors it (the
 * client sees a failed transfer, never a short body). With `length`, the
 * runtime sends Content-Length (`expectedLength`, a workerd extension), and
 * chunks that do not add up to exactly `length` bytes error the body
 * instead of ending it, as a FixedLengthStream does.
 */
export class ChunkStream {
  readonly readable: ReadableStream<Uint8Array>;
  readonly #queue: { bytes: Uint8Array; settle: Settle }[] = [];
  /** Chunks the consumer has taken; settled at its next read (it has finished with them then). */
  #taken: Settle[] = [];
  #wake: (() => void) | undefined;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #lending = true;
  #closing = false;
  #failed: { reason: unknown } | undefined;
  #ended = false;
  readonly #length: number | undefined;
  #written = 0;

  constructor(length?: number) {
    this.#length = length;
    const source: UnderlyingSource<Uint8Array> = {
      start: (controller) => {
        this.#controller = controller;
      },
      pull: (controller) => this.#pull(controller),
      cancel: (reason: unknown) => this.#fail(reason ?? new Error("the body's reader cancelled it")),
    };
    if (length !== undefined) source.expectedLength = length;
    // highWaterMark 0: a chunk leaves the queue only when the consumer reads.
    this.readable = new ReadableStream(source, { highWaterMark: 0 });
    handOverOnJsRead(this.readable, () => (this.#lending = false));
  }

  /** Whether chunks are still lent (their buffers reusable once `write()` resolves true). */
  get lending(): boolean {
    return this.#lending;
  }

  /** Queues `bytes`; resolves once the consumer moved past it (true: its buffer may be reused), rejects if the body failed. */
  write(bytes: Uint8Array): Promise<boolean> {
    if (this.#failed) return Promise.reject(this.#failed.reason);
    if (this.#closing) return Promise.reject(new TypeError("write after close"));
    this.#written += bytes.length;
    if (this.#length !== undefined && this.#written > this.#length) {
      const err = new RangeError(`body of more than the ${this.#length} bytes promised`);
      void this.abort(err);
      return Promise.reject(err);
    }
    return new Promise<boolean>((resolve, reject) => {
      this.#queue.push({ bytes, settle: { resolve, reject } });
      this.#wakeUp();
    });
  }

  /** Ends the body once the queued chunks are taken; rejects (and errors the body) if it is short of `length`. */
  close(): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed.reason);
    if (this.#length !== undefined && this.#written !== this.#length) {
      const err = new RangeError(`body of ${this.#written} bytes where ${this.#length} were promised`);
      void this.abort(err);
      return Promise.reject(err);
    }
    this.#closing = true;
    this.#wakeUp();
    return Promise.resolve();
  }

  /** Errors the body: the consumer's next read fails, writes not settled yet reject. */
  abort(reason: unknown): Promise<void> {
    if (!this.#failed && !this.#ended) {
      this.#fail(reason);
      try {
        this.#controller.error(reason);
      } catch {
        // already closed or errored
      }
    }
    return Promise.resolve();
  }

  async #pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    // The consumer reads again: it is done with what it took before.
    for (const s of this.#taken) s.resolve(this.#lending);
    this.#taken = [];
    while (this.#queue.length === 0 && !this.#closing && !this.#failed) {
      await new Promise<void>((wake) => (this.#wake = wake));
    }
    if (this.#failed) return;
    const next = this.#queue.shift();
    if (next) {
      this.#taken.push(next.settle);
      controller.enqueue(next.bytes);
      return;
    }
    this.#ended = true;
    controller.close();
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #fail(reason: unknown): void {
    if (this.#failed) return;
    this.#failed = { reason };
    for (const s of this.#taken) s.reject(reason);
    this.#taken = [];
    for (const q of this.#queue.splice(0)) q.settle.reject(reason);
    this.#wakeUp();
  }
}

interface Settle {
  resolve: (reusable: boolean) => void;
  reject: (err: unknown) => void;
}

/** The ways JavaScript reads a stream itself: each one first calls `onJsRead`. */
const JS_READS = ["getReader", "tee", "pipeTo", "pipeThrough", "values", Symbol.asyncIterator] as const;

function handOverOnJsRead(stream: ReadableStream<Uint8Array>, onJsRead: () => void): void {
  for (const name of JS_READS) {
    const original = (stream as unknown as Record<PropertyKey, unknown>)[name];
    if (typeof original !== "function") continue;
    Object.defineProperty(stream, name, {
      configurable: true,
      writable: true,
      value(this: ReadableStream<Uint8Array>, ...args: unknown[]) {
        onJsRead();
        return (original as (...a: unknown[]) => unknown).apply(this, args);
      },
    });
  }
}
