import { base32 } from "multiformats/bases/base32";
import type { CID } from "multiformats/cid";
import type { BlockStore } from "./block-store";

/**
 * The R2 key of a block: `blocks/<multihash, base32 lowercase multibase>`
 * (e.g. `blocks/bciqd...`). Keyed by multihash, not CID, so one set of bytes
 * is stored once whatever codec or CID version names it. Fixed layout, read
 * by the gateway's R2 tier too (docs/storage.md).
 */
export function blockKey(cid: CID): string {
  return `blocks/${base32.encode(cid.multihash.bytes)}`;
}

/**
 * `BlockStore` over the `BLOCKS` R2 bucket. Follows the contract of
 * `block-store.ts`: absent blocks are `undefined`/`false`, `put` trusts its
 * caller to have verified the bytes.
 */
export class R2BlockStore implements BlockStore {
  readonly #bucket: R2Bucket;

  constructor(bucket: R2Bucket) {
    this.#bucket = bucket;
  }

  async get(cid: CID): Promise<Uint8Array | undefined> {
    const object = await this.#bucket.get(blockKey(cid));
    if (object === null) return undefined;
    return new Uint8Array(await object.arrayBuffer());
  }

  async has(cid: CID): Promise<boolean> {
    return (await this.#bucket.head(blockKey(cid))) !== null;
  }

  /** Size in bytes of a stored block (an R2 HEAD, no body), or undefined when absent. */
  async sizeOf(cid: CID): Promise<number | undefined> {
    return (await this.#bucket.head(blockKey(cid)))?.size;
  }

  async put(cid: CID, bytes: Uint8Array): Promise<void> {
    // R2 needs a known length: a Uint8Array gives it (a stream would not).
    await this.#bucket.put(blockKey(cid), bytes);
  }

  async delete(cid: CID): Promise<void> {
    await this.#bucket.delete(blockKey(cid));
  }
}
