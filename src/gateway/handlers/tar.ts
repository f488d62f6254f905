import type { CID } from "multiformats/cid";
import { HttpError, notAcceptable } from "../../http/errors";
import type { VerifiedBlock } from "../blocks/block";
import { DAG_PB, RAW } from "../dag/codecs";
import { decodeNode, isHamtShard, type DecodedNode } from "../dag/decode-node";
import { isSubShardLink, shardParams } from "../dag/hamt";
import { safeText } from "../request/content-path";
import type { GatewayRequest } from "../request/gateway-request";
import type { BlockSource, ResumePoint } from "../traversal/block-source";
import { loadBlock } from "../traversal/load-block";
import { resolvePath } from "../traversal/resolve-path";
import { pullBody } from "./body-stream";
import { contentDisposition, contentHeaders, contentLocation } from "./common-headers";
import { ifNoneMatchHits, notModified } from "./etag";
import { fileBytes, unixfsFileSize } from "./file-bytes";
import { padding, tarEnd, tarHeader, type TarEntry } from "./tar-header";
import type { SessionSource } from "./unixfs-file";

/**
 * `?format=tar` / `Accept: application/x-tar` (path-gateway.md, IPIP-288):
 * the UnixFS tree at the end of the path as a ustar stream whose top entry is
 * named after the last path segment (or the CID). The DAG is fetched with
 * one `dag-scope=all` CAR and written in its DFS order, one block at a time.
 *
 * No entry may land outside the top entry: names are joined and cleaned
 * (`a/../b` is fine), and one that climbs out is refused — with a 406 before
 * any byte when it sits in the top directory, by aborting the stream when it
 * is met deeper. Content that is not UnixFS is a 406.
 */
export async function serveTar(req: GatewayRequest, src: SessionSource, done: (complete: boolean) => void): Promise<Response> {
  const { path } = req;
  if (path.segments.length === 0) {
    if (path.root.code !== RAW && path.root.code !== DAG_PB) throw notUnixfs(path.root);
    const etag = tarEtag(path.root);
    if (ifNoneMatchHits(req.headers.get("If-None-Match"), etag)) {
      done(true);
      return notModified(etag, contentHeaders(path.raw, [path.root]));
    }
  }
  const rp: ResumePoint = { kind: "car", root: path.root, segments: path.segments, scope: req.method === "HEAD" ? "block" : "all" };
  const resolved = await resolvePath(src, path.root, path.segments, rp);
  const { terminal, terminalNode: node } = resolved;
  if (!isUnixfs(terminal, node)) throw notUnixfs(terminal.cid);
  const etag = tarEtag(terminal.cid);
  if (ifNoneMatchHits(req.headers.get("If-None-Match"), etag)) {
    done(rp.scope === "block");
    return notModified(etag, contentHeaders(path.raw, resolved.roots));
  }
  const rootName = path.segments.at(-1) ?? String(path.root);
  checkTopEntries(rootName, node);

  const headers = contentHeaders(path.raw, resolved.roots);
  headers.set("ETag", etag);
  headers.set("Content-Type", "application/x-tar");
  headers.set("X-Content-Type-Options", "nosniff");
  headers.set("Content-Disposition", contentDisposition("attachment", req.filename ?? `${rootName}.tar`));
  if (req.format.fromAccept) headers.set("Content-Location", contentLocation(req.url, { format: "tar" }));
  if (req.method === "HEAD") {
    done(true);
    return new Response(null, { status: 200, headers });
  }
  async function* archive(): AsyncGenerator<Uint8Array> {
    yield* entry(src, rootName, rootName, terminal, node, rp, 0);
    yield tarEnd();
  }
  return new Response(pullBody(archive(), done, "tar"), { status: 200, headers });
}

/** Weak: the archive is ours, not a byte-for-byte property of the DAG (path-gateway.md#etag-response-header). */
function tarEtag(cid: CID): string {
  return `W/"${cid}.x-tar"`;
}

function notUnixfs(cid: CID): HttpError {
  return notAcceptable(`${cid} is not UnixFS: only UnixFS files and directories can be served as application/x-tar`);
}

function isUnixfs(block: VerifiedBlock, node: DecodedNode): boolean {
  if (block.cid.code === RAW) return true;
  return node.kind === "dag-pb" && node.unixfs !== undefined && ["file", "raw", "directory", "hamt-sharded-directory", "symlink"].includes(node.unixfs.type);
}

/**
 * The path of entry `name` under `parent` (which starts with `root`),
 * cleaned; undefined when it would leave `root` or be `root` itself, or is
 * not a usable name.
 */
export function childPath(root: string, parent: string, name: string): string | undefined {
  if (name === "" || name.includes("\0")) return undefined;
  const parts = parent.split("/");
  for (const seg of name.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (parts.length <= 1) return undefined;
      parts.pop();
    } else {
      parts.push(seg);
    }
  }
  if (parts.length <= 1 || parts[0] !== root) return undefined;
  return parts.join("/");
}

function escapeError(parent: string, name: string): HttpError {
  return notAcceptable(`cannot serve as tar: entry "${safeText(name)}" in "${safeText(parent)}" would be written outside the archive's root`);
}

/** The top directory's own entries are checked before the response starts, so the common case fails cleanly. */
function checkTopEntries(root: string, node: DecodedNode): void {
  if (node.kind !== "dag-pb" || node.unixfs?.type !== "directory" && node.unixfs?.type !== "hamt-sharded-directory") return;
  const pad = isHamtShard(node) ? shardParams(node.unixfs).padLength : 0;
  for (const link of node.node.Links) {
    if (isHamtShard(node) && isSubShardLink(link, shardParams(node.unixfs))) continue;
    const name = (link.Name ?? "").slice(pad);
    if (childPath(root, root, name) === undefined) throw escapeError(root, name);
  }
}

const MAX_DEPTH = 256;

/** One entry and everything below it, in DFS order (the order of the dag-scope=all CAR). */
async function* entry(
  src: BlockSource,
  root: string,
  name: string,
  block: VerifiedBlock,
  node: DecodedNode,
  rp: ResumePoint,
  depth: number,
): AsyncGenerator<Uint8Array> {
  if (depth > MAX_DEPTH) throw new HttpError("bad_gateway", `tar: tree deeper than ${MAX_DEPTH} levels`);
  const unixfs = node.kind === "dag-pb" ? node.unixfs : undefined;
  const meta = { mtime: Number(unixfs?.mtime?.secs ?? 0n), mode: unixfs?.mode ?? 0o644 };
  const size = unixfsFileSize(block, node);
  if (size !== undefined) {
    yield tarHeader({ name, type: "file", size, ...meta });
    yield* fileBytes(src, block, node, [0, size - 1], true);
    yield padding(size);
    return;
  }
  if (node.kind !== "dag-pb" || !unixfs) throw new HttpError("bad_gateway", `tar: ${block.cid} under "${safeText(name)}" is not UnixFS`);
  if (unixfs.type === "symlink") {
    const target = new TextDecoder().decode(unixfs.data ?? new Uint8Array(0));
    yield tarHeader({ name, type: "symlink", size: 0, linkname: target, ...meta, mode: unixfs.mode ?? 0o777 });
    return;
  }
  if (unixfs.type !== "directory" && unixfs.type !== "hamt-sharded-directory") {
    throw new HttpError("bad_gateway", `tar: UnixFS ${unixfs.type} node ${block.cid} cannot be archived`);
  }
  yield tarHeader({ name: name + "/", type: "directory", size: 0, ...meta });
  yield* children(src, root, name, node, rp, depth);
}

/** A directory's entries in link order; a HAMT's shards are walked in place, as the CAR carries them. */
async function* children(
  src: BlockSource,
  root: string,
  parent: string,
  dir: Extract<DecodedNode, { kind: "dag-pb" }>,
  rp: ResumePoint,
  depth: number,
): AsyncGenerator<Uint8Array> {
  const params = isHamtShard(dir) ? shardParams(dir.unixfs) : undefined;
  for (const link of dir.node.Links) {
    if (params && isSubShardLink(link, params)) {
      const shard = decodeNode(link.Hash, await loadBlock(src, link.Hash, rp));
      if (!isHamtShard(shard)) throw new HttpError("bad_gateway", `HAMT link ${link.Hash} is not a shard`);
      yield* children(src, root, parent, shard, rp, depth + 1);
      continue;
    }
    const name = (link.Name ?? "").slice(params?.padLength ?? 0);
    const path = childPath(root, parent, name);
    if (path === undefined) throw escapeError(parent, name);
    const bytes = await loadBlock(src, link.Hash, rp);
    yield* entry(src, root, path, { cid: link.Hash, bytes }, decodeNode(link.Hash, bytes), rp, depth + 1);
  }
}
