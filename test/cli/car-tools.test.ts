/**
 * `ipfs-kit car verify|ls|roots|blocks|extract|split|merge|convert` on CARs
 * built on the fly: honest ones (from `car create`, cross-checked with
 * @ipld/car), and broken ones (a truncated CAR, a block under the wrong
 * CID, a missing block, a directory entry named "..", a symlink in the way).
 */
import { lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { CarReader } from "@ipld/car";
import * as dagPb from "@ipld/dag-pb";
import { UnixFS } from "ipfs-unixfs";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 } from "multiformats/hashes/sha2";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ipfsKit } from "./cli-process";
import { carOf, pseudoRandom, tempDir, writeTree, removeTempDirs } from "./fixtures";

afterAll(removeTempDirs);

const dir = tempDir();
const treeDir = writeTree(join(dir, "tree"), { "a.txt": "alpha\n", "sub/b.bin": pseudoRandom(2_500_000, 7), "sub/empty": "" });
const treeCar = join(dir, "tree.car");
let root = "";
let blocks: { cid: CID; bytes: Uint8Array }[] = [];

beforeAll(async () => {
  const r = await ipfsKit(["car", "create", treeDir, "-o", treeCar]);
  expect(r.code).toBe(0);
  root = r.stdout.trim();
  const reader = await CarReader.fromBytes(readFileSync(treeCar));
  blocks = [];
  for await (const b of reader.blocks()) blocks.push({ cid: b.cid, bytes: b.bytes });
});

async function rawBlock(text: string) {
  const bytes = new TextEncoder().encode(text);
  return { cid: CID.createV1(raw.code, await sha256.digest(bytes)), bytes };
}

async function dagPbBlock(node: dagPb.PBNode) {
  const bytes = dagPb.encode(dagPb.prepare(node));
  return { cid: CID.createV1(dagPb.code, await sha256.digest(bytes)), bytes };
}

describe("car verify", () => {
  test("an honest CAR: exit 0, the report in --json", async () => {
    const r = await ipfsKit(["car", "verify", treeCar, "--json"]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toEqual({ roots: [root], blocks: blocks.length, bytes: blocks.reduce((n, b) => n + b.bytes.length, 0), reachable: blocks.length, complete: true, problems: [] });
    expect(r.stderr).toBe(`ok: ${blocks.length} blocks, ${report.bytes} bytes, DAG complete from 1 root(s)\n`);
  });

  test("the same CAR from stdin", async () => {
    const r = await ipfsKit(["car", "verify", "-"], { stdin: readFileSync(treeCar) });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
  });

  test("a block under the wrong CID: exit 1, the block and its section named", async () => {
    const wrong = blocks.map((b, i) => (i === 1 ? { cid: b.cid, bytes: Uint8Array.from(b.bytes, (x, j) => (j === 10 ? x ^ 1 : x)) } : b));
    const file = join(dir, "wrong.car");
    writeFileSync(file, await carOf([CID.parse(root)], wrong));
    const r = await ipfsKit(["car", "verify", file, "--json"]);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.complete).toBe(true);
    expect(report.problems).toEqual([{ cid: blocks[1]!.cid.toString(), section: 2, kind: "hash-mismatch", message: expect.stringContaining(`section 2 (byte `) }]);
    expect(report.problems[0].message).toContain(`block ${blocks[1]!.cid} does not hash to its CID`);
    const text = await ipfsKit(["car", "verify", file]);
    expect(text.stdout).toBe(`${report.problems[0].message}\n`);
    expect(text.stderr).toBe(`1 problem(s) in ${blocks.length} blocks\n`);
  });

  test("a missing block: exit 1, named with the block that links to it", async () => {
    const leafIndex = blocks.findIndex((b) => b.cid.code === raw.code && b.bytes.length === 1024 * 1024);
    const missing = blocks[leafIndex]!.cid;
    const file = join(dir, "missing.car");
    writeFileSync(file, await carOf([CID.parse(root)], blocks.filter((_, i) => i !== leafIndex)));
    const r = await ipfsKit(["car", "verify", file, "--json"]);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.complete).toBe(false);
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]).toMatchObject({ cid: missing.toString(), kind: "missing-block" });
    expect(report.problems[0].message).toMatch(new RegExp(`^block ${missing} \\(linked from bafy\\w+\\) is not in the CAR$`));
  });

  test("a truncated CAR: exit 1, the section where it breaks off", async () => {
    const bytes = readFileSync(treeCar);
    const file = join(dir, "truncated.car");
    writeFileSync(file, bytes.subarray(0, bytes.length - 10));
    const r = await ipfsKit(["car", "verify", file, "--json"]);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.problems[0]).toMatchObject({ kind: "truncated", section: blocks.length, message: expect.stringContaining("CAR section truncated") });
    expect(report.complete).toBe(false);
  });

  test("not a CAR, and a missing file: exit 1, one line", async () => {
    const junk = join(dir, "junk.car");
    writeFileSync(junk, "hello, this is not a CAR at all");
    const a = await ipfsKit(["car", "verify", junk]);
    expect(a.code).toBe(1);
    expect(a.stderr).toMatch(/^ipfs-kit: .*junk\.car: not a CAR: .+\n$/);
    const b = await ipfsKit(["car", "verify", join(dir, "absent.car")]);
    expect(b.code).toBe(1);
    expect(b.stderr).toBe(`ipfs-kit: cannot read ${join(dir, "absent.car")}: no such file or directory\n`);
  });
});

describe("car roots, blocks, ls", () => {
  test("roots and blocks match @ipld/car's reading", async () => {
    const roots = await ipfsKit(["car", "roots", treeCar, "--json"]);
    expect(JSON.parse(roots.stdout)).toEqual({ roots: [root] });
    expect((await ipfsKit(["car", "roots", treeCar])).stdout).toBe(`${root}\n`);
    const listed = JSON.parse((await ipfsKit(["car", "blocks", treeCar, "--json"])).stdout).blocks as { cid: string; size: number; offset: number }[];
    expect(listed.map((b) => [b.cid, b.size])).toEqual(blocks.map((b) => [b.cid.toString(), b.bytes.length]));
    const file = readFileSync(treeCar);
    for (const [i, b] of listed.entries()) expect(Buffer.compare(file.subarray(b.offset, b.offset + b.size), Buffer.from(blocks[i]!.bytes))).toBe(0);
  });

  test("ls lists every entry with its size", async () => {
    const r = await ipfsKit(["car", "ls", treeCar, "--json"]);
    expect(r.code).toBe(0);
    const entries = JSON.parse(r.stdout).entries.map((e: { path: string; type: string; size: number }) => [e.path, e.type, e.size]);
    expect(entries).toEqual([
      ["", "directory", 0],
      ["a.txt", "file", 6],
      ["sub", "directory", 0],
      ["sub/b.bin", "file", 2_500_000],
      ["sub/empty", "file", 0],
    ]);
    const text = await ipfsKit(["car", "ls", treeCar]);
    expect(text.stdout.split("\n")[3]).toMatch(/^bafy\w+\t2500000\tsub\/b\.bin$/);
  });
});

describe("car extract", () => {
  test("writes the tree byte for byte", async () => {
    const target = join(dir, "out-tree");
    const r = await ipfsKit(["car", "extract", treeCar, target, "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ root, files: 3, directories: 2, symlinks: 0, bytes: 2_500_006, blocks: blocks.length });
    expect(readFileSync(join(target, "sub/b.bin")).equals(readFileSync(join(treeDir, "sub/b.bin")))).toBe(true);
    expect(readFileSync(join(target, "a.txt"), "utf8")).toBe("alpha\n");
    expect(readFileSync(join(target, "sub/empty")).length).toBe(0);
  });

  test("a corrupted block stops extraction with exit 1 before its bytes are written", async () => {
    const leaf = blocks.findIndex((b) => b.cid.code === raw.code && b.bytes.length === 1024 * 1024);
    const bad = blocks.map((b, i) => (i === leaf ? { cid: b.cid, bytes: new Uint8Array(b.bytes.length) } : b));
    const file = join(dir, "bad-leaf.car");
    writeFileSync(file, await carOf([CID.parse(root)], bad));
    const target = join(dir, "out-bad");
    const r = await ipfsKit(["car", "extract", file, target]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^ipfs-kit: block ${blocks[leaf]!.cid} \\(at byte \\d+\\) does not hash to its CID; extraction stopped, .* is incomplete\\n$`));
    // No zero bytes of the forged block reached the file: it holds only what came before it.
    const written = readFileSync(join(target, "sub/b.bin"));
    expect(written.length % (1024 * 1024)).toBe(0);
    expect(written.equals(readFileSync(join(treeDir, "sub/b.bin")).subarray(0, written.length))).toBe(true);
  });

  test("an entry named '..' is refused; nothing is written outside the target", async () => {
    const evil = await rawBlock("escaped!\n");
    const dirNode = await dagPbBlock({ Data: new UnixFS({ type: "directory" }).marshal(), Links: [{ Name: "..", Hash: evil.cid, Tsize: evil.bytes.length }] });
    const file = join(dir, "dotdot.car");
    writeFileSync(file, await carOf([dirNode.cid], [dirNode, evil]));
    const parent = join(dir, "jail");
    mkdirSync(parent);
    const r = await ipfsKit(["car", "extract", file, join(parent, "inner")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`ipfs-kit: directory ${dirNode.cid} has an unsafe entry name ".."; extraction stopped, ${join(parent, "inner")} is incomplete\n`);
    expect(readdirSync(parent)).toEqual(["inner"]);
    expect(readdirSync(join(parent, "inner"))).toEqual([]);
  });

  test("symlinks are written as links and never followed, even by later entries", async () => {
    const link = await dagPbBlock({ Data: new UnixFS({ type: "symlink", data: new TextEncoder().encode("/etc") }).marshal(), Links: [] });
    const dirNode = await dagPbBlock({ Data: new UnixFS({ type: "directory" }).marshal(), Links: [{ Name: "etc-link", Hash: link.cid, Tsize: link.bytes.length }] });
    const file = join(dir, "symlink.car");
    writeFileSync(file, await carOf([dirNode.cid], [dirNode, link]));
    const target = join(dir, "out-link");
    const r = await ipfsKit(["car", "extract", file, target, "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ files: 0, directories: 1, symlinks: 1 });
    expect(lstatSync(join(target, "etc-link")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(target, "etc-link"))).toBe("/etc");

    // A symlink already in the target where the CAR has a directory: refused, not followed.
    const outside = join(dir, "outside");
    mkdirSync(outside);
    const target2 = join(dir, "out-trap");
    mkdirSync(target2);
    symlinkSync(outside, join(target2, "sub"));
    const r2 = await ipfsKit(["car", "extract", treeCar, target2]);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain(`cannot create directory ${join(target2, "sub")}: something that is not a directory is in the way`);
    expect(readdirSync(outside)).toEqual([]);
  });

  test("from stdin (copied to a temporary file first)", async () => {
    const target = join(dir, "out-stdin");
    const r = await ipfsKit(["car", "extract", "-", target, "--json"], { stdin: readFileSync(treeCar) });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ root, files: 3, bytes: 2_500_006 });
    expect(readFileSync(join(target, "a.txt"), "utf8")).toBe("alpha\n");
  });

  test("existing files are not overwritten", async () => {
    const target = join(dir, "out-exists");
    writeTree(target, { "a.txt": "mine\n" });
    const r = await ipfsKit(["car", "extract", treeCar, target]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`ipfs-kit: cannot create ${join(target, "a.txt")}: already exists\n`);
    expect(readFileSync(join(target, "a.txt"), "utf8")).toBe("mine\n");
  });
});

describe("car split, merge, convert", () => {
  test("split under 1.1 MB: valid CARs, every block once, a manifest; merge gives back a CAR that verifies", async () => {
    const out = join(dir, "pieces");
    const r = await ipfsKit(["car", "split", treeCar, "--max-size", "1100000", "-o", out, "--json"]);
    expect(r.code).toBe(0);
    const manifest = JSON.parse(r.stdout);
    expect(manifest).toMatchObject({ version: 1, source: "tree.car", roots: [root], maxSize: 1100000 });
    expect(JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"))).toEqual(manifest);
    const seen: string[] = [];
    for (const piece of manifest.pieces) {
      const bytes = readFileSync(join(out, piece.file));
      expect(bytes.length).toBe(piece.bytes);
      expect(bytes.length).toBeLessThanOrEqual(1100000);
      const reader = await CarReader.fromBytes(bytes);
      expect((await reader.getRoots()).map(String)).toEqual(piece.roots);
      for await (const b of reader.blocks()) seen.push(b.cid.toString());
      if (piece.complete) expect((await ipfsKit(["car", "verify", join(out, piece.file)])).code).toBe(0);
    }
    expect(seen.sort()).toEqual(blocks.map((b) => b.cid.toString()).sort());
    expect(manifest.pieces.some((p: { complete: boolean }) => p.complete)).toBe(true);

    const merged = join(dir, "merged.car");
    const m = await ipfsKit(["car", "merge", join(out, "manifest.json"), "-o", merged, "--json"]);
    expect(m.code).toBe(0);
    expect(JSON.parse(m.stdout)).toEqual({ output: merged, roots: [root], blocks: blocks.length, bytes: blocks.reduce((n, b) => n + b.bytes.length, 0), inputs: manifest.pieces.length });
    expect((await ipfsKit(["car", "verify", merged])).code).toBe(0);
    // Without the manifest, the merged roots are the pieces' roots no block links to: the DAG root.
    const m2 = await ipfsKit(["car", "merge", ...manifest.pieces.map((p: { file: string }) => join(out, p.file)), "-o", join(dir, "merged2.car"), "--json"]);
    expect(JSON.parse(m2.stdout).roots).toEqual([root]);
  });

  test("a max size below the largest block is a failure naming the block", async () => {
    const r = await ipfsKit(["car", "split", treeCar, "--max-size", "64KiB", "-o", join(dir, "nope")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^ipfs-kit: block bafk\w+ alone \(\d+ bytes with its CID\) does not fit in --max-size 65536\n$/);
  });

  test("v1 -> v2 -> v1 gives back the same bytes; the v2 is read by @ipld/car and its index points at every section", async () => {
    const v2 = join(dir, "tree.v2.car");
    const r = await ipfsKit(["car", "convert", treeCar, "--to", "v2", "-o", v2, "--json"]);
    expect(r.code).toBe(0);
    const v1bytes = readFileSync(treeCar);
    expect(JSON.parse(r.stdout)).toEqual({ output: v2, version: 2, dataSize: v1bytes.length, indexEntries: blocks.length, bytes: readFileSync(v2).length });
    const v2bytes = readFileSync(v2);
    const reader = await CarReader.fromBytes(v2bytes);
    expect((await reader.getRoots()).map(String)).toEqual([root]);
    expect(reader.version).toBe(2);
    // Index (MultihashIndexSorted): codec 0x0401, one sha2-256 bucket of width 40 (32-byte digest + offset).
    const view = new DataView(v2bytes.buffer, v2bytes.byteOffset);
    const indexOffset = Number(view.getBigUint64(11 + 32, true));
    expect([...v2bytes.subarray(indexOffset, indexOffset + 2)]).toEqual([0x81, 0x08]);
    expect(view.getInt32(indexOffset + 2, true)).toBe(1);
    expect(Number(view.getBigUint64(indexOffset + 6, true))).toBe(0x12);
    expect(view.getUint32(indexOffset + 18, true)).toBe(40);
    const count = Number(view.getBigInt64(indexOffset + 22, true)) / 40;
    expect(count).toBe(blocks.length);
    for (let i = 0; i < count; i++) {
      const at = indexOffset + 30 + i * 40;
      const digest = v2bytes.subarray(at, at + 32);
      const offset = Number(view.getBigUint64(at + 32, true));
      const block = blocks.find((b) => Buffer.from(b.cid.multihash.digest).equals(digest))!;
      // The section at `offset` of the payload starts with varint(len) then this block's CID.
      const section = v1bytes.subarray(offset, offset + 64);
      const cidAt = section.indexOf(Buffer.from(block.cid.bytes));
      expect(cidAt).toBeGreaterThan(0);
      expect(cidAt).toBeLessThanOrEqual(3);
    }
    const back = join(dir, "tree.back.car");
    expect((await ipfsKit(["car", "convert", v2, "--to", "v1", "-o", back])).code).toBe(0);
    expect(readFileSync(back).equals(v1bytes)).toBe(true);
    // Every reading command takes the v2 as it is.
    expect((await ipfsKit(["car", "verify", v2])).code).toBe(0);
    expect(JSON.parse((await ipfsKit(["car", "roots", v2, "--json"])).stdout)).toEqual({ roots: [root] });
    const fromV2 = join(dir, "out-from-v2");
    expect(JSON.parse((await ipfsKit(["car", "extract", v2, fromV2, "--json"])).stdout)).toMatchObject({ root, files: 3, bytes: 2_500_006 });
    expect(readFileSync(join(fromV2, "sub/b.bin")).equals(readFileSync(join(treeDir, "sub/b.bin")))).toBe(true);
    // Blocks listed from a v2 point into the file itself (the payload starts at byte 51).
    const listed = JSON.parse((await ipfsKit(["car", "blocks", v2, "--json"])).stdout).blocks as { offset: number; size: number }[];
    expect(listed[0]!.offset).toBe(51 + JSON.parse((await ipfsKit(["car", "blocks", treeCar, "--json"])).stdout).blocks[0].offset);
    // A CARv2 on stdin is refused with a clear line.
    const piped = await ipfsKit(["car", "verify", "-"], { stdin: v2bytes });
    expect(piped.code).toBe(1);
    expect(piped.stderr).toBe("ipfs-kit: -: a CARv2 cannot be read from stdin (its payload offset needs a seekable file): pass it as a file\n");
    expect(existsSync(back)).toBe(true);
  });
});

describe("hash functions", () => {
  test("blake3 and sha2-512 blocks verify; a wrong blake3 block is named; an unknown hash is reported, not trusted", async () => {
    const { blake3 } = await import("@noble/hashes/blake3.js");
    const { sha512 } = await import("multiformats/hashes/sha2");
    const Digest = await import("multiformats/hashes/digest");
    const a = new TextEncoder().encode("blake3 block\n");
    const b = new TextEncoder().encode("sha2-512 block\n");
    const c = new TextEncoder().encode("murmur block\n");
    const blakeCid = CID.createV1(raw.code, Digest.create(0x1e, blake3(a)));
    const shaCid = CID.createV1(raw.code, await sha512.digest(b));
    const unknownCid = CID.createV1(raw.code, Digest.create(0x22, new Uint8Array(8)));
    const dirNode = await dagPbBlock({
      Data: new UnixFS({ type: "directory" }).marshal(),
      Links: [
        { Name: "a", Hash: blakeCid, Tsize: a.length },
        { Name: "b", Hash: shaCid, Tsize: b.length },
      ],
    });
    const good = join(dir, "hashes.car");
    writeFileSync(good, await carOf([dirNode.cid], [dirNode, { cid: blakeCid, bytes: a }, { cid: shaCid, bytes: b }]));
    const ok = await ipfsKit(["car", "verify", good, "--json"]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ blocks: 3, complete: true, problems: [] });
    const out = join(dir, "hashes-out");
    expect((await ipfsKit(["car", "extract", good, out])).code).toBe(0);
    expect(readFileSync(join(out, "a"), "utf8")).toBe("blake3 block\n");

    const bad = join(dir, "hashes-bad.car");
    writeFileSync(bad, await carOf([dirNode.cid], [dirNode, { cid: blakeCid, bytes: b }, { cid: shaCid, bytes: b }, { cid: unknownCid, bytes: c }]));
    const r = await ipfsKit(["car", "verify", bad, "--json"]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).problems.map((p: { kind: string; cid: string; section: number }) => [p.kind, p.cid, p.section])).toEqual([
      ["hash-mismatch", blakeCid.toString(), 2],
      ["unsupported-hash", unknownCid.toString(), 4],
    ]);
  });
});
