import type { BufferPool } from "../blocks/buffer-pool";
import { ChunkStream } from "./chunk-stream";

/**
 * A response body written from an async generator one chunk (a block, or
 * the part of one a range needs) at a time, as `carBody` writes CARs: into
 * a ChunkStream (handlers/chunk-stream.ts: one chunk per runtime read, no
 * copy) whose readable side is the response. A write settles once the
 * runtime has moved past the chunk, and at most WRITES_IN_FLIGHT are pending, so
 * the next block is only fetched while the client takes the previous ones:
 * memory stays at a few blocks whatever the size of the file, listing or
 * archive, and no JavaScript runs per network chunk (docs/benchmarks.md:
 * a per-chunk stage costs an order of magnitude of throughput).
 *
 * With a `length`, the body has an expected length: Workers send
 * Content-Length only then (a header set on a plain stream is ignored),
 * and ChunkStream errors the response if fewer or more bytes come through
 * than promised, as a FixedLengthStream does. `done(true)` once the generator is exhausted;
 * `done(false)` when it throws (the body is errored: the client sees an
 * aborted transfer, never a short body passed off as complete) or when the
 * client goes away.
 *
 * `pool`: chunks whose buffer the pool issued go back to it once the
 * client's reader has moved past them and the copy (if any) has taken its
 * own (blocks/buffer-pool.ts). Only for generators
 * that yield each pooled buffer once and keep no reference to it.
 *
 * A second copy of the body (the edge cache's, cache/edge-cache.ts) can be
 * attached with `copyBody` before the first write; see there.
 */
export function pullBody(
  chunks: AsyncGenerator<Uint8Array>,
  done: (complete: boolean) => void,
  what: string,
  length?: number,
  pool?: BufferPool,
): ReadableStream<Uint8Array> {
  const pump = new BodyPump(chunks, done, what, length, pool);
  bodies.set(pump.readable, pump);
  return pump.readable;
}

/**
 * A second copy of a body made by `pullBody` that has not started writing,
 * or undefined (any other body, or too late). The copy may lag the client's
 * copy by at most `maxLag` chunks; further behind, it is errored (whoever
 * reads it sees a failed stream) and the client carries on alone: the copy
 * never paces the client. When the client's copy fails or is cancelled the
 * second copy is errored too, so it is complete exactly when it ends cleanly.
 */
export function copyBody(body: ReadableStream<Uint8Array>, maxLag: number): ReadableStream<Uint8Array> | undefined {
  return bodies.get(body)?.addCopy?.(maxLag);
}

/**
 * A copy of a body taken in memory as it is written (the edge cache's copy
 * of a CAR: cache/car-copy.ts). It sees every chunk just before the
 * client's stream gets it, synchronously: nothing is awaited for it, so it
 * never paces the client.
 */
export interface BodyTap {
  /**
   * The next chunk. Its buffer may be reused once the client's stream took
   * it (pooled blocks), so a tap copies what it keeps. `false`: the tap
   * gave up (and let go of what it held); it gets nothing more.
   */
  chunk(bytes: Uint8Array): boolean;
  /** The body ended normally: every chunk was written and the stream closed, so the tap saw the whole body. */
  end(): void;
  /** The body failed (an upstream no other could repair, a failed write) or the client went away: what the tap saw is not the body. */
  fail(): void;
}

/**
 * Attaches `tap` to a body written by `carBody` that has not started
 * writing; false for any other body, or too late (then the tap gets
 * nothing at all: never the tail of a body).
 */
export function tapBody(body: ReadableStream<Uint8Array>, tap: BodyTap): boolean {
  return bodies.get(body)?.addTap?.(tap) ?? false;
}

/**
 * Starts writing a `pullBody` or `carBody` body now (no-op for any other
 * body). The route calls it once it has decided whether to copy the body;
 * without it the body starts on the next timer tick by itself.
 */
export function startBody(body: ReadableStream<Uint8Array> | null): void {
  if (body) bodies.get(body)?.start();
}

/** What the route can do with a body before it starts writing. */
interface BodyControl {
  start(): void;
  addCopy?(maxLag: number): ReadableStream<Uint8Array> | undefined;
  addTap?(tap: BodyTap): boolean;
}

const bodies = new WeakMap<ReadableStream<Uint8Array>, BodyControl>();

/**
 * The start gate of a body written by a loop of its own (`carBody`): the
 * loop awaits `started` before its first write, so the route can attach a
 * tap first (`tapBody`), then `startBody`. Without the route, the body
 * starts on the next timer tick (as a `pullBody` body does).
 */
export class HeldBody implements BodyControl {
  readonly started: Promise<void>;
  #tap: BodyTap | undefined;
  #go!: () => void;
  #isStarted = false;

  constructor(readable: ReadableStream<Uint8Array>) {
    this.started = new Promise<void>((resolve) => (this.#go = resolve));
    bodies.set(readable, this);
    setTimeout(() => this.start(), 0);
  }

  /** The tap attached before the start, if any. */
  get tap(): BodyTap | undefined {
    return this.#tap;
  }

  start(): void {
    if (this.#isStarted) return;
    this.#isStarted = true;
    this.#go();
  }

  addTap(tap: BodyTap): boolean {
    if (this.#isStarted || this.#tap) return false;
    this.#tap = tap;
    return true;
  }
}

/** Block writes that may be in flight to the client at once: the next block is fetched and hashed while earlier ones are written. */
const WRITES_IN_FLIGHT = 2;

interface Sink {
  /** The client's copy is a ChunkStream (write settles true when the buffer may be reused); the edge cache's is the runtime's own stream (see addCopy). */
  writer: { write(bytes: Uint8Array): Promise<boolean | void>; close(): Promise<void>; abort(reason: unknown): Promise<void> };
  /** Writes not settled yet. */
  pending: number;
  failed: boolean;
}

class BodyPump implements BodyControl {
  readonly readable: ReadableStream<Uint8Array>;
  readonly #chunks: AsyncGenerator<Uint8Array>;
  readonly #done: (complete: boolean) => void;
  readonly #what: string;
  readonly #length: number | undefined;
  readonly #pool: BufferPool | undefined;
  readonly #main: Sink;
  readonly #inFlight: Promise<unknown>[] = [];
  #copy: (Sink & { maxLag: number }) | undefined;
  #started = false;

  constructor(chunks: AsyncGenerator<Uint8Array>, done: (complete: boolean) => void, what: string, length: number | undefined, pool: BufferPool | undefined) {
    this.#chunks = chunks;
    this.#done = done;
    this.#what = what;
    this.#length = length;
    this.#pool = pool;
    const stream = new ChunkStream(length);
    this.readable = stream.readable;
    this.#main = { writer: stream, pending: 0, failed: false };
    // The route starts it (startBody); this is the fallback for a body nobody starts.
    setTimeout(() => this.start(), 0);
  }

  addCopy(maxLag: number): ReadableStream<Uint8Array> | undefined {
    if (this.#started || this.#copy) return undefined;
    // The runtime's own stream, not a ChunkStream: workerd logs an "Uncaught (in promise)" whenever a JavaScript
    // stream it pumps into cache.put is errored, and the copy is errored each time a client goes away. Its write()
    // copies the bytes, so it never holds a pooled buffer.
    const stream = this.#length === undefined ? new IdentityTransformStream() : new FixedLengthStream(this.#length);
    this.#copy = { writer: stream.writable.getWriter(), pending: 0, failed: false, maxLag };
    return stream.readable;
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    void this.#run();
  }

  async #run(): Promise<void> {
    try {
      for (;;) {
        const next = await this.#chunks.next();
        if (next.done) break;
        if (next.value.length > 0) await this.#write(next.value);
      }
      await Promise.all(this.#inFlight);
      // Before the body ends: done() hands background work to waitUntil while the request is still open.
      this.#done(true);
      await this.#main.writer.close();
      const copy = this.#copy;
      if (copy && !copy.failed) await copy.writer.close().catch(() => undefined);
    } catch (err) {
      console.warn(`${this.#what} stream aborted:`, err instanceof Error ? err.message : String(err));
      this.#done(false);
      this.#failCopy(err);
      await Promise.allSettled(this.#inFlight);
      await this.#chunks.return(undefined).catch(() => undefined);
      await this.#main.writer.abort(err).catch(() => undefined);
    }
  }

  async #write(bytes: Uint8Array): Promise<void> {
    while (this.#inFlight.length >= WRITES_IN_FLIGHT) await this.#inFlight.shift();
    const main = this.#main.writer.write(bytes);
    // A failed write of the client's copy is seen when awaited (above, or in #run); this only keeps it from being reported as unhandled meanwhile.
    main.catch(() => undefined);
    // Only the client's write paces the loop: the copy's writes are counted, never awaited here.
    this.#inFlight.push(main);
    const writes: Promise<boolean | void>[] = [main];
    const copy = this.#copy;
    if (copy && !copy.failed) {
      if (copy.pending >= copy.maxLag) {
        this.#failCopy(new Error(`the copy fell more than ${copy.maxLag} chunks behind`));
      } else {
        copy.pending++;
        writes.push(
          copy.writer.write(bytes).then(
            (reusable) => {
              copy.pending--;
              return reusable;
            },
            (err: unknown) => {
              this.#failCopy(err);
              return undefined; // a failed copy holds nothing: its stream copies what it takes
            },
          ),
        );
      }
    }
    const pool = this.#pool;
    if (pool?.owns(bytes)) {
      // Back to the pool once the client's reader has moved past the chunk (ChunkStream: lent until its next read) and
      // the copy has taken its own copy; a failed client write, or a reader that may keep the chunk, leaves it to the GC.
      Promise.all(writes).then(
        (reusable) => {
          if (reusable.every((r) => r !== false)) pool.release(bytes);
        },
        () => undefined,
      );
    }
  }

  #failCopy(err: unknown): void {
    const copy = this.#copy;
    if (!copy || copy.failed) return;
    copy.failed = true;
    void copy.writer.abort(err).catch(() => undefined);
  }
}

/** Text chunks as UTF-8 bytes. */
export async function* utf8(parts: AsyncIterable<string>): AsyncGenerator<Uint8Array> {
  const enc = new TextEncoder();
  for await (const part of parts) yield enc.encode(part);
}
