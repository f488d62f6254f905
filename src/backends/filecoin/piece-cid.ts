import { CID } from "multiformats/cid";
import { create as createDigest } from "multiformats/hashes/digest";

/**
 * Piece CID (CommP) of a byte stream, as FRC-0069 "piece CID v2": a CIDv1,
 * codec raw (0x55), multihash `fr32-sha2-256-trunc254-padded-binary-tree`
 * (0x1011) whose digest is `[padding varint][tree height][32-byte root]`
 * (https://github.com/filecoin-project/FIPs/blob/master/FRCs/frc-0069.md).
 *
 * Why not the SDK's own hasher: `@filoz/synapse-core/piece` hashes in
 * JavaScript (`@web3-storage/data-segment`), about 1 MiB per CPU second in
 * workerd, so a 1 GiB piece would never fit a Worker's CPU limit. The same
 * function compiled to WebAssembly (`fr32-sha2-256-trunc254-padded-binary-
 * tree-multihash`, used by web3.storage in Workers) is imported as a module:
 * workerd forbids compiling WebAssembly at run time, and the package's
 * `wasm-import` entry `import`s its `.wasm`, which wrangler (and the vitest
 * pool) bundle as a precompiled `WebAssembly.Module`. It is loaded lazily
 * (dynamic `import()`): the gateway's cold start never pays for it.
 *
 * Memory: the hasher keeps one node per tree level (a few KiB); bytes are
 * written in the chunks the stream yields and dropped at once.
 */

/** Multicodec of the piece hash (FRC-0069). */
export const PIECE_HASH_CODE = 0x1011;
/** Multicodec `raw`: a piece CID v2 is a raw CID. */
const RAW_CODE = 0x55;
/** FRC-0069: a piece holds at least 65 bytes of payload (the smallest padded tree is 128 bytes). */
export const MIN_PIECE_PAYLOAD = 65;

type WasmHasherModule = typeof import("fr32-sha2-256-trunc254-padded-binary-tree-multihash/wasm-import");
type PieceHasher = ReturnType<WasmHasherModule["create"]>;

let wasmModule: Promise<WasmHasherModule> | undefined;

function loadHasher(): Promise<WasmHasherModule> {
  wasmModule ??= import("fr32-sha2-256-trunc254-padded-binary-tree-multihash/wasm-import");
  return wasmModule;
}

/** Incremental piece hasher: `write` chunks, then `digest()` once. */
export class PieceCidHasher {
  readonly #hasher: PieceHasher;
  #bytes = 0;
  #done = false;

  private constructor(hasher: PieceHasher) {
    this.#hasher = hasher;
  }

  static async create(): Promise<PieceCidHasher> {
    const mod = await loadHasher();
    return new PieceCidHasher(mod.create());
  }

  /** Bytes written so far. */
  get bytes(): number {
    return this.#bytes;
  }

  write(chunk: Uint8Array): void {
    if (this.#done) throw new Error("PieceCidHasher: write after digest");
    this.#hasher.write(chunk);
    this.#bytes += chunk.byteLength;
  }

  /** The piece CID of everything written; frees the hasher. Throws below the FRC-0069 minimum. */
  digest(): CID {
    if (this.#done) throw new Error("PieceCidHasher: digest called twice");
    this.#done = true;
    try {
      if (this.#bytes < MIN_PIECE_PAYLOAD) {
        throw new RangeError(`a piece needs at least ${MIN_PIECE_PAYLOAD} bytes, got ${this.#bytes}`);
      }
      const multihash = new Uint8Array(this.#hasher.multihashByteLength());
      this.#hasher.digestInto(multihash, 0, true);
      // multihash = [0x91 0x20 (varint 0x1011)][digest length][digest]
      const digest = multihash.subarray(3, 3 + multihash[2]!);
      return CID.createV1(RAW_CODE, createDigest(PIECE_HASH_CODE, digest));
    } finally {
      this.#hasher.free();
    }
  }

  /** Frees the hasher without a digest (an aborted upload). */
  abort(): void {
    if (this.#done) return;
    this.#done = true;
    this.#hasher.free();
  }
}

/** Read size for BYOB reads: per-chunk JavaScript costs dominate below ~1 MiB (FACTS.md). */
const READ_CHUNK = 1 << 20;

/**
 * Piece CID and byte length of a whole stream, read in 1 MiB chunks (BYOB
 * when the stream is a byte stream). Consumes the stream.
 */
export async function pieceCidOfStream(stream: ReadableStream<Uint8Array>): Promise<{ pieceCid: CID; size: number }> {
  const hasher = await PieceCidHasher.create();
  try {
    for await (const chunk of readChunks(stream)) hasher.write(chunk);
  } catch (err) {
    hasher.abort();
    throw err;
  }
  const size = hasher.bytes;
  return { pieceCid: hasher.digest(), size };
}

/**
 * A pass-through stream that hashes what flows through it; `pieceCid()`
 * resolves once the readable side has been read to its end (rejects if
 * the stream errored or was cancelled).
 */
export async function pieceCidTransform(): Promise<{
  stream: TransformStream<Uint8Array, Uint8Array>;
  result: Promise<{ pieceCid: CID; size: number }>;
}> {
  const hasher = await PieceCidHasher.create();
  let settle!: { resolve: (v: { pieceCid: CID; size: number }) => void; reject: (e: unknown) => void };
  const result = new Promise<{ pieceCid: CID; size: number }>((resolve, reject) => (settle = { resolve, reject }));
  // Nobody may be waiting yet: keep an unobserved rejection from being reported.
  result.catch(() => undefined);
  const stream = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      hasher.write(chunk);
      controller.enqueue(chunk);
    },
    flush() {
      try {
        const size = hasher.bytes;
        settle.resolve({ pieceCid: hasher.digest(), size });
      } catch (err) {
        settle.reject(err);
      }
    },
    cancel(reason) {
      hasher.abort();
      settle.reject(reason ?? new Error("piece stream cancelled"));
    },
  });
  return { stream, result };
}

/** Yields the stream's bytes in chunks of about READ_CHUNK (BYOB on byte streams). */
async function* readChunks(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  let byob: ReadableStreamBYOBReader | undefined;
  try {
    byob = stream.getReader({ mode: "byob" });
  } catch {
    byob = undefined;
  }
  if (!byob) {
    const reader = stream.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      reader.releaseLock();
    }
  }
  let buffer = new ArrayBuffer(READ_CHUNK);
  try {
    for (;;) {
      // readAtLeast is workerd's BYOB extension: fills at least n bytes unless the stream ends.
      const { done, value } = await byob.readAtLeast(READ_CHUNK, new Uint8Array(buffer));
      if (value && value.byteLength > 0) {
        yield value;
        buffer = value.buffer as ArrayBuffer;
      }
      if (done) return;
    }
  } finally {
    byob.releaseLock();
  }
}
