import * as dagPb from "@ipld/dag-pb";
import { UnixFS } from "ipfs-unixfs";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 } from "multiformats/hashes/sha2";

/** The importer's balanced-layout fan-out (ipfs-unixfs-importer `balanced`, `maxChildrenPerNode`). */
export const MAX_CHILDREN = 174;

type Node = { cid: CID; /** Tsize: the node's bytes plus all below it. */ size: number; /** UnixFS file bytes below it. */ fileSize: number };

export type EmitBlock = (cid: CID, bytes: Uint8Array) => Promise<void>;

/**
 * Builds a UnixFS file DAG as leaves arrive, the way `ipfs-unixfs-importer`
 * does with `cidVersion: 1, rawLeaves: true` and the balanced layout (what
 * Kubo's `ipfs add --cid-version=1 --raw-leaves` produces; not `ipfs-car
 * pack` past 174 leaves, which puts 1024 links per node):
 * leaves are raw blocks; every 174 consecutive nodes of a level get a
 * dag-pb parent (`Data` = UnixFS file with `blocksizes`, links unnamed with
 * Tsize); a file of one chunk is that raw leaf itself. Parents are built as
 * soon as a group fills, so only the open groups of each level stay in
 * memory (174 small entries per level), never the file.
 */
export class UnixfsFileBuilder {
  readonly #levels: Node[][] = [[]];
  readonly #emit: EmitBlock;
  #leaves = 0;

  constructor(emit: EmitBlock) {
    this.#emit = emit;
  }

  /** Adds the next chunk of the file as a raw leaf. */
  async addChunk(chunk: Uint8Array): Promise<void> {
    const cid = CID.createV1(raw.code, await sha256.digest(chunk));
    await this.#emit(cid, chunk);
    this.#leaves++;
    await this.#push(0, { cid, size: chunk.length, fileSize: chunk.length });
  }

  /** Closes the file; returns its root. An empty file is one empty raw leaf, as with the importer. */
  async finish(): Promise<{ root: CID; fileSize: number }> {
    if (this.#leaves === 0) await this.addChunk(new Uint8Array(0));
    for (let level = 0; level < this.#levels.length; level++) {
      const nodes = this.#levels[level]!;
      const top = this.#levels.slice(level + 1).every((l) => l.length === 0);
      if (top && nodes.length === 1) return { root: nodes[0]!.cid, fileSize: nodes[0]!.fileSize };
      if (nodes.length > 0) {
        this.#levels[level] = [];
        const parent = await this.#parent(nodes);
        (this.#levels[level + 1] ??= []).push(parent);
      }
    }
    throw new Error("unreachable: a level always ends with one root");
  }

  async #push(level: number, node: Node): Promise<void> {
    const nodes = (this.#levels[level] ??= []);
    nodes.push(node);
    if (nodes.length === MAX_CHILDREN) {
      this.#levels[level] = [];
      await this.#push(level + 1, await this.#parent(nodes));
    }
  }

  /** A dag-pb UnixFS `file` node over `children` (ipfs-unixfs-importer dag-builder/file.js `reduce`). */
  async #parent(children: Node[]): Promise<Node> {
    const data = new UnixFS({ type: "file" });
    const links: dagPb.PBLink[] = [];
    for (const child of children) {
      if (child.fileSize === 0) continue; // the importer drops empty children
      data.addBlockSize(BigInt(child.fileSize));
      links.push({ Name: "", Tsize: child.size, Hash: child.cid });
    }
    const bytes = dagPb.encode(dagPb.prepare({ Data: data.marshal(), Links: links }));
    const cid = CID.createV1(dagPb.code, await sha256.digest(bytes));
    await this.#emit(cid, bytes);
    const fileSize = children.reduce((n, c) => n + c.fileSize, 0);
    return { cid, size: bytes.length + links.reduce((n, l) => n + (l.Tsize ?? 0), 0), fileSize };
  }
}
