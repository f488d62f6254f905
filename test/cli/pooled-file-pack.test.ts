/**
 * The pooled raw-leaf packer behind `car create` (src/car/pooled-file-pack.ts):
 * the same root and blocks as @ipld/unixfs's own file writer (the one
 * ipfs-car uses) at the sizes where the balanced layout changes shape, while
 * never holding more than its pool's buffers; and the pool itself.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import * as UnixFS from "@ipld/unixfs";
import { withMaxChunkSize } from "@ipld/unixfs/file/chunker/fixed";
import { withWidth } from "@ipld/unixfs/file/layout/balanced";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { afterAll, describe, expect, test } from "vitest";
import { ChunkPool } from "../../src/car/pooled-file-pack";
import { DEFAULT_PACK, packUnixfs } from "../../src/car/unixfs-pack";
import { pseudoRandom, removeTempDirs, tempDir } from "./fixtures";

afterAll(removeTempDirs);
const dir = tempDir();
const CHUNK = 16;
const WIDTH = 4;

/** Blocks in emission order, as "cid:hex", by @ipld/unixfs's file writer on the whole input. */
async function reference(bytes: Uint8Array): Promise<{ root: string; blocks: string[] }> {
  const settings = UnixFS.configure({ fileChunkEncoder: raw, smallFileEncoder: raw, chunker: withMaxChunkSize(CHUNK), fileLayout: withWidth(WIDTH) } as never);
  const { readable, writable } = new TransformStream<UnixFS.Block, UnixFS.Block>();
  const blocks: string[] = [];
  const drained = readable.pipeTo(new WritableStream({ write: (b) => void blocks.push(`${b.cid}:${Buffer.from(b.bytes).toString("hex")}`) }));
  const fs = UnixFS.createWriter({ writable, settings });
  const file = UnixFS.createFileWriter(fs);
  if (bytes.length > 0) await file.write(bytes.slice());
  const link = await file.close();
  await fs.close();
  await drained;
  return { root: link.cid.toString(), blocks };
}

async function pooled(bytes: Uint8Array): Promise<{ root: string; blocks: string[]; bufferSets: number }> {
  const path = join(dir, `in-${bytes.length}.bin`);
  writeFileSync(path, bytes);
  const blocks: string[] = [];
  const buffers = new Set<ArrayBufferLike>();
  const root = await packUnixfs(path, { ...DEFAULT_PACK, chunkSize: CHUNK, maxLinks: WIDTH }, async (cid, b) => {
    // A slow output: the reader must wait for it rather than read ahead.
    await new Promise((r) => setTimeout(r, 0));
    blocks.push(`${cid}:${Buffer.from(b).toString("hex")}`);
    if (cid.code === raw.code) buffers.add(b.buffer);
  });
  return { root: root.toString(), blocks, bufferSets: buffers.size };
}

describe("pooled raw-leaf file packing", () => {
  // Empty, one byte, one chunk, one chunk and a byte, a full node of leaves
  // and one more, two levels full and one more, with a short last chunk.
  const sizes = [0, 1, CHUNK, CHUNK + 1, WIDTH * CHUNK, WIDTH * CHUNK + 1, WIDTH * WIDTH * CHUNK, WIDTH * WIDTH * CHUNK + 1, 3 * WIDTH * WIDTH * CHUNK + 7];
  for (const size of sizes) {
    test(`${size} bytes: the same root and the same blocks as @ipld/unixfs's file writer, each block after the blocks it links to`, async () => {
      const bytes = pseudoRandom(size, size + 1);
      const want = await reference(bytes);
      const got = await pooled(bytes);
      expect(got.root).toBe(want.root);
      // The order differs from a whole-input write (the library encodes all its leaves concurrently), not the set.
      expect([...got.blocks].sort()).toEqual([...want.blocks].sort());
      expect(new Set(got.blocks).size).toBe(got.blocks.length);
      // Leaves first: a branch comes after every block it links to, the root last.
      const at = new Map(got.blocks.map((b, i) => [b.split(":")[0]!, i]));
      for (const [i, b] of got.blocks.entries()) {
        const hex = b.split(":")[1]!;
        for (const [cid, j] of at) if (j !== i && hex.includes(Buffer.from(CID.parse(cid).bytes).toString("hex"))) expect(j).toBeLessThan(i);
      }
      expect(got.blocks.at(-1)!.startsWith(got.root)).toBe(true);
    });
  }

  test("a 200-chunk file is read through 4 buffers, reused", async () => {
    const got = await pooled(pseudoRandom(200 * CHUNK, 7));
    expect(got.blocks.filter((b) => b.startsWith("bafk")).length).toBe(200);
    expect(got.bufferSets).toBe(4);
  });
});

describe("ChunkPool", () => {
  test("hands out its buffers, then waits for one to come back", async () => {
    const pool = new ChunkPool(2, 8);
    const a = await pool.acquire();
    const b = await pool.acquire();
    expect(a).not.toBe(b);
    let third: Uint8Array | undefined;
    const waiting = pool.acquire().then((x) => (third = x));
    await new Promise((r) => setTimeout(r, 5));
    expect(third).toBeUndefined();
    pool.release(new Uint8Array(8)); // not the pool's: ignored
    await new Promise((r) => setTimeout(r, 5));
    expect(third).toBeUndefined();
    pool.release(a.subarray(0, 3)); // a short last chunk gives back the whole buffer
    await waiting;
    expect(third!.buffer).toBe(a.buffer);
    expect(third!.byteLength).toBe(8);
  });
});
