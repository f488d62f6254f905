import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { StorachaFixture } from "./storacha-server";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url).href);

/**
 * Starts `storacha-server-main.ts` in a child Node process (the same Node
 * that runs vitest) and waits for its `{ base, fixture }` line; `close`
 * ends that process (by its pid) and waits for it.
 */
export async function spawnStorachaServer(gatewayBase: string): Promise<{ base: string; fixture: StorachaFixture; close(): Promise<void> }> {
  const child = spawn(process.execPath, ["--import", "./bench/resolve-ts.mjs", "test/servers/storacha-server-main.ts", gatewayBase], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => void (stderr = (stderr + chunk.toString()).slice(-4000)));
  const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
  const line = await Promise.race([
    new Promise<string>((done) => createInterface({ input: child.stdout }).once("line", done)),
    exited.then((code) => Promise.reject(new Error(`storacha-server exited (${code}) before it was ready:\n${stderr}`))),
    new Promise<never>((_, fail) => setTimeout(() => fail(new Error(`storacha-server not ready after 120 s:\n${stderr}`)), 120_000).unref()),
  ]);
  const { base, fixture } = JSON.parse(line) as { base: string; fixture: StorachaFixture };
  return {
    base,
    fixture,
    async close() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
