import * as dagCbor from "@ipld/dag-cbor";
import { CID } from "multiformats/cid";
import { MAX_BLOCK_BYTES, blockKey } from "../blocks/block";
import { ByteReader } from "./byte-reader";
import { decodeVarint } from "./varint";

/** Something wrong with the CAR bytes themselves (the upstream lied or broke). */
export class CarFormatError extends Error {
  /** A stream that simply ended too soon is a failure, not a lie. */
  readonly truncated: boolean;

  constructor(message: string, truncated = false) {
    super(message);
    this.name = "CarFormatError";
    this.truncated = truncated;
  }
}

export interface SectionHead {
  cid: CID;
  /** blockKey() of the section's multihash. */
  key: string;
  /** Length of the block data that follows. */
  dataLength: number;
}

const MAX_HEADER_BYTES = 64 * 1024;
const MAX_CID_BYTES = 128;

/**
 * Streaming CARv1 reader (https://ipld.io/specs/transport/car/carv1/):
 * `varint(len) | dag-cbor header`, then sections `varint(len) | CID | data`.
 * It only parses; hashing is the caller's job, so that it can compare a
 * section with the block the traversal expects *before* reading its data.
 */
export class CarSectionReader {
  readonly #in: ByteReader;
  #head: SectionHead | null | undefined;

  constructor(input: ByteReader) {
    this.#in = input;
  }

  get bytesReceived(): number {
    return this.#in.received;
  }

  /** Bytes of the stream consumed so far: after `peek()`, where the section's data starts. */
  get position(): number {
    return this.#in.received - this.#in.available;
  }

  /** Reads and checks the CARv1 header; returns its roots. */
  async readHeader(): Promise<CID[]> {
    const len = await this.#varint();
    if (len === undefined) throw new CarFormatError("empty CAR stream");
    if (len === 0 || len > MAX_HEADER_BYTES) throw new CarFormatError(`bad CAR header length ${len}`);
    if (!(await this.#in.fill(len))) throw new CarFormatError("CAR header truncated", true);
    let header: unknown;
    try {
      header = dagCbor.decode(this.#in.take(len));
    } catch {
      throw new CarFormatError("CAR header is not valid dag-cbor");
    }
    const h = header as { version?: unknown; roots?: unknown };
    if (h.version !== 1) throw new CarFormatError(`unsupported CAR version ${String(h.version)}`);
    const roots = Array.isArray(h.roots) ? h.roots : [];
    return roots.filter((r): r is CID => r instanceof CID || CID.asCID(r) !== null).map((r) => CID.asCID(r)!);
  }

  /** The next section's CID and size without consuming its data; null at a clean end of stream. */
  async peek(): Promise<SectionHead | null> {
    if (this.#head !== undefined) return this.#head;
    const len = await this.#varint();
    if (len === undefined) return (this.#head = null);
    if (len > MAX_BLOCK_BYTES + MAX_CID_BYTES) throw new CarFormatError(`section of ${len} bytes exceeds the ${MAX_BLOCK_BYTES}-byte block limit`);
    if (!(await this.#in.fill(Math.min(len, MAX_CID_BYTES)))) throw new CarFormatError("CAR section truncated", true);
    const view = this.#in.view();
    const cidLength = cidByteLength(view, Math.min(len, view.length));
    if (cidLength === undefined || cidLength > len) throw new CarFormatError("CAR section has no valid CID");
    let cid: CID;
    try {
      cid = CID.decode(view.slice(0, cidLength));
    } catch {
      throw new CarFormatError("CAR section has no valid CID");
    }
    this.#in.consume(cidLength);
    return (this.#head = { cid, key: blockKey(cid.multihash.bytes), dataLength: len - cidLength });
  }

  /** Reads the data of the peeked section, into a buffer from `allocate` when given. */
  async readData(allocate?: (n: number) => Uint8Array): Promise<Uint8Array> {
    const head = await this.peek();
    if (!head) throw new CarFormatError("no section to read");
    const data = await this.#in.readExactly(head.dataLength, allocate);
    if (!data) throw new CarFormatError("CAR section truncated", true);
    this.#head = undefined;
    return data;
  }

  /** Discards the data of the peeked section. */
  async skipData(): Promise<void> {
    const head = await this.peek();
    if (!head) return;
    let left = head.dataLength;
    while (left > 0) {
      if (!(await this.#in.fill(1, left))) throw new CarFormatError("CAR section truncated", true);
      const n = Math.min(left, this.#in.available);
      this.#in.consume(n);
      left -= n;
    }
    this.#head = undefined;
  }

  cancel(reason?: unknown): Promise<void> {
    return this.#in.cancel(reason);
  }

  async #varint(): Promise<number | undefined> {
    for (;;) {
      const view = this.#in.view();
      const decoded = decodeVarint(view, 0);
      if (decoded) {
        this.#in.consume(decoded[1]);
        return decoded[0];
      }
      if (view.length >= 9) throw new CarFormatError("invalid varint");
      if (!(await this.#in.fill(view.length + 1, 64))) {
        if (this.#in.available === 0) return undefined;
        throw new CarFormatError("truncated varint", true);
      }
    }
  }
}

/** Byte length of the CID at the start of `bytes` (v0: a bare sha2-256 multihash; v1: version, codec, multihash). */
function cidByteLength(bytes: Uint8Array, limit: number): number | undefined {
  if (limit >= 2 && bytes[0] === 0x12 && bytes[1] === 0x20) return 34;
  let off = 0;
  for (let i = 0; i < 3; i++) {
    const v = decodeVarint(bytes.subarray(0, limit), off);
    if (!v) return undefined;
    off += v[1];
  }
  const digestLength = decodeVarint(bytes.subarray(0, limit), off);
  if (!digestLength) return undefined;
  return off + digestLength[1] + digestLength[0];
}
