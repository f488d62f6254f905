import { rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Temporary directories in use; removed on Ctrl-C or SIGTERM too (a `finally` does not run then). */
const live = new Set<string>();

function removeAllAndExit(signal: NodeJS.Signals): void {
  for (const dir of live) rmSync(dir, { recursive: true, force: true });
  process.stderr.write(`\nipfs-kit: interrupted (${signal})\n`);
  process.exit(signal === "SIGINT" ? 130 : 143);
}

let installed = false;

/** Runs `use` with a fresh temporary directory (a packed upload, a downloaded CAR, stdin), removed afterwards. */
export async function withTempDir<T>(use: (dir: string) => Promise<T>): Promise<T> {
  if (!installed) {
    installed = true;
    process.once("SIGINT", removeAllAndExit);
    process.once("SIGTERM", removeAllAndExit);
  }
  const dir = await mkdtemp(join(tmpdir(), "ipfs-kit-"));
  live.add(dir);
  try {
    return await use(dir);
  } finally {
    live.delete(dir);
    await rm(dir, { recursive: true, force: true });
  }
}
