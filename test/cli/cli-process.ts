/** Runs the built `ipfs-kit` as a child process (how people run it), with a clean environment. */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url).href);
export const CLI = `${REPO_ROOT}dist/ipfs-kit.mjs`;

/** Builds dist/ipfs-kit.mjs from src/cli (the `prepare` script's build). */
export async function buildCli(): Promise<void> {
  const result = await run(process.execPath, [`${REPO_ROOT}scripts/build-cli.mjs`], { cwd: REPO_ROOT });
  if (result.code !== 0) throw new Error(`building the CLI failed: ${result.stderr}`);
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout as bytes (CARs on stdout). */
  bytes: Buffer;
}

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  stdin?: Uint8Array | string;
  /** Which node runs the CLI (default: the one running the tests). */
  node?: string;
}

/** `ipfs-kit ...args`; the environment holds only PATH, HOME, CI and what `env` adds, or removes with undefined (no IPFS_KIT_* leaks in). */
export function ipfsKit(args: string[], options: RunOptions = {}): Promise<CliResult> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", CI: "1" };
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return run(options.node ?? process.execPath, [CLI, ...args], { cwd: options.cwd ?? REPO_ROOT, env, stdin: options.stdin });
}

export function run(cmd: string, args: string[], options: { cwd?: string; env?: Record<string, string>; stdin?: Uint8Array | string }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", reject);
    child.on("close", (code) => {
      const bytes = Buffer.concat(out);
      resolve({ code, stdout: bytes.toString("utf8"), stderr: Buffer.concat(err).toString("utf8"), bytes });
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.stdin ?? "");
  });
}
