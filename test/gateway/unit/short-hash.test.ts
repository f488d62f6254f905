import { describe, expect, it } from "vitest";
import { shortHash } from "../../../src/gateway/handlers/etag";

describe("shortHash (64-bit FNV-1a, hex)", () => {
  it("gives the published FNV-1a 64 test vectors", () => {
    // http://www.isthe.com/chongo/src/fnv/test_fnv.c (FNV1A_64): "", "a", "foobar"
    expect(shortHash("")).toBe("cbf29ce484222325");
    expect(shortHash("a")).toBe("af63dc4c8601ec8c");
    expect(shortHash("foobar")).toBe("85944171f73967e8");
  });

  it("hashes the UTF-8 bytes of the text (a CAR ETag's parameters joined by NUL)", () => {
    expect(shortHash("dir/ü\u0000entity\u00000:1048576\u0000y\u0000dfs")).toBe(fnv1a64(new TextEncoder().encode("dir/ü\u0000entity\u00000:1048576\u0000y\u0000dfs")));
  });
});

/** The definition, with BigInt: h = (h XOR byte) × 0x100000001b3 mod 2^64 from 0xcbf29ce484222325. */
function fnv1a64(bytes: Uint8Array): string {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h.toString(16).padStart(16, "0");
}
