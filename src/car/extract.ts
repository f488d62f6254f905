import { constants } from "node:fs";
import { lstat, mkdir, open, symlink } from "node:fs/promises";
import { resolve, sep } from "node:path";
import type { CID } from "multiformats/cid";
import { CarInputError, describeFsError } from "./file-stream";
import { fileBytes, walkUnixfs, type GetBlock } from "./unixfs-walk";

export interface ExtractResult {
  files: number;
  directories: number;
  symlinks: number;
  bytes: number;
}

/**
 * Writes the UnixFS DAG under `root` into `target`: directories as
 * directories, files byte for byte (each block verified by `get` before its
 * bytes are written), symlinks as symlinks whose target is written as is
 * and never followed. A file root is written as `<target>/<cid>`.
 * `release` takes back each chunk once written (CarIndex.release).
 *
 * No entry can land outside `target`: names are single segments (checked by
 * the walk), every path is checked to resolve under `target`, files are
 * created with O_EXCL|O_NOFOLLOW (never through a link, never over an
 * existing file) and a directory that exists must be a real directory.
 */
export async function extractUnixfs(get: GetBlock, root: CID, target: string, onBytes?: (n: number) => void, release?: (bytes: Uint8Array) => void): Promise<ExtractResult> {
  const base = resolve(target);
  const result: ExtractResult = { files: 0, directories: 0, symlinks: 0, bytes: 0 };
  try {
    await mkdir(base, { recursive: true });
  } catch (err) {
    throw new CarInputError(`cannot create directory ${target}: ${describeFsError(err)}`);
  }
  await ensureDirectory(base);
  for await (const entry of walkUnixfs(get, root)) {
    const rel = entry.path === "" ? (entry.type === "directory" ? "" : root.toString()) : entry.path;
    const path = rel === "" ? base : resolve(base, rel);
    if (path !== base && !path.startsWith(base + sep)) throw new CarInputError(`entry ${JSON.stringify(entry.path)} would be written outside ${target}`);
    switch (entry.type) {
      case "directory":
        if (path !== base) await ensureDirectory(path);
        result.directories++;
        break;
      case "file": {
        let handle;
        try {
          handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
        } catch (err) {
          throw new CarInputError(`cannot create ${path}: ${describeFsError(err)}`);
        }
        try {
          for await (const chunk of fileBytes(get, entry.cid, entry.node, entry.bytes)) {
            await handle.write(chunk);
            release?.(chunk); // written: a pooled raw leaf's buffer can be reused
            result.bytes += chunk.length;
            onBytes?.(chunk.length);
          }
        } finally {
          await handle.close();
        }
        result.files++;
        break;
      }
      case "symlink":
        try {
          await symlink(entry.target ?? "", path);
        } catch (err) {
          throw new CarInputError(`cannot create symlink ${path}: ${describeFsError(err)}`);
        }
        result.symlinks++;
        break;
      default:
        throw new CarInputError(`block ${entry.cid} at ${JSON.stringify(entry.path)} is not UnixFS: nothing to extract`);
    }
  }
  return result;
}

/** Creates `path` as a directory, or accepts it if it already is one (never a symlink to one). */
async function ensureDirectory(path: string): Promise<void> {
  try {
    await mkdir(path);
    return;
  } catch (err) {
    if ((err as { code?: string }).code !== "EEXIST") throw new CarInputError(`cannot create directory ${path}: ${describeFsError(err)}`);
  }
  const stat = await lstat(path);
  if (!stat.isDirectory()) throw new CarInputError(`cannot create directory ${path}: something that is not a directory is in the way`);
}
