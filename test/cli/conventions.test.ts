/**
 * What every command shares (docs/cli.md "Conventions"): --help with
 * examples, exit status 2 for usage errors with one line, --json errors as
 * one JSON value, and the bin running on Node 20 (the system node) and on
 * the Node 24 of the devDependencies.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 } from "multiformats/hashes/sha2";
import { afterAll, describe, expect, test } from "vitest";
import { ipfsKit, REPO_ROOT, run } from "./cli-process";
import { tempDir, removeTempDirs } from "./fixtures";

afterAll(removeTempDirs);

const COMMANDS = ["car create", "car extract", "car verify", "car ls", "car roots", "car blocks", "car split", "car merge", "car convert", "pin add", "pin ls", "pin status", "pin rm", "get", "verify", "gateway test", "gateway bench", "backend ls", "backend test", "migrate content", "migrate batch"];

describe("help", () => {
  test("ipfs-kit --help lists every command", async () => {
    const r = await ipfsKit(["--help"]);
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${c} +\\S`, "m"));
    expect(r.stdout).toContain("Exit status: 0 ok, 1 failure, 2 usage error");
  });

  test.each(COMMANDS)("ipfs-kit %s --help: usage, options, examples", async (command) => {
    const r = await ipfsKit([...command.split(" "), "--help"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(new RegExp(`^ipfs-kit ${command}: `));
    expect(r.stdout).toContain(`Usage: ipfs-kit ${command}`);
    expect(r.stdout).toContain("--json");
    const examples = r.stdout.split("Examples:\n")[1]!.trim().split("\n");
    expect(examples.length).toBeGreaterThan(0);
    for (const e of examples) expect(e).toContain("ipfs-kit ");
    expect(examples.some((e) => e.includes(`ipfs-kit ${command}`))).toBe(true);
  });
});

describe("usage errors exit 2 with one line", () => {
  test.each([
    [["frobnicate"], 'ipfs-kit: unknown command "frobnicate" (see: ipfs-kit --help)\n'],
    [["car", "verify"], "ipfs-kit: missing argument: ipfs-kit car verify <car|-> (see: ipfs-kit car verify --help)\n"],
    [["car", "roots", "a", "b"], "ipfs-kit: too many arguments: ipfs-kit car roots <car|-> (see: ipfs-kit car roots --help)\n"],
    [["car", "split", "x.car"], "ipfs-kit: --max-size is required (see: ipfs-kit car split --help)\n"],
    [["car", "convert", "x.car", "--to", "v3", "-o", "y"], "ipfs-kit: --to must be v1 or v2 (see: ipfs-kit car convert --help)\n"],
    [["get", "not-a-cid"], 'ipfs-kit: "not-a-cid" is not a valid CID (see: ipfs-kit get --help)\n'],
    [["pin", "ls"], `ipfs-kit: no service: pass --endpoint <url>, set IPFS_KIT_URL, or put "endpoint" in /nowhere/ipfs-kit/config.json (see: ipfs-kit pin ls --help)\n`],
  ])("%j", async (args, stderr) => {
    const r = await ipfsKit(args, { env: { XDG_CONFIG_HOME: "/nowhere" } });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(stderr);
    expect(r.stdout).toBe("");
  });

  test("with --json the error is the one JSON value on stdout", async () => {
    const r = await ipfsKit(["car", "verify", "--json"]);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({ error: { kind: "usage", message: "missing argument: ipfs-kit car verify <car|->" } });
  });

  test("a CAR is never written to a terminal-less --json stdout", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "f"), "x");
    const r = await ipfsKit(["car", "create", join(dir, "f"), "--json"]);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error.message).toBe("--json writes its result on stdout: give the CAR a file with -o");
  });
});

describe("runs on Node 20 and Node 24", () => {
  const nodes = [
    ["system node", "/usr/bin/node"],
    ["devDependency node", join(REPO_ROOT, "node_modules/node/bin/node")],
  ].filter(([, path]) => existsSync(path!));

  test.each(nodes)("%s (%s): version, and car create gives the same root", async (_, node) => {
    const version = await run(node!, ["--version"], {});
    const dir = tempDir();
    writeFileSync(join(dir, "f.txt"), "same bytes on every node\n");
    const r = await ipfsKit(["car", "create", join(dir, "f.txt"), "-o", join(dir, "f.car"), "--json"], { node });
    expect(r.code, `${version.stdout} ${r.stderr}`).toBe(0);
    // One chunk: the root is the raw leaf itself.
    expect(JSON.parse(r.stdout).root).toBe(CID.createV1(raw.code, await sha256.digest(new TextEncoder().encode("same bytes on every node\n"))).toString());
    expect((await ipfsKit(["car", "verify", join(dir, "f.car")], { node })).code).toBe(0);
    expect(readFileSync(join(dir, "f.car")).length).toBe(JSON.parse(r.stdout).carBytes);
  });

  test("both Node majors are covered here", () => {
    expect(nodes.length).toBe(2);
  });
});

describe("progress bar", () => {
  // util-linux `script` runs the CLI on a pseudo-terminal (stdout and stderr both go to it).
  const hasScript = existsSync("/usr/bin/script");

  test.skipIf(!hasScript)("drawn on a terminal (bytes, rate, ETA), not when CI is set, never on a pipe", async () => {
    const dir = tempDir();
    const file = join(dir, "p.bin");
    writeFileSync(file, new Uint8Array(24 * 1024 * 1024).map((_, i) => (i * 7919) % 251));
    const command = `${process.execPath} ${join(REPO_ROOT, "dist/ipfs-kit.mjs")} car create ${file} -o ${join(dir, "p.car")}`;
    const env = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp" };
    const tty = await run("/usr/bin/script", ["-qec", command, "/dev/null"], { env });
    expect(tty.code).toBe(0);
    expect(tty.stdout).toMatch(/\rpacking \[[#-]{24}\] +\d+% [\d.]+ MiB\/24\.0 MiB [\d.]+ (KiB|MiB|GiB)\/s ETA \d+s/);
    const ci = await run("/usr/bin/script", ["-qec", command, "/dev/null"], { env: { ...env, CI: "true" } });
    expect(ci.stdout).not.toContain("packing");
    expect(ci.stdout.trim()).toMatch(/^bafy\w+$/);
    const piped = await ipfsKit(["car", "create", file, "-o", join(dir, "p2.car")], { env: { CI: undefined } });
    expect(piped.stderr).toBe("");
  });
});
