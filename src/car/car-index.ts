import type { CID } from "multiformats/cid";
import { blockKey } from "../gateway/blocks/block";
import { BufferPool } from "../gateway/blocks/buffer-pool";
import { RAW } from "../gateway/dag/codecs";
import { isIdentity } from "../gateway/blocks/verify-block";
import { BlockError, checkBlock, hashName } from "./check-block";
import { carSections } from "./car-sections";
import type { OpenCar } from "./open-car";

interface Location {
  dataOffset: number;
  dataLength: number;
}

/**
 * Random access to the blocks of a CAR file: one sequential pass records
 * where each block's data lies (about 100 bytes per block, never the data),
 * then `get` reads a block from the file and checks its hash before anyone
 * sees its bytes. What ls, extract and split walk the DAG with, in any
 * block order the CAR has.
 */
export class CarIndex {
  readonly #car: OpenCar;
  readonly #where = new Map<string, Location>();
  /** Raw leaves are read into pooled buffers; `release` gives one back once its bytes are written out. */
  readonly #pool = new BufferPool(4);
  /** Blocks read and checked through `get`. */
  verified = 0;
  bytesRead = 0;

  private constructor(car: OpenCar) {
    this.#car = car;
  }

  static async build(car: OpenCar, onSection?: (bytes: number) => void): Promise<CarIndex> {
    if (!car.handle) throw new Error("a CAR index needs a file");
    const index = new CarIndex(car);
    for await (const s of carSections(car, { withData: false })) {
      if (!index.#where.has(s.key)) index.#where.set(s.key, { dataOffset: s.dataOffset, dataLength: s.dataLength });
      onSection?.(s.dataOffset + s.dataLength);
    }
    return index;
  }

  get roots(): CID[] {
    return this.#car.roots;
  }

  has(cid: CID): boolean {
    return isIdentity(cid) || this.#where.has(blockKey(cid.multihash.bytes));
  }

  get size(): number {
    return this.#where.size;
  }

  /** The block's data and its length, without reading it (for planning). */
  locate(cid: CID): Location | undefined {
    return this.#where.get(blockKey(cid.multihash.bytes));
  }

  /** Gives back the buffer of a raw leaf from `get` once nothing reads it any more (no-op for other bytes). */
  release(bytes: Uint8Array): void {
    this.#pool.release(bytes);
  }

  /** The verified bytes of `cid`; BlockError if it is absent or does not hash to its CID. */
  async get(cid: CID): Promise<Uint8Array> {
    if (isIdentity(cid)) return cid.multihash.digest;
    const where = this.locate(cid);
    if (!where) throw new BlockError(cid, "missing", `block ${cid} is not in the CAR`);
    const bytes = cid.code === RAW ? this.#pool.adopt(this.#pool.acquire(where.dataLength)) : new Uint8Array(where.dataLength);
    const { bytesRead } = await this.#car.handle!.read(bytes, 0, bytes.length, where.dataOffset);
    if (bytesRead !== bytes.length) throw new BlockError(cid, "missing", `block ${cid} is cut short in the CAR`);
    const check = await checkBlock(cid, bytes);
    if (check === "mismatch") throw new BlockError(cid, "mismatch", `block ${cid} (at byte ${where.dataOffset}) does not hash to its CID`);
    if (check === "unsupported") throw new BlockError(cid, "unsupported-hash", `block ${cid}: cannot verify ${hashName(cid.multihash.code)} hashes`);
    this.verified++;
    this.bytesRead += bytes.length;
    return bytes;
  }
}
