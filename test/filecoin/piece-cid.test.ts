import { describe, expect, it } from "vitest";
import * as Piece from "@filoz/synapse-core/piece";
import { toHex } from "multiformats/bytes";
import { pieceCidOfStream, pieceCidTransform, PieceCidHasher, PIECE_HASH_CODE } from "../../src/backends/filecoin/piece-cid";
import { pseudoRandomBytes } from "../helpers/pseudo-random";

/** A byte stream yielding `bytes` in chunks of `chunk` bytes (odd sizes cross the 127-byte fr32 quads). */
function byteStream(bytes: Uint8Array, chunk: number): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    type: "bytes",
    pull(controller) {
      if (offset >= bytes.length) {
        controller.close();
        return;
      }
      controller.enqueue(bytes.slice(offset, offset + chunk));
      offset += chunk;
    },
  });
}

describe("piece CID (FRC-0069 v2) with the WASM hasher", () => {
  it("matches known zero-piece commitments (Lotus zerocomm): 127 and 2032 zero bytes", async () => {
    // Roots of all-zero trees of 128 B and 2 KiB padded size (filecoin-project/go-commp-utils zerocomm).
    const cases: Array<[number, number, string]> = [
      [127, 2, "3731bb99ac689f66eef5973e4a94da188f4ddcae580724fc6f3fd60dfd488333"],
      [2032, 6, "fc7e928296e516faade986b28f92d44a4f24b935485223376a799027bc18f833"],
    ];
    for (const [size, height, root] of cases) {
      const { pieceCid } = await pieceCidOfStream(byteStream(new Uint8Array(size), 1000));
      expect(pieceCid.code).toBe(0x55);
      expect(pieceCid.multihash.code).toBe(PIECE_HASH_CODE);
      // digest = [padding varint = 0][height][root]
      expect(toHex(pieceCid.multihash.digest)).toBe("00" + height.toString(16).padStart(2, "0") + root);
    }
    const { pieceCid } = await pieceCidOfStream(byteStream(new Uint8Array(127), 127));
    expect(pieceCid.toString()).toBe("bafkzcibcaabdomn3tgwgrh3g532zopskstnbrd2n3sxfqbze7rxt7vqn7veigmy");
  });

  it("equals the SDK's default computation (Piece.calculate) on the same bytes, for sizes around tree and fr32 boundaries", async () => {
    const sizes = [65, 127, 128, 254, 1016, 1017, 65_000, 130_048, 1_048_576 + 3, 3 * 1_048_576 - 7];
    for (const [i, size] of sizes.entries()) {
      const bytes = pseudoRandomBytes(size, i + 7);
      const sdk = Piece.calculate(bytes);
      const { pieceCid, size: hashed } = await pieceCidOfStream(byteStream(bytes, 4093));
      expect(hashed).toBe(size);
      expect(pieceCid.toString()).toBe(sdk.toString());
      expect(Piece.getSize(Piece.parse(pieceCid.toString()))).toBe(size);
    }
  });

  it("hashes a non-byte stream too, and the pass-through transform yields the bytes unchanged and the same CID", async () => {
    const bytes = pseudoRandomBytes(300_001, 99);
    const sdk = Piece.calculate(bytes).toString();
    const plain = new ReadableStream<Uint8Array>({
      start(c) {
        for (let o = 0; o < bytes.length; o += 50_000) c.enqueue(bytes.slice(o, o + 50_000));
        c.close();
      },
    });
    expect((await pieceCidOfStream(plain)).pieceCid.toString()).toBe(sdk);

    const { stream, result } = await pieceCidTransform();
    const out = new Uint8Array(await new Response(byteStream(bytes, 8191).pipeThrough(stream)).arrayBuffer());
    expect(out).toEqual(bytes);
    const r = await result;
    expect(r.size).toBe(bytes.length);
    expect(r.pieceCid.toString()).toBe(sdk);
  });

  it("refuses a payload below 65 bytes (FRC-0069 minimum) and a second digest", async () => {
    await expect(pieceCidOfStream(byteStream(new Uint8Array(64), 64))).rejects.toThrow(/at least 65 bytes/);
    const h = await PieceCidHasher.create();
    h.write(new Uint8Array(100));
    h.digest();
    expect(() => h.digest()).toThrow(/twice/);
  });
});
