import * as raw from "multiformats/codecs/raw";
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import { describe, expect, it } from "vitest";
import { ByteReader } from "../../../src/gateway/car/byte-reader";
import { CarFormatError, CarSectionReader } from "../../../src/gateway/car/car-section-reader";
import { carHeader, concat, sectionPrefix } from "../../../src/gateway/car/car-encoder";
import { encodeVarint } from "../../../src/gateway/car/varint";

async function rawBlock(text: string) {
  const bytes = new TextEncoder().encode(text);
  return { cid: CID.createV1(raw.code, await sha256.digest(bytes)), bytes };
}

/** A stream that delivers `bytes` in chunks of `chunk` bytes (to exercise reassembly). */
function streamOf(bytes: Uint8Array, chunk = 3): ReadableStream<Uint8Array> {
  let off = 0;
  return new ReadableStream({
    type: "bytes",
    pull(c) {
      if (off >= bytes.length) return c.close();
      c.enqueue(bytes.slice(off, off + chunk));
      off += chunk;
    },
  });
}

const reader = (bytes: Uint8Array, chunk?: number) => new CarSectionReader(new ByteReader(streamOf(bytes, chunk), 1000, () => undefined));

describe("CarSectionReader", () => {
  it("reads header and sections across tiny chunks", async () => {
    const a = await rawBlock("hello");
    const b = await rawBlock("world!!");
    const car = concat([carHeader([a.cid]), sectionPrefix(a.cid, a.bytes.length), a.bytes, sectionPrefix(b.cid, b.bytes.length), b.bytes]);
    const r = reader(car, 3);
    expect((await r.readHeader()).map(String)).toEqual([a.cid.toString()]);
    const h1 = await r.peek();
    expect(h1?.cid.toString()).toBe(a.cid.toString());
    expect(h1?.dataLength).toBe(5);
    expect(new TextDecoder().decode(await r.readData())).toBe("hello");
    await r.peek();
    await r.skipData();
    expect(await r.peek()).toBeNull();
    expect(r.bytesReceived).toBe(car.length);
  });

  it("fails on a section cut mid-block", async () => {
    const a = await rawBlock("hello world");
    const car = concat([carHeader([a.cid]), sectionPrefix(a.cid, a.bytes.length), a.bytes.slice(0, 4)]);
    const r = reader(car);
    await r.readHeader();
    await expect((async () => (await r.peek(), await r.readData()))()).rejects.toThrow("CAR section truncated");
  });

  it("refuses sections over the 2 MiB block limit before reading them", async () => {
    const a = await rawBlock("x");
    const car = concat([carHeader([a.cid]), encodeVarint(3 * 1024 * 1024), a.cid.bytes]);
    const r = reader(car, 64);
    await r.readHeader();
    await expect(r.peek()).rejects.toThrow(/exceeds the 2097152-byte block limit/);
  });

  it("refuses a header that is not a CARv1 header", async () => {
    const bogus = concat([encodeVarint(3), Uint8Array.from([0xa0, 0x00, 0x00])]);
    await expect(reader(bogus).readHeader()).rejects.toThrow(CarFormatError);
    await expect(reader(new Uint8Array()).readHeader()).rejects.toThrow("empty CAR stream");
  });
});
