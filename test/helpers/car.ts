/**
 * Reads a CAR response in tests: header roots and every section, in order,
 * as sent (no verification: tests assert on exactly what came out).
 */
import { CarBlockIterator } from "@ipld/car/iterator";

export interface CarContents {
  roots: string[];
  blocks: { cid: string; bytes: Uint8Array }[];
}

export async function carBlocks(response: Response): Promise<CarContents> {
  const bytes = new Uint8Array(await response.arrayBuffer());
  return parseCar(bytes);
}

export async function parseCar(bytes: Uint8Array): Promise<CarContents> {
  const iterator = await CarBlockIterator.fromBytes(bytes);
  const roots = (await iterator.getRoots()).map((root) => root.toString());
  const blocks: CarContents["blocks"] = [];
  for await (const block of iterator) blocks.push({ cid: block.cid.toString(), bytes: block.bytes });
  return { roots, blocks };
}
