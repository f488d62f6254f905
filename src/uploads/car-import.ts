import type { CID } from "multiformats/cid";
import { ByteReader } from "../gateway/car/byte-reader";
import { CarFormatError, CarSectionReader } from "../gateway/car/car-section-reader";
import { isIdentity, verifyBlock } from "../gateway/blocks/verify-block";
import { badRequest, HttpError } from "../http/errors";
import type { BlockWriter } from "./block-writer";

/** Seconds a client may pause mid-upload before the upload is dropped. */
const IDLE_MS = 60_000;

/**
 * Reads a CARv1 upload section by section (the gateway's streaming reader:
 * bounded memory, 2 MiB block cap), verifies every block against its CID
 * and hands it to `writer`. A malformed CAR or a block that does not match
 * its CID is a 400 naming it; more than `maxBytes` of blocks is a 409
 * (the account's storage quota). Returns the header's roots.
 */
export async function importCar(body: ReadableStream<Uint8Array>, writer: BlockWriter, maxBytes: number): Promise<CID[]> {
  const reader = new CarSectionReader(new ByteReader(body, IDLE_MS, () => void body.cancel().catch(() => undefined)));
  let section = 0;
  try {
    const roots = await reader.readHeader();
    if (roots.length === 0) throw badRequest("the CAR header names no root");
    for (;;) {
      const head = await reader.peek();
      if (head === null) break;
      section++;
      const bytes = await reader.readData();
      if (!(await verifyBlock(head.cid, bytes))) {
        throw badRequest(`bad block: section ${section} does not hash to its CID ${head.cid}`);
      }
      if (isIdentity(head.cid)) continue;
      await writer.write(head.cid, bytes);
      if (writer.bytes > maxBytes) throw new HttpError("conflict", `the upload exceeds the storage left to this account (${maxBytes} bytes)`);
    }
    await writer.flush();
    return roots;
  } catch (err) {
    await reader.cancel(err).catch(() => undefined);
    if (err instanceof CarFormatError) throw badRequest(`invalid CAR (after ${section} sections): ${err.message}`);
    throw err;
  }
}
