import type { FileHandle } from "node:fs/promises";
import type { CID } from "multiformats/cid";
import "./read-at-least";
import { ByteReader } from "../gateway/car/byte-reader";
import { CarFormatError, CarSectionReader } from "../gateway/car/car-section-reader";
import { CarInputError, fileByteStream, openForRead, stdinByteStream } from "./file-stream";
import { CARV2_HEADER_BYTES, CARV2_PRAGMA, parseV2Header, type CarV2Header } from "./carv2";

/** A file never goes idle; the ByteReader watchdog is stopped by `close()`. */
const NO_IDLE_LIMIT = 2 ** 31 - 1;

/** An open CAR: its sections from the start of the CARv1 payload, and where that payload sits in the file. */
export interface OpenCar {
  path: string;
  version: 1 | 2;
  roots: CID[];
  sections: CarSectionReader;
  /** File offset of the CARv1 payload (0 for a CARv1, `dataOffset` for a CARv2). */
  dataStart: number;
  v2?: CarV2Header;
  /** The file, for random reads (undefined for stdin). */
  handle?: FileHandle;
  close(): Promise<void>;
}

/**
 * Opens a CAR file (or stdin for `-`) and reads its header. CARv2 files are
 * read through their CARv1 payload (https://ipld.io/specs/transport/car/carv2/);
 * a CARv2 on stdin is refused (its payload offset needs a seekable file).
 */
export async function openCar(path: string): Promise<OpenCar> {
  if (path === "-") {
    const sections = new CarSectionReader(new ByteReader(stdinByteStream(), NO_IDLE_LIMIT, () => undefined));
    const roots = await readHeader(sections, path);
    return { path, version: 1, roots, sections, dataStart: 0, close: () => sections.cancel() };
  }
  const handle = await openForRead(path);
  try {
    const first = new Uint8Array(CARV2_HEADER_BYTES);
    const { bytesRead } = await handle.read(first, 0, first.length, 0);
    let v2: CarV2Header | undefined;
    let start = 0;
    let end = Number.POSITIVE_INFINITY;
    if (bytesRead >= CARV2_PRAGMA.length && CARV2_PRAGMA.every((b, i) => first[i] === b)) {
      if (bytesRead < CARV2_HEADER_BYTES) throw new CarInputError(`${path}: CARv2 header truncated`);
      v2 = parseV2Header(first);
      start = v2.dataOffset;
      end = v2.dataOffset + v2.dataSize;
    }
    const sections = new CarSectionReader(new ByteReader(fileByteStream(handle, start, end), NO_IDLE_LIMIT, () => undefined));
    const roots = await readHeader(sections, path);
    return {
      path,
      version: v2 ? 2 : 1,
      roots,
      sections,
      dataStart: start,
      v2,
      handle,
      close: async () => {
        await sections.cancel();
        await handle.close();
      },
    };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** Opens a CAR arriving as a stream (an HTTP body); `idleMs` without a byte aborts it. */
export async function openCarStream(stream: ReadableStream<Uint8Array>, label: string, idleMs = 60_000): Promise<OpenCar> {
  const sections = new CarSectionReader(new ByteReader(stream, idleMs, () => void stream.cancel().catch(() => undefined)));
  try {
    const roots = await readHeader(sections, label);
    return { path: label, version: 1, roots, sections, dataStart: 0, close: () => sections.cancel() };
  } catch (err) {
    await sections.cancel();
    throw err;
  }
}

async function readHeader(sections: CarSectionReader, path: string): Promise<CID[]> {
  try {
    return await sections.readHeader();
  } catch (err) {
    if (err instanceof CarFormatError && path === "-" && err.message === "unsupported CAR version 2") {
      throw new CarInputError("-: a CARv2 cannot be read from stdin (its payload offset needs a seekable file): pass it as a file");
    }
    if (err instanceof CarFormatError) throw new CarInputError(`${path}: not a CAR: ${err.message}`);
    throw err;
  }
}
