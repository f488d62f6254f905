import { CarInputError } from "./file-stream";

/**
 * CARv2 (https://ipld.io/specs/transport/car/carv2/): an 11-byte pragma,
 * a 40-byte header (characteristics, data offset, data size, index offset;
 * little-endian uint64s), the CARv1 payload, then an index.
 */
export const CARV2_PRAGMA = Uint8Array.from([0x0a, 0xa1, 0x67, 0x76, 0x65, 0x72, 0x73, 0x69, 0x6f, 0x6e, 0x02]);
export const CARV2_HEADER_BYTES = CARV2_PRAGMA.length + 40;
/** Multicodec of the index go-car writes by default (MultihashIndexSorted). */
export const MULTIHASH_INDEX_SORTED = 0x0401;

export interface CarV2Header {
  /** 128-bit characteristics bitfield; bit 0 (first byte's high bit) = fully indexed. */
  characteristics: Uint8Array;
  dataOffset: number;
  dataSize: number;
  /** 0 when there is no index. */
  indexOffset: number;
}

export function parseV2Header(bytes: Uint8Array): CarV2Header {
  const view = new DataView(bytes.buffer, bytes.byteOffset + CARV2_PRAGMA.length, 40);
  const header = {
    characteristics: bytes.slice(CARV2_PRAGMA.length, CARV2_PRAGMA.length + 16),
    dataOffset: Number(view.getBigUint64(16, true)),
    dataSize: Number(view.getBigUint64(24, true)),
    indexOffset: Number(view.getBigUint64(32, true)),
  };
  if (header.dataOffset < CARV2_HEADER_BYTES) throw new CarInputError(`CARv2 data offset ${header.dataOffset} lies inside its header`);
  return header;
}

export function encodeV2Header(h: CarV2Header): Uint8Array {
  const out = new Uint8Array(CARV2_HEADER_BYTES);
  out.set(CARV2_PRAGMA, 0);
  out.set(h.characteristics.subarray(0, 16), CARV2_PRAGMA.length);
  const view = new DataView(out.buffer, CARV2_PRAGMA.length, 40);
  view.setBigUint64(16, BigInt(h.dataOffset), true);
  view.setBigUint64(24, BigInt(h.dataSize), true);
  view.setBigUint64(32, BigInt(h.indexOffset), true);
  return out;
}

export interface IndexEntry {
  /** Multihash function code. */
  code: number;
  digest: Uint8Array;
  /** Offset of the section (its length varint) from the start of the CARv1 payload. */
  offset: number;
}

/**
 * MultihashIndexSorted (0x0401), as go-car writes it: varint codec, int32
 * count of hash codes, then per code (ascending) a uint64 code and an
 * IndexSorted: int32 count of widths, then per width (ascending) uint32
 * width (digest length + 8), int64 byte length, and the entries
 * `digest | uint64 offset` sorted by digest. Little-endian throughout.
 */
export function encodeMultihashIndexSorted(entries: IndexEntry[]): Uint8Array[] {
  const byCode = new Map<number, Map<number, IndexEntry[]>>();
  for (const e of entries) {
    const widths = byCode.get(e.code) ?? byCode.set(e.code, new Map()).get(e.code)!;
    const list = widths.get(e.digest.length + 8) ?? widths.set(e.digest.length + 8, []).get(e.digest.length + 8)!;
    list.push(e);
  }
  const parts: Uint8Array[] = [Uint8Array.from([0x81, 0x08]), int32(byCode.size)];
  for (const code of [...byCode.keys()].sort((a, b) => a - b)) {
    const widths = byCode.get(code)!;
    const head = new Uint8Array(8);
    new DataView(head.buffer).setBigUint64(0, BigInt(code), true);
    parts.push(head, int32(widths.size));
    for (const width of [...widths.keys()].sort((a, b) => a - b)) {
      const list = widths.get(width)!.sort((a, b) => compareBytes(a.digest, b.digest));
      const bucket = new Uint8Array(12 + list.length * width);
      const view = new DataView(bucket.buffer);
      view.setUint32(0, width, true);
      view.setBigInt64(4, BigInt(list.length * width), true);
      let at = 12;
      for (const e of list) {
        bucket.set(e.digest, at);
        view.setBigUint64(at + width - 8, BigInt(e.offset), true);
        at += width;
      }
      parts.push(bucket);
    }
  }
  return parts;
}

function int32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setInt32(0, n, true);
  return out;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
