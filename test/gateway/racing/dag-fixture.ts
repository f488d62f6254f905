import type { CID } from "multiformats/cid";
import { importFile, parseCar, upstreamUrl, type CarContents } from "../../helpers/upstream";
import { pseudoRandomBytes } from "../../helpers/pseudo-random";

export { pseudoRandomBytes };


export const CHUNK = 64 * 1024;

/** A 5-leaf UnixFS file (raw leaves, 64 KiB chunks) on the test upstream: CAR order root, leaf0..leaf4. */
export async function fiveLeafFile(seed: number): Promise<{ cid: CID; bytes: Uint8Array }> {
  const bytes = pseudoRandomBytes(CHUNK * 4 + 1000, seed);
  const { cid } = await importFile(bytes, { chunkSize: CHUNK, rawLeaves: true, cidVersion: 1 });
  return { cid, bytes };
}

/** What the honest upstream itself answers for a CAR request (an independent implementation of the spec). */
export async function honestCar(path: string): Promise<CarContents> {
  const res = await fetch(`${upstreamUrl("honest")}${path}${path.includes("?") ? "&" : "?"}format=car`, {
    headers: { Accept: "application/vnd.ipld.car; version=1; order=dfs; dups=n" },
  });
  if (res.status !== 200) throw new Error(`honest upstream answered ${res.status}`);
  return parseCar(new Uint8Array(await res.arrayBuffer()));
}
