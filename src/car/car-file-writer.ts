import type { FileHandle } from "node:fs/promises";
import { CID } from "multiformats/cid";
import * as Digest from "multiformats/hashes/digest";
import { carHeader, sectionPrefix } from "../gateway/car/car-encoder";
import { blockKey } from "../gateway/blocks/block";

/**
 * Writes a CARv1 to a file as blocks come, before the root is known: the
 * header is written with a placeholder root of the same byte length, then
 * rewritten in place once the root is known (as `ipfs-car pack -o` does).
 * Repeated blocks are written once.
 */
export class CarFileWriter {
  readonly #handle: FileHandle;
  readonly #seen = new Set<string>();
  readonly #headerLength: number;
  #position: number;
  blocks = 0;
  bytes = 0;

  private constructor(handle: FileHandle, placeholder: CID[]) {
    this.#handle = handle;
    this.#headerLength = carHeader(placeholder).length;
    this.#position = this.#headerLength;
  }

  /** `placeholder` must encode to the same length as the final roots (see `placeholderRoot`). */
  static async start(handle: FileHandle, placeholder: CID[]): Promise<CarFileWriter> {
    const writer = new CarFileWriter(handle, placeholder);
    await handle.write(carHeader(placeholder), 0, undefined, 0);
    return writer;
  }

  /** Bytes written so far (header included). */
  get position(): number {
    return this.#position;
  }

  async write(cid: CID, bytes: Uint8Array): Promise<void> {
    const key = blockKey(cid.multihash.bytes);
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    const prefix = sectionPrefix(cid, bytes.length);
    await this.#handle.writev([prefix, bytes], this.#position);
    this.#position += prefix.length + bytes.length;
    this.blocks++;
    this.bytes += bytes.length;
  }

  /** Rewrites the header with the real roots. */
  async finish(roots: CID[]): Promise<void> {
    const header = carHeader(roots);
    if (header.length !== this.#headerLength) throw new Error(`root header length ${header.length} differs from the placeholder's ${this.#headerLength}`);
    await this.#handle.write(header, 0, undefined, 0);
  }
}

/** A placeholder root as long as the real one will be: CIDv0, or CIDv1 dag-pb/raw with sha2-256 (36 bytes). */
export function placeholderRoot(version: 0 | 1): CID {
  const digest = Digest.create(0x12, new Uint8Array(32));
  return version === 0 ? CID.createV0(digest as Digest.Digest<0x12, number>) : CID.createV1(0x70, digest);
}
