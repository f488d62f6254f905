/**
 * The test upstream's block store: every block in memory, keyed by multihash
 * (so a CIDv0, its CIDv1 form and a raw CID of the same bytes find the same
 * block), plus optional getter callbacks for DAGs too big to hold (bench).
 * Identity CIDs are answered from the CID itself and never stored.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { CarBlockIterator } from "@ipld/car/iterator";
import { base32 } from "multiformats/bases/base32";
import type { CID } from "multiformats";

/** Multihash code of the identity hash (multicodec table: `identity` 0x00). */
export const IDENTITY_MULTIHASH = 0x00;

/** Gets a block by the CIDv1 base32 string of its CID; undefined when absent. */
export type BlockGetter = (cidV1: string, cid: CID) => Uint8Array | undefined;

export class MemoryBlockStore {
  readonly #blocks = new Map<string, Uint8Array>();
  readonly #sources: BlockGetter[] = [];

  static #key(cid: CID): string {
    return base32.encode(cid.multihash.bytes);
  }

  get size(): number {
    return this.#blocks.size;
  }

  put(cid: CID, bytes: Uint8Array): void {
    if (cid.multihash.code === IDENTITY_MULTIHASH) return;
    // A plain Uint8Array view, so no Node Buffer semantics leak out of the store.
    this.#blocks.set(MemoryBlockStore.#key(cid), new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }

  get(cid: CID): Uint8Array | undefined {
    if (cid.multihash.code === IDENTITY_MULTIHASH) return cid.multihash.digest;
    const stored = this.#blocks.get(MemoryBlockStore.#key(cid));
    if (stored) return stored;
    if (this.#sources.length === 0) return undefined;
    const v1 = cid.toV1().toString();
    for (const source of this.#sources) {
      const bytes = source(v1, cid);
      if (bytes) return bytes;
    }
    return undefined;
  }

  addSource(getter: BlockGetter): void {
    this.#sources.push(getter);
  }

  /** Adds every block of a CARv1; returns how many sections it had. */
  async putCar(bytes: Uint8Array): Promise<number> {
    const iterator = await CarBlockIterator.fromBytes(bytes);
    let count = 0;
    for await (const block of iterator) {
      this.put(block.cid as CID, block.bytes);
      count++;
    }
    return count;
  }

  /** Adds every block of every `*.car` under `dir` (recursively). */
  async loadCarFiles(dir: string): Promise<number> {
    const names = (await readdir(dir, { recursive: true })).filter((name) => name.endsWith(".car"));
    let count = 0;
    for (const name of names.sort()) count += await this.putCar(await readFile(join(dir, name)));
    return count;
  }
}
