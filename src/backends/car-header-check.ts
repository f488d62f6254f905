import * as dagCbor from "@ipld/dag-cbor";
import { CID } from "multiformats/cid";
import { varint } from "multiformats";

/**
 * Bytes of a CAR's beginning that are enough to hold the header of a
 * one-root CARv1 (`varint(len) dag-cbor({ version: 1, roots: [cid] })`,
 * ~60 bytes for a sha2-256 CIDv1; a 1 KiB read leaves room for long multihashes).
 */
export const CAR_HEADER_PROBE_BYTES = 1024;

/**
 * Whether `prefix` (the first bytes of a stored copy, from a ranged read)
 * begins with the CARv1 header naming exactly `root`
 * (https://ipld.io/specs/transport/car/carv1/#header). Returns a reason
 * when not, for the `lost` message of a check.
 */
export function carHeaderMismatch(prefix: Uint8Array, root: CID): string | undefined {
  let length: number;
  let offset: number;
  try {
    [length, offset] = varint.decode(prefix);
  } catch {
    return "the copy does not start with a CAR header";
  }
  if (length === 0 || offset + length > prefix.length) return "the copy does not start with a complete CAR header";
  let header: unknown;
  try {
    header = dagCbor.decode(prefix.subarray(offset, offset + length));
  } catch {
    return "the CAR header of the copy is not valid dag-cbor";
  }
  const { version, roots } = (header ?? {}) as { version?: unknown; roots?: unknown };
  if (version !== 1 || !Array.isArray(roots) || roots.length !== 1) return "the copy is not a one-root CARv1";
  const named = CID.asCID(roots[0]);
  if (named === null || !named.equals(root)) return `the CAR header of the copy names another root`;
  return undefined;
}
