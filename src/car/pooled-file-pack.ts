import type { FileHandle } from "node:fs/promises";
import * as UnixFS from "@ipld/unixfs";
import * as Balanced from "@ipld/unixfs/file/layout/balanced";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 } from "multiformats/hashes/sha2";

/** A UnixFS file link, as @ipld/unixfs makes them (file/writer.js encodeLeaf, encodeBranch). */
export interface FileLink {
  cid: CID;
  contentByteLength: number;
  dagByteLength: number;
}

/**
 * A fixed set of chunk buffers, handed out one at a time and given back once
 * their block has left the process. `acquire` waits while all are out: the
 * reader can never be more than `size` chunks ahead of the output, and no
 * chunk buffer is allocated after the first `size` (no per-chunk garbage
 * for the GC to catch up with).
 */
export class ChunkPool {
  readonly #free: Uint8Array[] = [];
  readonly #waiting: ((buffer: Uint8Array) => void)[] = [];
  readonly #owned = new Set<ArrayBufferLike>();

  constructor(size: number, chunkSize: number) {
    for (let i = 0; i < size; i++) {
      const buffer = new Uint8Array(chunkSize);
      this.#free.push(buffer);
      this.#owned.add(buffer.buffer);
    }
  }

  acquire(): Promise<Uint8Array> {
    const buffer = this.#free.pop();
    if (buffer) return Promise.resolve(buffer);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Gives back the buffer under `bytes` if it is one of this pool's (else nothing). */
  release(bytes: Uint8Array): void {
    if (!this.#owned.has(bytes.buffer)) return;
    const whole = new Uint8Array(bytes.buffer, 0, bytes.buffer.byteLength);
    const next = this.#waiting.shift();
    if (next) next(whole);
    else this.#free.push(whole);
  }
}

/**
 * Packs a regular file as UnixFS with raw leaves and CIDv1 (the default,
 * ipfs-car's), reading chunks into `pool` buffers and giving each leaf to
 * `write` as a raw block that points into its pool buffer (no copy): the
 * buffer returns to the pool when the block has been written out.
 * The tree shape is @ipld/unixfs's balanced layout itself (its `open`,
 * `write`, `close`), and branch nodes are encoded as its file writer does
 * (file/writer.js encodeBranch: advanced file layout, no metadata), so the
 * root CID is the one `UnixFS.createFileWriter` gives (tested against
 * ipfs-car in test/cli/car-create.test.ts).
 * `@ipld/unixfs`'s own file writer copies every chunk once more
 * (chunker BufferView → `asUint8Array`); that garbage, 1 MiB per chunk,
 * is what made `car create`'s peak RSS grow with the input.
 */
export async function packPooledRawFile(
  handle: FileHandle,
  chunkSize: number,
  maxLinks: number,
  pool: ChunkPool,
  write: (block: { cid: CID; bytes: Uint8Array }) => Promise<void>,
  onBytes?: (n: number) => void,
): Promise<FileLink> {
  const links = new Map<unknown, FileLink>();
  let layout = Balanced.withWidth(maxLinks).open();

  type Branch = { id: unknown; children: readonly unknown[] };
  const branches = async (nodes: readonly Branch[]) => {
    for (const node of nodes) {
      const parts = node.children.map((id) => {
        const link = links.get(id)!;
        links.delete(id);
        return link;
      });
      const bytes = UnixFS.encode({ type: UnixFS.NodeType.File, layout: "advanced", parts } as never);
      const cid = CID.createV1(UnixFS.code, await sha256.digest(bytes));
      let content = 0;
      let dag = bytes.byteLength;
      for (const p of parts) {
        content += p.contentByteLength;
        dag += p.dagByteLength;
      }
      links.set(node.id, { cid, contentByteLength: content, dagByteLength: dag });
      await write({ cid, bytes });
    }
  };

  for (;;) {
    const buffer = await pool.acquire();
    let filled = 0;
    try {
      while (filled < buffer.length) {
        const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, null);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
    } catch (err) {
      pool.release(buffer);
      throw err;
    }
    if (filled === 0) {
      pool.release(buffer);
      break;
    }
    onBytes?.(filled);
    const bytes = filled === buffer.length ? buffer : buffer.subarray(0, filled);
    const cid = CID.createV1(raw.code, await sha256.digest(bytes));
    // The layout only keeps what it is given as a leaf's content: give it the link, not the bytes.
    const link: FileLink = { cid, contentByteLength: filled, dagByteLength: filled };
    await write({ cid, bytes });
    const step = Balanced.write(layout, [link as never]);
    layout = step.layout;
    for (const leaf of step.leaves) links.set(leaf.id, leaf.content as unknown as FileLink);
    await branches(step.nodes as readonly Branch[]);
    if (filled < buffer.length) break;
  }

  const end = Balanced.close(layout, {} as never);
  await branches(end.nodes as readonly Branch[]);
  const root = end.root as { id: unknown; content?: unknown; children?: readonly unknown[] };
  if (root.children) {
    await branches([root as Branch]);
    return links.get(root.id)!;
  }
  if (root.content) return root.content as FileLink; // a single chunk: the leaf is the root
  // An empty file: the empty raw block.
  const empty = new Uint8Array(0);
  const cid = CID.createV1(raw.code, await sha256.digest(empty));
  await write({ cid, bytes: empty });
  return { cid, contentByteLength: 0, dagByteLength: 0 };
}
