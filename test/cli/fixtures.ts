/** Inputs the CLI tests build on the fly in a temporary directory: pseudo-random bytes (seeded), trees, CARs. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { CarWriter } from "@ipld/car/writer";
import type { CID } from "multiformats/cid";
import { run, REPO_ROOT } from "./cli-process";

const made: string[] = [];

/** A fresh temporary directory, removed by `removeTempDirs` (each test file's afterAll). */
export function tempDir(prefix = "ipfs-kit-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** `n` deterministic pseudo-random bytes (xorshift32 from `seed`): incompressible, repeatable. */
export { pseudoRandomBytes as pseudoRandom } from "../helpers/pseudo-random";

/** Writes `files` (path → content) under `root`, creating folders. */
export function writeTree(root: string, files: Record<string, Uint8Array | string>): string {
  for (const [path, content] of Object.entries(files)) {
    const full = join(root, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
  return root;
}

/** `ipfs-car pack <input> [--no-wrap] -o <out>`: the root CID it prints. */
export async function ipfsCarPack(input: string, out: string, wrap: boolean): Promise<string> {
  const r = await run(process.execPath, [`${REPO_ROOT}node_modules/ipfs-car/bin.js`, "pack", input, ...(wrap ? [] : ["--no-wrap"]), "-o", out], {});
  if (r.code !== 0) throw new Error(`ipfs-car pack failed: ${r.stderr}`);
  return r.stdout.trim();
}

/** A CARv1 of exactly these sections, in this order (blocks may lie about their CID). */
export async function carOf(roots: CID[], blocks: { cid: CID; bytes: Uint8Array }[]): Promise<Uint8Array> {
  const { writer, out } = CarWriter.create(roots);
  const chunks: Uint8Array[] = [];
  const collect = (async () => {
    for await (const c of out) chunks.push(c);
  })();
  for (const b of blocks) await writer.put(b);
  await writer.close();
  await collect;
  return Buffer.concat(chunks);
}
