import type { CID } from "multiformats/cid";
import { badRequest, HttpError } from "../../http/errors";
import type { BufferPool } from "../blocks/buffer-pool";
import { RAW } from "../dag/codecs";
import type { GatewayRequest } from "../request/gateway-request";
import type { ResumePoint } from "../traversal/block-source";
import { resolvePath } from "../traversal/resolve-path";
import { contentHeaders } from "./common-headers";
import { typeByExtension } from "./content-type";
import { dagIndexEtag } from "./dag-index-html";
import { isCodecBlock, serveCodecDefault } from "./dag-codec";
import { serveDirectory } from "./directory";
import { dirIndexEtag } from "./directory-listing-html";
import { ifNoneMatchHits, notModified } from "./etag";
import { unixfsFileSize } from "./file-bytes";
import { openingResumePoint } from "./opening";
import { serveSymlink, serveUnixfsFile, type SessionSource } from "./unixfs-file";

/**
 * The path gateway's deserialized response (no explicit format, or
 * `text/html`): resolve the path, then serve what the terminal block is
 * (path-gateway.md "Response Payload"): a UnixFS file or a raw block as a
 * file, a symlink as its target, a directory as index.html or a listing,
 * dag-json / dag-cbor / json / cbor as themselves (or the DAG view for a
 * browser).
 */
export async function serveDeserialized(req: GatewayRequest, src: SessionSource, done: (complete: boolean) => void, pool?: BufferPool): Promise<Response> {
  const { path } = req;
  // path-gateway.md#service-worker-request-header: no worker may claim all of /ipfs/ from /ipfs/{cid}.
  if (req.headers.get("Service-Worker") === "script" && path.segments.length === 0 && !path.trailingSlash) {
    throw badRequest("navigator.serviceWorker: registration is not allowed for this scope (use a path under /ipfs/{cid}/)");
  }
  // path-gateway.md#if-none-match-request-header: a match is a 304 with no content fetched. Without a
  // path the candidate ETags are known from the URL alone; with one, only the path is resolved first.
  const inm = req.headers.get("If-None-Match");
  if (inm !== null && path.segments.length === 0 && inm.trim() !== "*") {
    const hit = etagCandidates(path.root).find((etag) => ifNoneMatchHits(inm, etag));
    if (hit) {
      done(true);
      return notModified(hit, contentHeaders(path.raw, [path.root]));
    }
  }
  const name = req.filename ?? path.segments.at(-1);
  const rp: ResumePoint =
    inm !== null
      ? { kind: "car", root: path.root, segments: path.segments, scope: "block" }
      : // A trailing slash names a directory: nothing to sniff.
        openingResumePoint(req, path.root, path.segments, path.trailingSlash || typeByExtension(name) !== undefined);
  const resolved = await resolvePath(src, path.root, path.segments, rp);
  const { terminal, terminalNode: node, roots } = resolved;
  if (inm !== null) {
    const hit = etagCandidates(terminal.cid).find((etag) => ifNoneMatchHits(inm, etag));
    if (hit) {
      done(true);
      return notModified(hit, contentHeaders(path.raw, roots));
    }
  }

  if (unixfsFileSize(terminal, node) !== undefined) {
    return serveUnixfsFile(req, src, { block: terminal, node, roots, etag: `"${terminal.cid}"`, name, opened: rp }, done, pool);
  }
  if (node.kind === "dag-pb" && node.unixfs) {
    const type = node.unixfs.type;
    if (type === "symlink") {
      done(true);
      return serveSymlink(req, { block: terminal, node, roots, etag: `"${terminal.cid}"`, name }, node.unixfs.data ?? new Uint8Array(0));
    }
    if (type === "directory" || type === "hamt-sharded-directory") {
      return serveDirectory(req, src, { block: terminal, node, roots, opened: rp }, done, pool);
    }
    throw new HttpError("not_implemented", `UnixFS ${type} node ${terminal.cid} has no deserialized form; ask for ?format=raw`);
  }
  if (isCodecBlock(terminal.cid)) {
    done(true);
    return serveCodecDefault(req, roots, terminal.cid, terminal.bytes, node);
  }
  const what = terminal.cid.code === RAW ? "raw" : node.kind === "dag-pb" ? "a dag-pb node that is not UnixFS" : `codec 0x${terminal.cid.code.toString(16)}`;
  throw new HttpError("not_implemented", `${terminal.cid} is ${what} and has no deserialized form; ask for ?format=raw or ?format=car`);
}

/** Every ETag a deserialized response for `cid` can carry: the content, its listing, its DAG view. */
function etagCandidates(cid: CID): string[] {
  return [`"${cid}"`, dirIndexEtag(cid), dagIndexEtag(cid)];
}
