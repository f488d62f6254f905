import { PieceCidHasher } from "./piece-cid";

/**
 * How a DAG's CAR becomes Filecoin pieces, planned in one streaming pass
 * that also computes every piece CID (so the upload hands the SDK a known
 * piece CID and its own slow hasher never runs).
 *
 * A PDP piece holds at most `MAX_PIECE_BYTES` of payload (synapse-core
 * `SIZE_CONSTANTS.MAX_UPLOAD_SIZE`, 1 GiB × 127/128, the fr32 expansion
 * filling a 1 GiB padded piece). A larger DAG is split along its block
 * boundaries, never inside a block: piece 0 is the CAR's first bytes up to
 * a section boundary; every later piece is a CARv1 of its own, the same
 * header (root = the DAG root) followed by the next run of sections in the
 * CAR's DFS order. Each piece is thus a valid CAR a provider can index
 * (IPNI) and serve; together their blocks are the DAG, each block once.
 */
export const MAX_PIECE_BYTES = 1_065_353_216;
/** synapse-core `SIZE_CONSTANTS.MIN_UPLOAD_SIZE`: a provider refuses smaller uploads. */
export const MIN_PIECE_BYTES = 127;

export interface PlannedPiece {
  /** Byte range of the whole CAR this piece carries (sections only for pieces after the first). */
  from: number;
  to: number;
  /** Piece payload size: `to - from`, plus the header for pieces after the first. */
  size: number;
  pieceCid: string;
}

export interface PiecePlan {
  carSize: number;
  /** The CAR header (varint + dag-cbor), prefixed to every piece after the first. */
  header: Uint8Array;
  pieces: PlannedPiece[];
}

/** Reads the whole CAR stream once; bounded memory (one hasher, the header, a varint). */
export async function planPieces(car: ReadableStream<Uint8Array>, maxPieceBytes = MAX_PIECE_BYTES): Promise<PiecePlan> {
  const reader = car.getReader();
  let offset = 0; // bytes of the CAR consumed so far
  let state: "headerLen" | "header" | "sectionLen" | "section" = "headerLen";
  let varint: number[] = [];
  let remaining = 0; // bytes left of the current header or section body
  let headerLen = 0;
  const headerParts: Uint8Array[] = [];
  let header: Uint8Array = new Uint8Array(0);
  const pieces: PlannedPiece[] = [];
  let hasher = await PieceCidHasher.create();
  let pieceFrom = 0;
  let pieceSize = 0;
  let sectionsInPiece = 0;

  const finishPiece = (to: number) => {
    const size = pieceSize;
    pieces.push({ from: pieceFrom, to, size, pieceCid: hasher.digest().toString() });
  };

  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      let i = 0;
      while (i < value.length) {
        if (state === "headerLen" || state === "sectionLen") {
          const byte = value[i]!;
          varint.push(byte);
          i++;
          if (varint.length > 8) throw new Error("CAR: varint too long");
          if (byte & 0x80) continue;
          const length = decodeVarint(varint);
          const prefix = Uint8Array.from(varint);
          varint = [];
          if (state === "headerLen") {
            headerLen = prefix.length + length;
            headerParts.push(prefix);
            hasher.write(prefix);
            pieceSize += prefix.length;
            state = "header";
            remaining = length;
          } else {
            const sectionStart = offset + i - prefix.length;
            // Cut before this section when it would overflow the piece (never an empty piece).
            if (sectionsInPiece > 0 && pieceSize + prefix.length + length > maxPieceBytes) {
              finishPiece(sectionStart);
              hasher = await PieceCidHasher.create();
              pieceFrom = sectionStart;
              hasher.write(header);
              pieceSize = header.length;
              sectionsInPiece = 0;
            }
            if (header.length + prefix.length + length > maxPieceBytes) throw new Error("CAR: a block is larger than a piece");
            hasher.write(prefix);
            pieceSize += prefix.length;
            sectionsInPiece++;
            state = "section";
            remaining = length;
            if (remaining === 0) state = "sectionLen";
          }
          continue;
        }
        const take = Math.min(remaining, value.length - i);
        const part = value.subarray(i, i + take);
        hasher.write(part);
        pieceSize += take;
        if (state === "header") headerParts.push(part.slice());
        remaining -= take;
        i += take;
        if (remaining === 0) {
          if (state === "header") {
            header = concat(headerParts, headerLen);
          }
          state = "sectionLen";
        }
      }
      offset += value.length;
    }
    if (state !== "sectionLen" || varint.length > 0) throw new Error("CAR: truncated");
    if (sectionsInPiece === 0) throw new Error("CAR: no blocks");
    finishPiece(offset);
    return { carSize: offset, header, pieces };
  } catch (err) {
    hasher.abort();
    await reader.cancel().catch(() => undefined);
    throw err;
  }
}

/**
 * The bytes of one planned piece: the header (pieces after the first),
 * then the CAR from `from` to `to`, read from `car(from)` (the DAG's
 * resumable CAR) and cut at `to`.
 */
export function pieceStream(plan: PiecePlan, index: number, car: (fromByte: number) => ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const piece = plan.pieces[index]!;
  const source = car(piece.from).getReader();
  let left = piece.to - piece.from;
  let headerSent = index === 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!headerSent) {
        headerSent = true;
        controller.enqueue(plan.header.slice());
        return;
      }
      if (left === 0) {
        controller.close();
        await source.cancel().catch(() => undefined);
        return;
      }
      const { done, value } = await source.read();
      if (done) {
        controller.error(new Error(`CAR ended ${left} bytes before the end of piece ${index}`));
        return;
      }
      const part = value.length > left ? value.subarray(0, left) : value;
      left -= part.length;
      controller.enqueue(part);
    },
    async cancel(reason) {
      await source.cancel(reason);
    },
  });
}

function decodeVarint(bytes: number[]): number {
  let n = 0;
  let mul = 1;
  for (const b of bytes) {
    n += (b & 0x7f) * mul;
    mul *= 128;
  }
  return n;
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
