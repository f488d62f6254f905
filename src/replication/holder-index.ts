import { base32 } from "multiformats/bases/base32";
import type { CID } from "multiformats/cid";

/**
 * Where else a pinned root can be fetched from: the trustless gateways of
 * the places holding a copy of it (Filecoin providers, a Kubo node's
 * gateway), kept in R2 next to the blocks so the gateway learns them with
 * one R2 read, never a Durable Object round trip (docs/filecoin.md
 * "Providers as upstreams", docs/storage.md).
 *
 * Key `holders/<multihash>` (same multihash encoding as `blocks/`, so CIDv0
 * and CIDv1 of a root share it); value JSON `{ "v": 1, "sources": {
 * "<writer>": ["<base URL>", ...] } }`. Each writer owns its source and
 * replaces it whole: the Filecoin watch writes `filecoin` (every provider
 * copy it still counts as stored or at risk), the replication engine
 * `<account>/<backend>` for other backends with a gateway. The object is
 * deleted when no source is left.
 *
 * Nothing here is trusted: a listed URL is only another upstream, every
 * block it sends is hash-checked like any other, and a stale entry costs a
 * 404 from that base.
 *
 * Error contract: `readHolders` resolves with [] when the object is absent
 * or unreadable (it is an optimisation, never a reason to fail a request);
 * `setHolderSource` throws on R2 failures (callers log and carry on).
 */

export const HOLDERS_PREFIX = "holders/";
/** Bases given to one request at most (each may be raced: MAX_CONCURRENT_UPSTREAMS bounds how many at once). */
export const MAX_HOLDERS = 8;
/** Conditional writes retried this often when another writer changed the record meanwhile. */
const WRITE_TRIES = 5;

interface HolderRecord {
  v: 1;
  sources: Record<string, string[]>;
}

export function holdersKey(root: CID): string {
  return `${HOLDERS_PREFIX}${base32.encode(root.multihash.bytes)}`;
}

/** Every base URL listed for `root`, each once, at most MAX_HOLDERS; [] when none or unreadable. */
export async function readHolders(bucket: R2Bucket, root: CID): Promise<string[]> {
  let object: R2ObjectBody | null;
  try {
    object = await bucket.get(holdersKey(root));
  } catch (err) {
    console.warn(`holder index: reading ${holdersKey(root)} failed`, String(err));
    return [];
  }
  if (object === null) return [];
  const record = parseRecord(await object.text());
  const out: string[] = [];
  for (const bases of Object.values(record?.sources ?? {})) {
    for (const base of bases) if (!out.includes(base) && out.length < MAX_HOLDERS) out.push(base);
  }
  return out;
}

/**
 * Replaces the bases of one writer (`source`) for `root`; [] removes the
 * writer. Read, change, conditional put (etag), retried when another
 * writer got in between; the object goes when no writer is left.
 */
export async function setHolderSource(bucket: R2Bucket, root: CID, source: string, bases: string[]): Promise<void> {
  const key = holdersKey(root);
  for (let attempt = 0; attempt < WRITE_TRIES; attempt++) {
    const object = await bucket.get(key);
    const record = (object === null ? undefined : parseRecord(await object.text())) ?? { v: 1, sources: {} };
    const wanted = [...new Set(bases)];
    const current = record.sources[source] ?? [];
    if (sameList(current, wanted)) return;
    if (wanted.length === 0) delete record.sources[source];
    else record.sources[source] = wanted;
    if (Object.keys(record.sources).length === 0) {
      // R2 has no conditional delete: a writer that adds meanwhile rewrites its source on its next change.
      if (object !== null) await bucket.delete(key);
      return;
    }
    const onlyIf: R2Conditional = object === null ? { etagDoesNotMatch: "*" } : { etagMatches: object.etag };
    const written = await bucket.put(key, JSON.stringify(record), { onlyIf, httpMetadata: { contentType: "application/json" } });
    if (written !== null) return;
  }
  throw new Error(`holder index: ${key} kept changing under ${WRITE_TRIES} writes`);
}

/**
 * The trustless gateway base of a retrieval URL, when it has one: a PDP
 * provider's `{service}/piece/{pieceCid}` (Curio serves `/ipfs/` on the
 * same service when the data set asked for IPFS indexing) or a gateway's
 * `{base}/ipfs/{cid}`. Other URLs (an S3 object, a Hub file) are not
 * gateways: undefined.
 */
export function trustlessBaseOf(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return undefined;
  if (parsed.username || parsed.password || parsed.search || parsed.hash) return undefined;
  const m = /^(.*?)\/(?:piece|ipfs)\/[^/]+\/?$/.exec(parsed.pathname);
  if (!m) return undefined;
  return `${parsed.origin}${m[1]}`;
}

function parseRecord(text: string): HolderRecord | undefined {
  try {
    const record = JSON.parse(text) as HolderRecord;
    if (record?.v !== 1 || typeof record.sources !== "object" || record.sources === null) return undefined;
    for (const bases of Object.values(record.sources)) if (!Array.isArray(bases) || bases.some((b) => typeof b !== "string")) return undefined;
    return record;
  } catch {
    return undefined;
  }
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
