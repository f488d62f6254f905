/**
 * The `ipfs-kit` CAR toolkit on a multi-GiB input, side by side with
 * `ipfs-car` 3.1 on the same input and the same machine, in the same run:
 * create (pack), verify, extract (unpack), plus split/convert (ipfs-car has
 * none). Each command is a child process timed by GNU time: wall seconds
 * and peak RSS (the kernel's maxrss), throughput = input bytes / seconds.
 * The input is generated on the fly (random bytes, one big file plus a few
 * small ones) and everything is deleted afterwards.
 *
 *   npm run bench:cli                     # 4 GiB
 *   BENCH_CLI_GIB=1 npm run bench:cli     # quicker
 */
import { spawn } from "node:child_process";
import { randomFillSync } from "node:crypto";
import { closeSync, mkdirSync, openSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const GIB = 1024 ** 3;
const REPO = fileURLToPath(new URL("..", import.meta.url).href);
const CLI = join(REPO, "dist/ipfs-kit.mjs");
const IPFS_CAR = join(REPO, "node_modules/ipfs-car/bin.js");
const WORK = join(REPO, "bench/.work");
const size = Math.round(Number(process.env.BENCH_CLI_GIB ?? "4") * GIB);
const log = (m: string) => process.stderr.write(`[bench:cli ${(performance.now() / 1000).toFixed(1)}s] ${m}\n`);

interface Timed {
  seconds: number;
  peakRssMiB: number;
  stdout: string;
}

/** Runs `args` under /usr/bin/time (wall seconds, max RSS); throws on a non-zero exit. */
function timed(args: string[]): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const child = spawn("/usr/bin/time", ["-f", "__TIME__ %e %M", ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, CI: "1" } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    child.on("close", (code) => {
      const m = /__TIME__ ([\d.]+) (\d+)/.exec(stderr);
      if (code !== 0 || !m) return reject(new Error(`${args.join(" ")} failed (${code}): ${stderr.slice(-500)}`));
      resolve({ seconds: Number(m[1]), peakRssMiB: Number(m[2]) / 1024, stdout });
    });
  });
}

function generateInput(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const fd = openSync(join(dir, "big.bin"), "w");
  const chunk = new Uint8Array(16 * 1024 * 1024);
  for (let done = 0; done < size; done += chunk.length) writeSync(fd, randomFillSync(chunk), 0, Math.min(chunk.length, size - done));
  closeSync(fd);
  for (let i = 0; i < 8; i++) writeFileSync(join(dir, `small-${i}.txt`), `small file ${i}\n`);
}

const base = join(tmpdir(), `ipfs-kit-bench-cli-${process.pid}`);
const input = join(base, "input");
const rows: { step: string; tool: string; seconds: number; mbPerSecond: number; peakRssMiB: number }[] = [];
const record = (step: string, tool: string, t: Timed) => {
  const row = { step, tool, seconds: t.seconds, mbPerSecond: Math.round(size / 1e6 / t.seconds), peakRssMiB: Math.round(t.peakRssMiB) };
  rows.push(row);
  log(`${step} ${tool}: ${row.seconds} s, ${row.mbPerSecond} MB/s, peak RSS ${row.peakRssMiB} MiB`);
};

try {
  const load = loadavg().map((l) => l.toFixed(1)).join(" ");
  log(`generating ${(size / GIB).toFixed(1)} GiB under ${base} (load average ${load})`);
  generateInput(input);
  const node = process.execPath;

  const ours = join(base, "ours.car");
  const ref = join(base, "ref.car");
  const createOurs = await timed([node, CLI, "car", "create", input, "-o", ours]);
  record("create", "ipfs-kit", createOurs);
  const createRef = await timed([node, IPFS_CAR, "pack", input, "--no-wrap", "-o", ref]);
  record("create", "ipfs-car pack", createRef);
  const sameRoot = createOurs.stdout.trim() === createRef.stdout.trim();
  log(`roots: ipfs-kit ${createOurs.stdout.trim()}, ipfs-car ${createRef.stdout.trim()} (${sameRoot ? "equal" : "DIFFERENT"})`);

  record("verify", "ipfs-kit", await timed([node, CLI, "car", "verify", ours]));
  record("verify", "ipfs-car blocks --verify", await timed([node, IPFS_CAR, "blocks", ref, "--verify"]));

  record("extract", "ipfs-kit", await timed([node, CLI, "car", "extract", ours, join(base, "out-ours")]));
  rmSync(join(base, "out-ours"), { recursive: true, force: true });
  record("extract", "ipfs-car unpack --verify", await timed([node, IPFS_CAR, "unpack", ref, "--verify", "-o", join(base, "out-ref")]));
  rmSync(join(base, "out-ref"), { recursive: true, force: true });
  rmSync(ref, { force: true });

  record("split --max-size 1GiB", "ipfs-kit", await timed([node, CLI, "car", "split", ours, "--max-size", "1GiB", "-o", join(base, "pieces")]));
  rmSync(join(base, "pieces"), { recursive: true, force: true });
  record("convert --to v2", "ipfs-kit", await timed([node, CLI, "car", "convert", ours, "--to", "v2", "-o", join(base, "ours.v2.car")]));

  const carBytes = statSync(ours).size;
  const result = { date: new Date().toISOString(), inputBytes: size, carBytes, loadAverage: load, node: process.version, sameRoot, rows };
  mkdirSync(WORK, { recursive: true });
  writeFileSync(join(WORK, "cli.json"), `${JSON.stringify(result, null, 2)}\n`);
  const lines = [
    `### ipfs-kit CAR toolkit vs ipfs-car, ${(size / GIB).toFixed(1)} GiB input (${process.version}, load average ${load})`,
    "",
    "| step | tool | seconds | MB/s | peak RSS (MiB) |",
    "|---|---|---:|---:|---:|",
    ...rows.map((r) => `| ${r.step} | ${r.tool} | ${r.seconds} | ${r.mbPerSecond} | ${r.peakRssMiB} |`),
    "",
    `Root CIDs ${sameRoot ? "equal" : "DIFFERENT"} (${createOurs.stdout.trim()}).`,
    "",
  ];
  process.stdout.write(lines.join("\n"));
} finally {
  rmSync(base, { recursive: true, force: true });
}
