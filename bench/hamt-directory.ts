/**
 * A UnixFS directory of `entries` small files, built with
 * ipfs-unixfs-importer 17 (its defaults: CIDv1, raw leaves, HAMT sharding
 * above 256 KiB of directory links), so 10,000 entries give a HAMT-sharded
 * directory as Kubo would make it. Every block is kept in memory (~1.5 MB).
 */
import { importer } from "ipfs-unixfs-importer";
import type { CID } from "multiformats/cid";

export interface HamtDirectory {
  root: CID;
  entries: number;
  /** Every block by CID. */
  blocks: { cid: CID; bytes: Uint8Array }[];
  /** dag-pb blocks (the shards) among them. */
  shards: number;
}

export async function buildHamtDirectory(entries: number): Promise<HamtDirectory> {
  const blocks = new Map<string, { cid: CID; bytes: Uint8Array }>();
  const store = {
    put: async (cid: CID, bytes: Uint8Array) => {
      blocks.set(cid.toString(), { cid, bytes });
      return cid;
    },
  };
  const enc = new TextEncoder();
  function* files() {
    for (let i = 0; i < entries; i++) yield { path: `file-${String(i).padStart(5, "0")}.txt`, content: enc.encode(`entry ${i}\n`) };
  }
  let root: CID | undefined;
  for await (const entry of importer(files(), store as never, { wrapWithDirectory: true })) root = entry.cid as CID;
  if (!root) throw new Error("importer produced nothing");
  const all = [...blocks.values()];
  return { root, entries, blocks: all, shards: all.filter((b) => b.cid.code === 0x70).length };
}
