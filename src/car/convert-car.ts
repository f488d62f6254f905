import type { FileHandle } from "node:fs/promises";
import { CARV2_HEADER_BYTES, encodeMultihashIndexSorted, encodeV2Header, type IndexEntry } from "./carv2";
import { carSections } from "./car-sections";
import type { OpenCar } from "./open-car";

const COPY_CHUNK = 1024 * 1024;

/** Copies `length` bytes of `from` at `start` to `to` at `at`, 1 MiB at a time. */
async function copyRange(from: FileHandle, start: number, length: number, to: FileHandle, at: number, onBytes?: (n: number) => void): Promise<void> {
  const buffer = new Uint8Array(Math.min(COPY_CHUNK, Math.max(1, length)));
  let done = 0;
  while (done < length) {
    const { bytesRead } = await from.read(buffer, 0, Math.min(buffer.length, length - done), start + done);
    if (bytesRead === 0) throw new Error(`the CAR ends ${length - done} bytes early`);
    await to.write(buffer, 0, bytesRead, at + done);
    done += bytesRead;
    onBytes?.(bytesRead);
  }
}

/**
 * CARv1 (or v2) → CARv2 with a MultihashIndexSorted index
 * (https://ipld.io/specs/transport/car/carv2/): the v1 payload copied as is
 * after the 51-byte pragma + header, then the index of every block's
 * section offset (identity CIDs left out, as go-car does). The payload's
 * length must be known, so the input must be a file. Memory: one index
 * entry per block.
 */
export async function convertToV2(car: OpenCar, out: FileHandle, onBytes?: (n: number) => void): Promise<{ dataSize: number; indexEntries: number; bytes: number }> {
  const entries: IndexEntry[] = [];
  let end = car.dataStart + car.sections.position; // after the header: a CAR may have no section
  for await (const s of carSections(car, { withData: false })) {
    end = s.dataOffset + s.dataLength;
    if (s.cid.multihash.code === 0x00) continue;
    entries.push({ code: s.cid.multihash.code, digest: s.cid.multihash.digest, offset: s.sectionOffset - car.dataStart });
  }
  const dataSize = end - car.dataStart;
  await copyRange(car.handle!, car.dataStart, dataSize, out, CARV2_HEADER_BYTES, onBytes);
  let at = CARV2_HEADER_BYTES + dataSize;
  const indexOffset = at;
  for (const part of encodeMultihashIndexSorted(entries)) {
    await out.write(part, 0, part.length, at);
    at += part.length;
  }
  await out.write(encodeV2Header({ characteristics: new Uint8Array(16), dataOffset: CARV2_HEADER_BYTES, dataSize, indexOffset }), 0, CARV2_HEADER_BYTES, 0);
  return { dataSize, indexEntries: entries.length, bytes: at };
}

/** CARv2 (or v1) → CARv1: the inner payload, up to its last section. */
export async function convertToV1(car: OpenCar, out: FileHandle, onBytes?: (n: number) => void): Promise<{ dataSize: number; bytes: number }> {
  let end = car.dataStart + car.sections.position;
  for await (const s of carSections(car, { withData: false })) end = s.dataOffset + s.dataLength;
  const dataSize = end - car.dataStart;
  await copyRange(car.handle!, car.dataStart, dataSize, out, 0, onBytes);
  return { dataSize, bytes: dataSize };
}
