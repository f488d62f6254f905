import type { CID } from "multiformats/cid";
import type { BufferPool } from "../blocks/buffer-pool";
import { HttpError } from "../../http/errors";
import type { VerifiedBlock } from "../blocks/block";
import { decodeNode, isHamtShard, type DecodedNode } from "../dag/decode-node";
import { hamtHash, isSubShardLink, shardParams, shardStep } from "../dag/hamt";
import type { GatewayRequest } from "../request/gateway-request";
import type { ResumePoint } from "../traversal/block-source";
import { loadBlock } from "../traversal/load-block";
import { selectBlocks } from "../traversal/select-blocks";
import { pullBody, utf8 } from "./body-stream";
import { contentHeaders } from "./common-headers";
import { dirIndexEtag, listingFoot, listingHead, listingRow, type ListingEntry } from "./directory-listing-html";
import { GENERATED_HTML_CACHE } from "./html";
import { openingResumePoint } from "./opening";
import { serveUnixfsFile, type SessionSource } from "./unixfs-file";
import { unixfsFileSize } from "./file-bytes";

type DagPbNode = Extract<DecodedNode, { kind: "dag-pb" }>;

export interface DirectoryTarget {
  block: VerifiedBlock;
  node: DagPbNode;
  roots: CID[];
  /** The request the session's current upstream stream was opened with. */
  opened: ResumePoint;
}

const INDEX = "index.html";

/**
 * A UnixFS directory (path-gateway.md "Response Payload"):
 * - without a trailing slash: 301 to the same URL with one ("Use in directory URL normalization");
 * - with `index.html`: that file, ETag of the directory (as the reference gateway);
 * - otherwise the generated listing, streamed; a HAMT listing streams shard
 *   by shard as the shards arrive (one upstream CAR, dag-scope=entity), so
 *   its first rows go out before the last shard is fetched.
 */
export async function serveDirectory(
  req: GatewayRequest,
  src: SessionSource,
  d: DirectoryTarget,
  done: (complete: boolean) => void,
  pool?: BufferPool,
): Promise<Response> {
  const hamt = isHamtShard(d.node);
  // A HAMT's shards follow its root in a dag-scope=entity stream; a plain directory is one block.
  let shardsPending = hamt && d.opened.kind === "car" && d.opened.scope !== "block";
  const letGo = () => {
    if (shardsPending) src.abort();
    shardsPending = false;
  };

  if (!req.path.trailingSlash) {
    const headers = contentHeaders(req.path.raw, d.roots);
    const location = `${req.url.pathname}/${req.url.search}`;
    headers.set("Location", location);
    headers.set("Content-Type", "text/html; charset=utf-8");
    done(!shardsPending);
    const body = req.method === "HEAD" ? null : `<a href="${location.replace(/"/g, "%22")}">Moved Permanently</a>.\n`;
    return new Response(body, { status: 301, headers });
  }

  const listingRp: ResumePoint = { kind: "car", root: req.path.root, segments: req.path.segments, scope: "entity" };
  const index = hamt ? await hamtIndex(src, d, shardsPending, listingRp) : d.node.node.Links.find((l) => l.Name === INDEX)?.Hash;
  if (index) {
    letGo();
    const opened = openingResumePoint(req, index, [], true);
    const bytes = await loadBlock(src, index, opened);
    const block = { cid: index, bytes };
    const node = decodeNode(index, bytes);
    if (unixfsFileSize(block, node) !== undefined) {
      const etag = `"${d.block.cid}"`;
      return serveUnixfsFile(req, src, { block, node, roots: d.roots, etag, name: INDEX, opened }, done, pool);
    }
    // An index.html that is not a file is not an index: list the directory.
    src.abort();
  }

  const headers = contentHeaders(req.path.raw, d.roots);
  headers.set("ETag", dirIndexEtag(d.block.cid));
  headers.set("Content-Type", "text/html; charset=utf-8");
  headers.set("Cache-Control", GENERATED_HTML_CACHE);
  if (req.method === "HEAD") {
    letGo();
    done(true);
    return new Response(null, { status: 200, headers });
  }
  const pathname = req.url.pathname;
  async function* page(): AsyncGenerator<string> {
    yield listingHead(pathname, d.block.cid, req.path.segments.length > 0);
    if (!hamt) {
      for (const link of d.node.node.Links) yield listingRow(pathname, { name: link.Name ?? "", cid: link.Hash, dagSize: link.Tsize }, req.ipfsLinkBase);
    } else {
      for await (const shard of selectBlocks(src, d.block, d.node, { scope: "entity" }, listingRp)) {
        const node = shard === d.block ? d.node : decodeNode(shard.cid, shard.bytes);
        if (!isHamtShard(node)) throw new HttpError("bad_gateway", `HAMT link ${shard.cid} is not a shard`);
        let rows = "";
        for (const e of shardEntries(node)) rows += listingRow(pathname, e, req.ipfsLinkBase);
        yield rows;
      }
    }
    yield listingFoot();
  }
  return new Response(pullBody(utf8(page()), done, "directory listing"), { status: 200, headers });
}

/** The entries (not sub-shards) of one HAMT shard, names without their bucket prefix. */
export function shardEntries(shard: DagPbNode): ListingEntry[] {
  const params = shardParams(shard.unixfs!);
  const out: ListingEntry[] = [];
  for (const link of shard.node.Links) {
    if (isSubShardLink(link, params)) continue;
    out.push({ name: (link.Name ?? "").slice(params.padLength), cid: link.Hash, dagSize: link.Tsize });
  }
  return out;
}

/**
 * `index.html` in a HAMT directory: hashed lookup from the root shard. When
 * the directory's shard stream is open (dag-scope=entity), the sub-shards on
 * the way are read from it in its DFS order: the shards read ahead stay in
 * the session's block cache, so a listing that follows re-walks them from
 * memory and the stream serves the rest. Otherwise each is fetched alone.
 */
async function hamtIndex(src: SessionSource, d: DirectoryTarget, streamOpen: boolean, listingRp: ResumePoint): Promise<CID | undefined> {
  const hash = await hamtHash(INDEX);
  const ahead = streamOpen ? selectBlocks(src, d.block, d.node, { scope: "entity" }, listingRp) : undefined;
  try {
    let node = d.node;
    for (let depth = 0; depth < 64; depth++) {
      const step = shardStep(node.node.Links, shardParams(node.unixfs!), hash, depth, INDEX);
      if (step.kind === "absent") return undefined;
      if (step.kind === "entry") return step.link.Hash;
      const cid = step.link.Hash;
      const bytes = ahead ? await nextShard(ahead, cid) : await loadBlock(src, cid, { kind: "car", root: cid, segments: [], scope: "block" });
      const next = decodeNode(cid, bytes);
      if (!isHamtShard(next)) throw new HttpError("bad_gateway", `HAMT link ${cid} is not a shard`);
      node = next;
    }
    return undefined;
  } finally {
    await ahead?.return(undefined);
  }
}

async function nextShard(ahead: AsyncGenerator<VerifiedBlock>, cid: CID): Promise<Uint8Array> {
  for (;;) {
    const next = await ahead.next();
    if (next.done) throw new HttpError("bad_gateway", `HAMT shard ${cid} is not among the directory's shards`);
    if (next.value.cid.equals(cid)) return next.value.bytes;
  }
}
