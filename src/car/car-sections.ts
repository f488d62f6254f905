import type { CID } from "multiformats/cid";
import { CarFormatError } from "../gateway/car/car-section-reader";
import type { OpenCar } from "./open-car";

export interface Section {
  /** 1-based position in the CAR. */
  index: number;
  cid: CID;
  /** Multihash key (blockKey) of the CID. */
  key: string;
  /** File offset of the section's first byte (its length varint). */
  sectionOffset: number;
  /** File offset of the block data. */
  dataOffset: number;
  dataLength: number;
  /** The block bytes (unverified), unless read with `withData: false`. */
  bytes?: Uint8Array;
}

/** A CAR that breaks off or is malformed at a given section (the sections before it were yielded). */
export class CarSectionError extends Error {
  constructor(
    readonly section: number,
    readonly offset: number,
    message: string,
    readonly truncated: boolean,
  ) {
    super(message);
    this.name = "CarSectionError";
  }
}

export interface SectionOptions {
  /** Read each block's bytes (default true); a function decides per CID (e.g. skip raw leaves). */
  withData?: boolean | ((cid: CID) => boolean);
  /** Where block bytes are read into (a BufferPool's `acquire`). */
  allocate?: (n: number) => Uint8Array;
}

/**
 * The sections of an open CAR in order, one at a time (memory: one block).
 * `withData: false` skips the block bytes (roots, blocks listings).
 */
export async function* carSections(car: OpenCar, { withData = true, allocate }: SectionOptions = {}): AsyncGenerator<Section> {
  let index = 0;
  for (;;) {
    const sectionOffset = car.dataStart + car.sections.position;
    let head;
    try {
      head = await car.sections.peek();
      if (head === null) return;
      index++;
      const dataOffset = car.dataStart + car.sections.position;
      const section: Section = { index, cid: head.cid, key: head.key, sectionOffset, dataOffset, dataLength: head.dataLength };
      if (withData === true || (withData !== false && withData(head.cid))) section.bytes = await car.sections.readData(allocate);
      else await car.sections.skipData();
      yield section;
    } catch (err) {
      if (err instanceof CarFormatError) throw new CarSectionError(head ? index : index + 1, sectionOffset, err.message, err.truncated);
      throw err;
    }
  }
}
