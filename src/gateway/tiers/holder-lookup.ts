import type { CID } from "multiformats/cid";
import { holdersKey, readHolders } from "../../replication/holder-index";

const IDENTITY = 0x00;

/** How long an isolate keeps an answer (with or without holders) before reading R2 again. */
export const HOLDERS_TTL_MS = 60_000;
/** Roots remembered per isolate; past this the oldest answers go first. */
const MAX_ENTRIES = 10_000;

interface Entry {
  bases: string[];
  expires: number;
}

/** Root key → answer. Module scope: shared by every request this isolate serves. */
const answers = new Map<string, Entry>();

/**
 * The trustless gateways known to hold `root` (src/replication/holder-index.ts):
 * one R2 read per root per isolate and HOLDERS_TTL_MS, started by the R2
 * tier beside its read of the root block, so a miss waits for neither in
 * turn. The answer is kept, not the read's promise: a request never awaits
 * I/O another request started (workerd cancels a wait on another request's
 * promise once that request ends: "Promise will never complete"), so
 * requests for a root that arrive while its first read is in flight read it
 * too. Never rejects.
 *
 * @example
 * const preferred = await holdersOf(env.BLOCKS, req.path.root);
 */
export function holdersOf(bucket: R2Bucket, root: CID, now = Date.now()): Promise<string[]> {
  // An identity CID carries its bytes: nobody needs to hold it.
  if (root.multihash.code === IDENTITY) return Promise.resolve([]);
  const key = holdersKey(root);
  const cached = answers.get(key);
  if (cached && cached.expires > now) return Promise.resolve(cached.bases);
  return readHolders(bucket, root).then(
    (bases) => {
      answers.delete(key);
      if (answers.size >= MAX_ENTRIES) answers.delete(answers.keys().next().value!);
      answers.set(key, { bases, expires: now + HOLDERS_TTL_MS });
      return bases;
    },
    // A failed read is not remembered: the next request reads again.
    () => [],
  );
}
