import type { FileHandle } from "node:fs/promises";
import type { CID } from "multiformats/cid";
import { CarFileWriter } from "../car/car-file-writer";
import { checkBlock, hashName } from "../car/check-block";
import { CarSectionError, carSections } from "../car/car-sections";
import { openCarStream } from "../car/open-car";
import { CarInputError } from "../car/file-stream";
import { CliFailure } from "./cli-error";
import type { Progress } from "./output";
import type { ServiceClient } from "./service-client";

/** The trustless CAR request (trustless-gateway.md): DFS order, no duplicates, the whole DAG under the path. */
export const CAR_ACCEPT = "application/vnd.ipld.car;version=1;order=dfs;dups=n";

export function carPath(cid: CID | string, segments: string[]): string {
  return `/ipfs/${cid}${segments.map((s) => `/${encodeURIComponent(s)}`).join("")}?dag-scope=all`;
}

/**
 * Asks `client`'s gateway for the CAR of `path` (trustless, no token) and
 * opens it (`ttfbMs`: until the response's headers); a missing body or a CAR whose header cannot be read is a
 * CliFailure. The caller closes `car`.
 */
export async function requestCar(client: ServiceClient, path: string): Promise<{ car: Awaited<ReturnType<typeof openCarStream>>; response: Response; ttfbMs: number }> {
  const start = performance.now();
  const response = await client.request(path, { headers: { Accept: CAR_ACCEPT }, auth: false });
  const ttfbMs = performance.now() - start;
  if (!response.body) throw new CliFailure(`${client.service.endpoint} sent no body for ${path}`, "bad-response");
  try {
    return { car: await openCarStream(response.body, client.url(path)), response, ttfbMs };
  } catch (err) {
    if (err instanceof CarInputError) throw new CliFailure(err.message, "bad-car");
    throw err;
  }
}

/**
 * Downloads a CAR from a gateway into `handle`, checking every block's hash
 * as it arrives: a block that does not match stops the download (nothing
 * unverified is kept). Returns the CAR's roots and counts.
 */
export async function downloadVerifiedCar(client: ServiceClient, path: string, handle: FileHandle, progress: Progress): Promise<{ roots: CID[]; blocks: number; bytes: number }> {
  const { car } = await requestCar(client, path);
  try {
    const writer = await CarFileWriter.start(handle, car.roots);
    for await (const s of carSections(car)) {
      const check = await checkBlock(s.cid, s.bytes!);
      if (check === "mismatch") throw new CliFailure(`block ${s.cid} (section ${s.index}) from ${client.service.endpoint} does not hash to its CID; download stopped`, "block-mismatch");
      if (check === "unsupported") throw new CliFailure(`block ${s.cid}: cannot verify ${hashName(s.cid.multihash.code)} hashes`, "block-unsupported-hash");
      await writer.write(s.cid, s.bytes!);
      progress.add(s.bytes!.length);
    }
    return { roots: car.roots, blocks: writer.blocks, bytes: writer.bytes };
  } catch (err) {
    if (err instanceof CarSectionError) throw new CliFailure(`the CAR from ${client.service.endpoint} broke off at section ${err.section}: ${err.message}`, err.truncated ? "truncated-car" : "bad-car");
    throw err;
  } finally {
    await car.close();
  }
}
