/**
 * Verifies a CARv1 stream (the `car_verify` MCP tool): every section's
 * block is hashed against its CID with the gateway's own streaming reader
 * (src/gateway/car/), in bounded memory. At most `maxBytes` are read; a
 * longer CAR is reported as cut, never buffered.
 */
import { CarFormatError, CarSectionReader } from "../gateway/car/car-section-reader";
import { ByteReader } from "../gateway/car/byte-reader";
import { verifyBlock } from "../gateway/blocks/verify-block";

export interface CarReport {
  /** True when the CAR parsed to its end, within the byte limit, and every block matched its CID. */
  valid: boolean;
  roots: string[];
  blocks: number;
  /** Bytes of block data verified. */
  blockBytes: number;
  /** The first blocks whose bytes do not hash to their CID (at most 20). */
  invalid: { section: number; cid: string }[];
  /** Why reading stopped early: a framing error, or the byte limit. */
  error: string | null;
}

const MAX_LISTED = 20;
const IDLE_MS = 30_000;

export async function verifyCar(body: ReadableStream<Uint8Array>, maxBytes: number): Promise<CarReport> {
  const reader = new CarSectionReader(new ByteReader(body, IDLE_MS, () => void body.cancel().catch(() => undefined)));
  const report: CarReport = { valid: false, roots: [], blocks: 0, blockBytes: 0, invalid: [], error: null };
  let badBlocks = 0;
  try {
    report.roots = (await reader.readHeader()).map(String);
    for (;;) {
      const head = await reader.peek();
      if (head === null) break;
      if (reader.bytesReceived + head.dataLength > maxBytes) {
        report.error = `the CAR is larger than ${maxBytes} bytes: stopped after ${report.blocks} blocks`;
        await reader.cancel().catch(() => undefined);
        return report;
      }
      const bytes = await reader.readData();
      report.blocks++;
      report.blockBytes += bytes.length;
      if (!(await verifyBlock(head.cid, bytes))) {
        badBlocks++;
        if (report.invalid.length < MAX_LISTED) report.invalid.push({ section: report.blocks, cid: head.cid.toString() });
      }
    }
    report.valid = badBlocks === 0 && report.roots.length > 0;
    if (report.roots.length === 0) report.error = "the CAR header names no root";
    return report;
  } catch (err) {
    await reader.cancel(err).catch(() => undefined);
    if (err instanceof CarFormatError) {
      report.error = `invalid CAR after ${report.blocks} blocks: ${err.message}`;
      return report;
    }
    throw err;
  }
}
