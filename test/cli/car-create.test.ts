/**
 * `ipfs-kit car create`: root CIDs equal to `ipfs-car pack` (ipfs-car 3.1 from
 * npm, run as a process on the same input) for files, trees, empty files,
 * nested folders and a HAMT-sized folder; the options checked against
 * ipfs-unixfs-importer; the CAR itself checked block by block.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CarReader } from "@ipld/car";
import { importer } from "ipfs-unixfs-importer";
import { balanced } from "ipfs-unixfs-importer/layout";
import { fixedSize } from "ipfs-unixfs-importer/chunker";
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import { afterAll, describe, expect, test } from "vitest";
import { ipfsKit } from "./cli-process";
import { ipfsCarPack, pseudoRandom, tempDir, writeTree, removeTempDirs } from "./fixtures";

afterAll(removeTempDirs);

const dir = tempDir();

async function create(input: string, extra: string[] = []): Promise<{ root: string; car: Uint8Array; json: Record<string, unknown> }> {
  const out = join(dir, `out-${Math.random().toString(36).slice(2)}.car`);
  const r = await ipfsKit(["car", "create", input, "-o", out, "--json", ...extra]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const json = JSON.parse(r.stdout) as Record<string, unknown>;
  return { root: json.root as string, car: readFileSync(out), json };
}

/** Every block of the CAR hashes to its CID; the header's root is `root`. */
async function expectSoundCar(car: Uint8Array, root: string): Promise<number> {
  const reader = await CarReader.fromBytes(car);
  expect((await reader.getRoots()).map(String)).toEqual([root]);
  let n = 0;
  for await (const block of reader.blocks()) {
    if (block.cid.multihash.code === sha256.code) expect((await sha256.digest(block.bytes)).digest).toEqual(block.cid.multihash.digest);
    n++;
  }
  return n;
}

describe("same root CID as ipfs-car pack", () => {
  const tree = writeTree(join(dir, "tree"), {
    "a.txt": "hello\n",
    "empty": "",
    "sub/b.bin": pseudoRandom(300_000, 1),
    "sub/deep/deeper/c.txt": "nested\n",
    "sub/deep/e": "",
    "z-last/big.bin": pseudoRandom(2 * 1024 * 1024 + 17, 2),
  });
  const hamt = writeTree(
    join(dir, "hamt"),
    Object.fromEntries(Array.from({ length: 1100 }, (_, i) => [`entry-${i}.txt`, `${i}\n`])),
  );
  writeFileSync(join(dir, "three-chunks.bin"), pseudoRandom(3 * 1024 * 1024 + 5, 3));
  writeFileSync(join(dir, "empty.txt"), "");

  test.each([
    ["a 3-chunk file", "three-chunks.bin"],
    ["an empty file", "empty.txt"],
    ["a tree with nested folders and empty files", "tree"],
    ["a 1100-entry folder (HAMT)", "hamt"],
  ])("%s, unwrapped", async (_, name) => {
    const input = join(dir, name);
    const expected = await ipfsCarPack(input, join(dir, `ref-${name}.car`), false);
    const { root, car, json } = await create(input);
    expect(root).toBe(expected);
    const blocks = await expectSoundCar(car, expected);
    expect(json.blocks).toBe(blocks);
    expect(json.carBytes).toBe(car.length);
  });

  test("a file wrapped in a directory (ipfs-car's default)", async () => {
    const input = join(dir, "three-chunks.bin");
    const expected = await ipfsCarPack(input, join(dir, "ref-wrapped.car"), true);
    expect((await create(input, ["--wrap"])).root).toBe(expected);
  });

  test("the HAMT root is a sharded directory, the small tree a plain one", async () => {
    const ls = await ipfsKit(["car", "ls", "--json", join(dir, "ref-hamt.car")]);
    const entries = (JSON.parse(ls.stdout) as { entries: { path: string; type: string; size: number }[] }).entries;
    expect(entries.length).toBe(1101);
    expect(entries.filter((e) => e.type === "file").length).toBe(1100);
    const car = await CarReader.fromBytes(readFileSync(join(dir, "ref-hamt.car")));
    const root = (await car.getRoots())[0]!;
    const { UnixFS } = await import("ipfs-unixfs");
    const dagPb = await import("@ipld/dag-pb");
    const node = dagPb.decode((await car.get(root))!.bytes);
    expect(UnixFS.unmarshal(node.Data!).type).toBe("hamt-sharded-directory");
  });

  test("stdin gives the same CID as the file, and the CAR on stdout", async () => {
    const bytes = readFileSync(join(dir, "three-chunks.bin"));
    const r = await ipfsKit(["car", "create", "-"], { stdin: bytes });
    expect(r.code).toBe(0);
    const expected = await ipfsCarPack(join(dir, "three-chunks.bin"), join(dir, "ref-stdin.car"), false);
    expect(r.stderr.trim()).toBe(expected);
    expect(await expectSoundCar(r.bytes, expected)).toBe(5);
  });
});

describe("options, checked against ipfs-unixfs-importer", () => {
  const file = join(dir, "opts.bin");
  const bytes = pseudoRandom(600_000, 4);
  writeFileSync(file, bytes);

  async function importerRoot(options: Parameters<typeof importer>[2]): Promise<string> {
    const blockstore = { put: async (cid: CID) => cid, get: async () => new Uint8Array() } as never;
    let root: CID | undefined;
    for await (const entry of importer([{ content: bytes }], blockstore, options)) root = entry.cid as unknown as CID;
    return root!.toString();
  }

  test("--chunk-size 1KiB --max-links 174 (ipfs add's layout): 586 leaves, 2 levels of parents", async () => {
    const expected = await importerRoot({ cidVersion: 1, rawLeaves: true, chunker: fixedSize({ chunkSize: 1024 }), layout: balanced({ maxChildrenPerNode: 174 }) });
    const { root, json } = await create(file, ["--chunk-size", "1KiB", "--max-links", "174"]);
    expect(root).toBe(expected);
    expect(json.blocks).toBe(586 + 4 + 1);
  });

  test("--cid-version 0 --chunk-size 256KiB: dag-pb leaves, a Qm root", async () => {
    const expected = await importerRoot({ cidVersion: 0, rawLeaves: false, chunker: fixedSize({ chunkSize: 262144 }), layout: balanced({ maxChildrenPerNode: 1024 }), reduceSingleLeafToSelf: true });
    const { root } = await create(file, ["--cid-version", "0", "--chunk-size", "256KiB"]);
    expect(root).toMatch(/^Qm/);
    expect(root).toBe(expected);
    expect(CID.parse(root).version).toBe(0);
  });

  test("--shard-threshold 3 turns a 4-entry folder into a HAMT, which extracts back to the same files", async () => {
    const small = writeTree(join(dir, "four"), { a: "1", b: "2", c: "3", d: "4" });
    const { root } = await create(small, ["--shard-threshold", "3"]);
    const plain = await create(small);
    expect(root).not.toBe(plain.root);
    const out = join(dir, "four-out.car");
    await ipfsKit(["car", "create", small, "--shard-threshold", "3", "-o", out]);
    const target = join(dir, "four-extracted");
    const x = await ipfsKit(["car", "extract", out, target, "--json"]);
    expect(x.code).toBe(0);
    expect(JSON.parse(x.stdout)).toMatchObject({ root, files: 4, directories: 1, bytes: 4 });
    expect(["a", "b", "c", "d"].map((n) => readFileSync(join(target, n), "utf8"))).toEqual(["1", "2", "3", "4"]);
  });

  test("bad option values are usage errors (exit 2) naming the option", async () => {
    for (const [args, text] of [
      [["--chunk-size", "lots"], "--chunk-size"],
      [["--chunk-size", "4MiB"], "--chunk-size"],
      [["--cid-version", "2"], "--cid-version"],
      [["--bogus"], "--bogus"],
    ] as const) {
      const r = await ipfsKit(["car", "create", file, "-o", join(dir, "x.car"), ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(text);
      expect(r.stderr.trim().split("\n").length).toBe(1);
    }
  });

  test("a missing input is a failure (exit 1) in one line; --json gives the error as the one JSON value", async () => {
    const r = await ipfsKit(["car", "create", join(dir, "nope"), "-o", join(dir, "x.car"), "--json"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`ipfs-kit: cannot read ${join(dir, "nope")}: no such file or directory\n`);
    expect(JSON.parse(r.stdout)).toEqual({ error: { kind: "bad-input", message: `cannot read ${join(dir, "nope")}: no such file or directory` } });
  });
});
