/**
 * carBody (src/gateway/handlers/car-stream.ts) writes one chunk per CAR
 * section: the header rides with the first section, a pooled block gets
 * its prefix in the pool's headroom before it, a small unpooled block is
 * copied behind its prefix, a large unpooled one follows its prefix. The
 * bytes are always the CARv1 an independent encoder makes, and pooled
 * buffers go back to the pool once written. A TransformStream stands in for
 * the response's IdentityTransformStream: it keeps every write one chunk
 * (the runtime's stream re-cuts them), so the chunks are the writes.
 */
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import { describe, expect, it } from "vitest";
import { BufferPool } from "../../../src/gateway/blocks/buffer-pool";
import type { VerifiedBlock } from "../../../src/gateway/blocks/block";
import { concat, SECTION_PREFIX_ROOM } from "../../../src/gateway/car/car-encoder";
import { carBody } from "../../../src/gateway/handlers/car-stream";
import { encodeCar } from "../../servers/car-encode";
import { pseudoRandomBytes } from "../../helpers/pseudo-random";

const RAW = 0x55;

async function block(bytes: Uint8Array, code = RAW): Promise<VerifiedBlock> {
  return { cid: CID.createV1(code, await sha256.digest(bytes)), bytes };
}

/** A block read into a pool buffer, as the upstream session does for raw leaves. */
async function pooled(pool: BufferPool, bytes: Uint8Array): Promise<VerifiedBlock> {
  const view = pool.adopt(pool.acquire(bytes.length));
  view.set(bytes);
  return block(view);
}

async function readChunks(stream: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return chunks;
    chunks.push(new Uint8Array(value));
  }
}


describe("carBody", () => {
  it("one chunk per section, the header with the first, pooled prefixes in the headroom; exact CARv1 bytes; buffers back in the pool", async () => {
    const pool = new BufferPool(4, SECTION_PREFIX_ROOM);
    const root = await block(pseudoRandomBytes(300, 1), 0x70); // a small node outside the pool
    const leaves = [await pooled(pool, pseudoRandomBytes(20_000, 2)), await pooled(pool, pseudoRandomBytes(20_000, 3)), await pooled(pool, pseudoRandomBytes(7, 4))];
    const buffers = leaves.map((l) => l.bytes.buffer);
    const expected = encodeCar([root.cid], [root, ...leaves].map((b) => ({ cid: b.cid, bytes: new Uint8Array(b.bytes) })));
    let completed: boolean | undefined;
    async function* blocks(): AsyncGenerator<VerifiedBlock> {
      yield root;
      yield* leaves;
    }
    const chunks = await readChunks(carBody(root.cid, blocks(), false, (ok) => (completed = ok), pool, new TransformStream()));
    expect(chunks).toHaveLength(4);
    expect(concat(chunks)).toEqual(expected);
    expect(completed).toBe(true);
    // Every leaf buffer was given back once written: the pool hands them out again.
    const again = [pool.acquire(20_000), pool.acquire(20_000), pool.acquire(7)].map((v) => v.buffer);
    expect(new Set(again)).toEqual(new Set(buffers));
  });

  it("a large block outside the pool follows its own prefix (two chunks); a repeated block goes out once (dups=n)", async () => {
    const big = await block(pseudoRandomBytes(40_000, 5));
    const small = await block(pseudoRandomBytes(10, 6));
    async function* blocks(): AsyncGenerator<VerifiedBlock> {
      yield big;
      yield small;
      yield big;
    }
    const chunks = await readChunks(carBody(big.cid, blocks(), false, () => undefined, undefined, new TransformStream()));
    // header + prefix, the big block, the small section
    expect(chunks.map((c) => c.length)).toEqual([expected(big.cid, []).length + prefixLength(big), 40_000, prefixLength(small) + 10]);
    expect(concat(chunks)).toEqual(encodeCar([big.cid], [big, small]));
  });
});

function expected(root: CID, blocks: VerifiedBlock[]): Uint8Array {
  return encodeCar([root], blocks);
}

/** Section bytes before the data: varint(cid + data length) and the CID. */
function prefixLength(b: VerifiedBlock): number {
  const n = b.cid.bytes.length + b.bytes.length;
  let varint = 1;
  for (let v = n; v >= 0x80; v = Math.floor(v / 128)) varint++;
  return varint + b.cid.bytes.length;
}
