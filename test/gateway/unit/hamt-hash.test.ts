import { describe, expect, it } from "vitest";
import { hamtHash, hashBits } from "../../../src/gateway/dag/hamt";

describe("HAMT name hashing (UnixFS spec: murmur3-x64-64, MSB first)", () => {
  // The conformance fixture single-layer-hamt-with-multi-block-files.car keeps
  // 1.txt under sub-shard "07" and 685.txt under sub-shard "FD" (fanout 256).
  it("puts 1.txt in bucket 0x07 and 685.txt in bucket 0xFD", async () => {
    expect(hashBits(await hamtHash("1.txt"), 0, 8)).toBe(0x07);
    expect(hashBits(await hamtHash("685.txt"), 0, 8)).toBe(0xfd);
  });

  it("reads bits across byte boundaries", () => {
    const h = Uint8Array.from([0b10110011, 0b01010101]);
    expect(hashBits(h, 0, 4)).toBe(0b1011);
    expect(hashBits(h, 4, 8)).toBe(0b00110101);
    expect(hashBits(h, 12, 4)).toBe(0b0101);
  });
});
