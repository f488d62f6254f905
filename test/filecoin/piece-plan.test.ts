import { describe, expect, it } from "vitest";
import * as Piece from "@filoz/synapse-core/piece";
import { CarWriter } from "@ipld/car/writer";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 } from "multiformats/hashes/sha2";
import { planPieces, pieceStream } from "../../src/backends/filecoin/piece-plan";
import { parseCar } from "../helpers/car";
import { pseudoRandomBytes } from "../helpers/pseudo-random";

/** A CARv1 of `n` raw blocks of `size` bytes each (root = the first block). */
async function carOf(n: number, size: number): Promise<{ car: Uint8Array; root: CID; cids: string[] }> {
  const blocks = [];
  for (let i = 0; i < n; i++) {
    const bytes = pseudoRandomBytes(size, i + 1);
    blocks.push({ cid: CID.createV1(raw.code, await sha256.digest(bytes)), bytes });
  }
  const root = blocks[0]!.cid;
  const { writer, out } = CarWriter.create([root]);
  const chunks: Uint8Array[] = [];
  const drained = (async () => {
    for await (const c of out) chunks.push(c);
  })();
  for (const b of blocks) await writer.put(b);
  await writer.close();
  await drained;
  const car = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    car.set(c, o);
    o += c.length;
  }
  return { car, root, cids: blocks.map((b) => b.cid.toString()) };
}

/** The CAR as a stream in uneven chunks, from `from`: plays DagToStore.car(fromByte). */
function carSource(car: Uint8Array) {
  return (from = 0) =>
    new ReadableStream<Uint8Array>({
      start(c) {
        for (let o = from; o < car.length; o += 777) c.enqueue(car.slice(o, Math.min(o + 777, car.length)));
        c.close();
      },
    });
}

async function bytesOf(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

describe("piece plan: a CAR split into pieces along block boundaries", () => {
  it("one piece when the CAR fits: the whole CAR, its piece CID equal to the SDK's", async () => {
    const { car } = await carOf(5, 3000);
    const plan = await planPieces(carSource(car)());
    expect(plan.carSize).toBe(car.length);
    expect(plan.pieces).toEqual([{ from: 0, to: car.length, size: car.length, pieceCid: Piece.calculate(car).toString() }]);
    expect(await bytesOf(pieceStream(plan, 0, carSource(car)))).toEqual(car);
  });

  it("a CAR larger than a piece: several CARs, each with the root header, blocks never cut, every block once, piece CIDs exact", async () => {
    const { car, root, cids } = await carOf(20, 1000);
    const max = 4000; // a piece holds the header + 3 sections of ~1040 bytes
    const plan = await planPieces(carSource(car)(), max);
    expect(plan.pieces.length).toBe(7);
    const seen: string[] = [];
    for (const [i, piece] of plan.pieces.entries()) {
      const bytes = await bytesOf(pieceStream(plan, i, carSource(car)));
      expect(bytes.length).toBe(piece.size);
      expect(piece.size).toBeLessThanOrEqual(max);
      expect(piece.pieceCid).toBe(Piece.calculate(bytes).toString());
      const parsed = await parseCar(bytes);
      expect(parsed.roots).toEqual([root.toString()]);
      seen.push(...parsed.blocks.map((b) => b.cid));
      if (i > 0) expect(piece.from).toBe(plan.pieces[i - 1]!.to);
    }
    expect(seen).toEqual(cids);
    expect(plan.pieces.at(-1)!.to).toBe(car.length);
  });

  it("refuses a truncated CAR and a block larger than a piece", async () => {
    const { car } = await carOf(3, 2000);
    await expect(planPieces(carSource(car.subarray(0, car.length - 10))())).rejects.toThrow(/truncated/);
    await expect(planPieces(carSource(car)(), 1500)).rejects.toThrow(/larger than a piece/);
  });
});
