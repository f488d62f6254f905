import { importer } from "ipfs-unixfs-importer";
import { fixedSize } from "ipfs-unixfs-importer/chunker";
import { describe, expect, it } from "vitest";
import { fixedChunks } from "../../src/uploads/fixed-chunks";
import { UnixfsFileBuilder } from "../../src/uploads/unixfs-file-builder";
import { pseudoRandomBytes } from "../pinning/helpers";

/** The CID the reference importer gives (cidVersion 1, raw leaves, balanced, fixed-size chunks). */
async function importerCid(bytes: Uint8Array, chunkSize: number): Promise<string> {
  const sink = { put: async (cid: unknown) => cid };
  let root = "";
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  for await (const entry of importer([{ content: bytes }], sink as any, { cidVersion: 1, rawLeaves: true, chunker: fixedSize({ chunkSize }) })) {
    root = entry.cid.toString();
  }
  return root;
}

async function builderCid(bytes: Uint8Array, chunkSize: number): Promise<{ cid: string; blocks: number }> {
  let blocks = 0;
  const builder = new UnixfsFileBuilder(async () => void blocks++);
  const stream = new Blob([bytes]).stream();
  for await (const chunk of fixedChunks(stream, chunkSize)) await builder.addChunk(chunk);
  const { root } = await builder.finish();
  return { cid: root.toString(), blocks };
}

describe("UnixfsFileBuilder gives the importer's CIDs", () => {
  // 16-byte chunks make the 174-wide levels cheap to cross: 174, 175, 174² and 174²+1 leaves.
  const cases: [string, number][] = [
    ["empty file", 0],
    ["one byte", 1],
    ["exactly one chunk", 16],
    ["one chunk and a byte", 17],
    ["173 chunks", 173 * 16],
    ["174 chunks (one full parent)", 174 * 16],
    ["175 chunks (second level)", 175 * 16 - 3],
    ["174² chunks", 174 * 174 * 16],
    ["174² + 1 chunks (third level)", 174 * 174 * 16 + 1],
  ];
  for (const [label, length] of cases) {
    it(`${label} (${length} bytes)`, async () => {
      const bytes = pseudoRandomBytes(length, length + 1);
      const mine = await builderCid(bytes, 16);
      expect(mine.cid).toBe(await importerCid(bytes, 16));
    });
  }

  it("1 MiB chunks as `ipfs add --cid-version=1 --raw-leaves --chunker=size-1048576`", async () => {
    const bytes = pseudoRandomBytes(3 * 1024 * 1024 + 12345, 99);
    const mine = await builderCid(bytes, 1024 * 1024);
    expect(mine.cid).toBe(await importerCid(bytes, 1024 * 1024));
    expect(mine.blocks).toBe(5); // 4 raw leaves + 1 parent
  });

  it("fixedChunks cuts exact sizes across arbitrary input pieces", async () => {
    const parts = [new Uint8Array(5).fill(1), new Uint8Array(0), new Uint8Array(12).fill(2), new Uint8Array(3).fill(3)];
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const p of parts) controller.enqueue(p);
        controller.close();
      },
    });
    const out: number[][] = [];
    for await (const chunk of fixedChunks(stream, 8)) out.push([...chunk]);
    expect(out).toEqual([
      [1, 1, 1, 1, 1, 2, 2, 2],
      [2, 2, 2, 2, 2, 2, 2, 2],
      [2, 3, 3, 3],
    ]);
  });
});
