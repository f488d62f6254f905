import type { CID } from "multiformats/cid";
import type { GatewayRequest } from "../request/gateway-request";
import type { ResumePoint } from "../traversal/block-source";
import { firstRangeAsEntityBytes } from "./byte-ranges";
import { SNIFF_BYTES } from "./content-type";

/**
 * The trustless request a deserialized response opens its upstream stream
 * with: the first get() races it, so it should carry the path and, when
 * the terminal turns out to be a file, exactly the bytes the response needs
 * (IPIP-402), in one CAR:
 * - GET: `dag-scope=entity` (a whole file; a directory's own blocks, every
 *   shard of a HAMT for its listing);
 * - GET with `Range`: `entity-bytes` of the first range, so the tail of a
 *   large file costs only its last blocks;
 * - HEAD: the terminal block only (`dag-scope=block`);
 * and, when the type is not known from the name, the first SNIFF_BYTES
 * instead (a HEAD or a range still needs the type, which comes from the
 * file's first bytes).
 */
export function openingResumePoint(req: GatewayRequest, root: CID, segments: string[], typeKnown: boolean): ResumePoint {
  const base = { kind: "car" as const, root, segments };
  const sniff = { ...base, scope: "entity" as const, entityBytes: { from: 0, to: SNIFF_BYTES - 1 } };
  if (req.method === "HEAD") return typeKnown ? { ...base, scope: "block" } : sniff;
  const range = firstRangeAsEntityBytes(req.headers.get("Range"));
  if (range) return typeKnown ? { ...base, scope: "entity", entityBytes: range } : sniff;
  return { ...base, scope: "entity" };
}
