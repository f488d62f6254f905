/**
 * ReadAhead (src/gateway/tiers/read-ahead.ts): R2 reads along a UnixFS file
 * start ahead of the traversal once it walks in link order, and never when
 * it jumps (a Range at the end of a file reads only what it uses).
 */
import type { CID } from "multiformats/cid";
import { describe, expect, it } from "vitest";
import { READ_AHEAD_BLOCKS, ReadAhead } from "../../../src/gateway/tiers/read-ahead";
import { decodeNode } from "../../../src/gateway/dag/decode-node";
import { unixfsDag } from "../../pinning/helpers";
import { pseudoRandomBytes } from "../path/helpers";

async function twoLevelFile() {
  // 1 KiB chunks, at most 174 links per node: 400 leaves → a root over 3 internal nodes.
  const dag = await unixfsDag(pseudoRandomBytes(400 * 1024, 7), 1024);
  const byCid = new Map(dag.blocks.map((b) => [b.cid.toString(), b.bytes]));
  return { dag, byCid };
}

/** Drives a ReadAhead the way TieredBlockSource does; returns what it fetched by itself. */
function harness(byCid: Map<string, Uint8Array>) {
  const fetched: string[] = [];
  const ra = new ReadAhead(async (cid) => {
    fetched.push(cid.toString());
    return byCid.get(cid.toString());
  });
  return {
    fetched,
    async get(cid: CID): Promise<{ bytes: Uint8Array; ahead: boolean }> {
      const pending = ra.take(cid);
      const bytes = (pending ? await pending : undefined) ?? byCid.get(cid.toString())!;
      ra.refill();
      ra.delivered(cid, bytes);
      return { bytes, ahead: pending !== undefined };
    },
  };
}

function links(bytes: Uint8Array, cid: CID): CID[] {
  const node = decodeNode(cid, bytes);
  return node.kind === "dag-pb" ? node.node.Links.map((l) => l.Hash) : [];
}

describe("ReadAhead", () => {
  it("a sequential walk gets its blocks read ahead, at most READ_AHEAD_BLOCKS beyond the one asked", async () => {
    const { dag, byCid } = await twoLevelFile();
    const h = harness(byCid);
    const order: CID[] = [];
    const walk = async (cid: CID): Promise<void> => {
      order.push(cid);
      const { bytes } = await h.get(cid);
      for (const child of links(bytes, cid)) await walk(child);
    };
    await walk(dag.root);
    expect(order).toHaveLength(dag.blocks.length);
    // Everything after the first few blocks was read ahead, and no block was read twice or for nothing.
    expect(new Set(h.fetched).size).toBe(h.fetched.length);
    expect(h.fetched.length).toBeGreaterThan(dag.blocks.length - 5);
    expect(h.fetched.every((c) => order.some((o) => o.toString() === c))).toBe(true);
  });

  it("a jump to the last leaf (a Range at the end) reads nothing ahead", async () => {
    const { dag, byCid } = await twoLevelFile();
    const h = harness(byCid);
    const root = await h.get(dag.root);
    const lastInner = links(root.bytes, dag.root).at(-1)!;
    const inner = await h.get(lastInner);
    const lastLeaf = links(inner.bytes, lastInner).at(-1)!;
    const leaf = await h.get(lastLeaf);
    expect(leaf.ahead).toBe(false);
    expect(h.fetched).toEqual([]);
  });

  it("reads at most READ_AHEAD_BLOCKS ahead when the traversal is slow", async () => {
    const { dag, byCid } = await twoLevelFile();
    const h = harness(byCid);
    const root = await h.get(dag.root);
    const first = links(root.bytes, dag.root)[0]!;
    const inner = await h.get(first);
    await h.get(links(inner.bytes, first)[0]!);
    await new Promise((r) => setTimeout(r, 10));
    expect(h.fetched).toHaveLength(READ_AHEAD_BLOCKS);
    expect(h.fetched).toEqual(links(inner.bytes, first).slice(1, 1 + READ_AHEAD_BLOCKS).map(String));
  });
});
