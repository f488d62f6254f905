import { CID } from "multiformats/cid";
import { blockKey } from "../backends/r2-block-store";
import { verifyBlock } from "../gateway/blocks/verify-block";
import { blockLinks } from "../pinning/block-links";

const RAW = 0x55;
const IDENTITY = 0x00;
/** Raw leaves requested ahead of the walk (bounds memory to this many blocks in flight). */
const LOOKAHEAD = 8;

/** A DAG block of a pinned root that R2 does not have, or has wrong: the copy in R2 is damaged. */
export class R2DagError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "R2DagError";
  }
}

export type WalkedBlock = { cid: CID; size: number; bytes?: Uint8Array };

/**
 * Depth-first walk of a DAG held in R2, in link order (the order of
 * `pin-walk.ts` and of the CAR the gateway serves), each distinct CID
 * once, identity CIDs not emitted (their bytes live in the CID). Every
 * block read is hashed against its CID before its bytes or links are used.
 * Raw leaves are only HEADed unless `body(cid)` says their bytes are
 * needed; up to LOOKAHEAD of them are requested ahead, so memory stays at a
 * few blocks plus the set of CIDs seen.
 */
export async function* walkR2Dag(bucket: R2Bucket, root: CID, body: () => boolean): AsyncGenerator<WalkedBlock> {
  const seen = new Set<string>();
  const stack: CID[] = [root];
  const ahead = new Map<string, Promise<WalkedBlock>>();

  const fetchBlock = async (cid: CID, withBody: boolean): Promise<WalkedBlock> => {
    if (cid.code === RAW && !withBody) {
      const head = await bucket.head(blockKey(cid));
      if (head === null) throw new R2DagError(`block ${cid} is missing from R2`);
      return { cid, size: head.size };
    }
    const bytes = await readR2Block(bucket, cid);
    return { cid, size: bytes.length, bytes };
  };

  while (stack.length > 0) {
    const cid = stack.pop()!;
    const key = cid.toV1().toString();
    if (seen.has(key)) continue;
    seen.add(key);
    if (cid.multihash.code === IDENTITY) {
      pushLinks(cid, cid.multihash.digest);
      continue;
    }
    const wantBody = cid.code !== RAW || body();
    let block = await (ahead.get(key) ?? fetchBlock(cid, wantBody));
    ahead.delete(key);
    if (wantBody && block.bytes === undefined) block = await fetchBlock(cid, true);
    if (cid.code !== RAW) pushLinks(cid, block.bytes!);
    // Raw leaves next in line: start them now (their order of arrival does not change the walk's order).
    for (let i = stack.length - 1; i >= 0 && ahead.size < LOOKAHEAD && i >= stack.length - LOOKAHEAD; i--) {
      const next = stack[i]!;
      const nextKey = next.toV1().toString();
      if (next.code !== RAW || next.multihash.code === IDENTITY || seen.has(nextKey) || ahead.has(nextKey)) continue;
      const promise = fetchBlock(next, body());
      promise.catch(() => {}); // surfaced when the walk reaches it
      ahead.set(nextKey, promise);
    }
    yield block;
  }

  function pushLinks(cid: CID, bytes: Uint8Array): void {
    const links = blockLinks(cid, bytes);
    for (let i = links.length - 1; i >= 0; i--) stack.push(links[i]!);
  }
}

/** The bytes of one block from R2, hashed against `cid`; throws R2DagError when absent or wrong. */
export async function readR2Block(bucket: R2Bucket, cid: CID): Promise<Uint8Array> {
  const object = await bucket.get(blockKey(cid));
  if (object === null) throw new R2DagError(`block ${cid} is missing from R2`);
  const bytes = new Uint8Array(await object.arrayBuffer());
  if (!(await verifyBlock(cid, bytes))) throw new R2DagError(`block ${cid} in R2 does not match its CID`);
  return bytes;
}

/** `CID` of a stored root string. */
export function rootCid(root: string): CID {
  return CID.parse(root).toV1();
}
