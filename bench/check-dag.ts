/**
 * Checks that `synthetic-dag.ts` lays files out the way ipfs-unixfs-importer
 * does: the same bytes must give the same root CID. Run at the start of every
 * bench (small files, up to two levels of parents and a short last leaf, ~0.1 s).
 */
import { importer } from "ipfs-unixfs-importer";
import { fixedSize } from "ipfs-unixfs-importer/chunker";
import type { CID } from "multiformats/cid";
import { buildFile, leafBytes, MAX_CHILDREN } from "./synthetic-dag.ts";

/** A blockstore that only counts: the importer needs `put`, we need only the root. */
const discard = {
  put: async (cid: CID) => cid,
  get: async () => {
    throw new Error("not stored");
  },
  has: async () => false,
};

async function importerRoot(size: number, chunkSize: number, seed: number): Promise<CID> {
  const leafCount = Math.ceil(size / chunkSize);
  function* content(): Generator<Uint8Array> {
    for (let i = 0; i < leafCount; i++) yield leafBytes(seed, i, Math.min(chunkSize, size - i * chunkSize));
  }
  let root: CID | undefined;
  // ipfs-unixfs-importer's own defaults, except the chunk size.
  for await (const entry of importer([{ content: content() }], discard as never, { chunker: fixedSize({ chunkSize }) })) root = entry.cid as CID;
  if (!root) throw new Error("importer produced nothing");
  return root;
}

export async function checkLayoutAgainstImporter(): Promise<void> {
  const chunkSize = 1024;
  const cases = [
    { size: chunkSize - 7, chunkSize, seed: 1 }, // one leaf: the raw leaf is the root
    { size: 5 * chunkSize, chunkSize, seed: 2 }, // one parent
    { size: (2 * MAX_CHILDREN + 5) * chunkSize + 100, chunkSize, seed: 3 }, // two levels of parents (as the bench files), short last leaf
  ];
  for (const c of cases) {
    const ours = buildFile({ ...c, keepLeaves: false }).root;
    const theirs = await importerRoot(c.size, c.chunkSize, c.seed);
    if (!ours.equals(theirs)) {
      throw new Error(`synthetic DAG layout differs from ipfs-unixfs-importer for ${JSON.stringify(c)}: ${ours} != ${theirs}`);
    }
  }
}
