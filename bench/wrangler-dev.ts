/**
 * Starts a worker with `wrangler dev` on 127.0.0.1 (offline: no metrics, no
 * cf fetch) and stops it by PID: the wrangler process, then anything it
 * spawned that is still alive.
 *
 * The worker runs from a bundle made beforehand (`bundleWorker`, i.e.
 * `wrangler deploy --dry-run`) with `--no-bundle`: `wrangler dev` would
 * otherwise watch `src/` and reload the worker, cutting streams in flight,
 * whenever someone edits a source file during the run.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

const WRANGLER_JS = fileURLToPath(new URL("../node_modules/wrangler/bin/wrangler.js", import.meta.url));
const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));

const OFFLINE_ENV = { WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", NO_COLOR: "1", CI: "1" };

export interface WranglerDevOptions {
  /** A label for logs. */
  name: string;
  /** wrangler config file, relative to the repository root. */
  config: string;
  /** The bundled worker (`bundleWorker` of the same config); without it wrangler bundles `main` itself and reloads on edits. */
  script?: string;
  vars: Record<string, string>;
  /** Directory for local DO/R2/Cache state (fresh per run). */
  persistTo: string;
  logFile: string;
  /** More `wrangler dev` arguments (e.g. `--test-scheduled`; `GET /cdn-cgi/handler/scheduled?cron=…` runs a cron). */
  args?: string[];
}

export interface WranglerDev {
  name: string;
  url: string;
  /** PID of the wrangler (Node) process we spawned. */
  pid: number;
  /** PID of the workerd process that runs the worker (a descendant of `pid`). */
  workerdPid: number;
  /**
   * PID of wrangler's other workerd: the proxy that listens on `url` and
   * forwards each request to the worker's workerd (every byte crosses both).
   */
  proxyPid: number;
  /** wrangler's DevTools inspector port (Chrome DevTools Protocol, for profiling the worker). */
  inspectorPort: number;
  stop(): Promise<void>;
}

/** stop() of every wrangler started and not yet stopped, including ones still starting. */
const running = new Set<() => Promise<void>>();

/** Stops every wrangler this process started that is still running (for signal handlers). */
export async function stopAllWranglerDev(): Promise<void> {
  await Promise.all([...running].map((stop) => stop()));
}

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Every live descendant of `pid`, with its command name, from /proc. */
export function descendants(pid: number): { pid: number; comm: string }[] {
  const children = new Map<number, { pid: number; comm: string }[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited while we looked
    }
    // "pid (comm) state ppid ...": comm may contain spaces and parentheses.
    const close = stat.lastIndexOf(")");
    const comm = stat.slice(stat.indexOf("(") + 1, close);
    const ppid = Number(stat.slice(close + 2).split(" ")[1]);
    const list = children.get(ppid) ?? [];
    list.push({ pid: Number(entry), comm });
    children.set(ppid, list);
  }
  const out: { pid: number; comm: string }[] = [];
  const walk = (parent: number): void => {
    for (const child of children.get(parent) ?? []) {
      out.push(child);
      walk(child.pid);
    }
  };
  walk(pid);
  return out;
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
  } catch {
    return "";
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  return Promise.race([new Promise<boolean>((resolve) => child.once("exit", () => resolve(true))), sleep(ms).then(() => false)]);
}

/**
 * Bundles the worker of `config` once (`wrangler deploy --dry-run`, nothing
 * is uploaded) into `outdir`; returns the bundle's path for `startWranglerDev`.
 */
export async function bundleWorker(config: string, outdir: string, logFile: string): Promise<string> {
  rmSync(outdir, { recursive: true, force: true });
  const child = spawn(process.execPath, [WRANGLER_JS, "deploy", "--dry-run", "--outdir", outdir, "--config", config], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...OFFLINE_ENV },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const log = createWriteStream(logFile);
  // Two sources, one log: neither may end it (pipe's default), or the other writes after its end.
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  // "close", not "exit": the child's output is read to its end first.
  const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
  log.end();
  if (code !== 0) throw new Error(`bundling ${config} failed (exit ${code}, see ${logFile})`);
  // wrangler.toml's split build writes worker.mjs and its chunks; bench configs a single .js.
  const script = readdirSync(outdir).find((name) => name.endsWith(".js") || name.endsWith(".mjs"));
  if (!script) throw new Error(`bundling ${config} wrote no .js into ${outdir}`);
  return `${outdir}/${script}`;
}

const WORK = fileURLToPath(new URL("./.work/", import.meta.url));

/**
 * Bundles the worker of `config` and starts it under `name`, the way every
 * bench sets up its workers: its bundle in `bench/.work/build/<name>`, its
 * log `bench/.work/<name>.log`, its DO/R2/Cache state in a fresh
 * `bench/.work/state/<name>`.
 *
 * @example await startBenchWorker("load-gateway", "wrangler.toml", { UPSTREAMS: `${server.base}/slow-5~load` })
 */
export async function startBenchWorker(name: string, config: string, vars: Record<string, string>): Promise<WranglerDev> {
  const persistTo = `${WORK}state/${name}`;
  rmSync(persistTo, { recursive: true, force: true });
  mkdirSync(persistTo, { recursive: true });
  const script = await bundleWorker(config, `${WORK}build/${name}`, `${WORK}bundle-${name}.log`);
  return startWranglerDev({ name, config, script, vars, persistTo, logFile: `${WORK}${name}.log` });
}

export async function startWranglerDev(options: WranglerDevOptions): Promise<WranglerDev> {
  const port = await freePort();
  const inspectorPort = await freePort();
  const args = [
    WRANGLER_JS,
    "dev",
    ...(options.script ? [options.script, "--no-bundle"] : []),
    "--config",
    options.config,
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--inspector-port",
    String(inspectorPort),
    "--persist-to",
    options.persistTo,
    "--show-interactive-dev-session=false",
    "--log-level",
    "info",
  ];
  for (const [key, value] of Object.entries(options.vars)) args.push("--var", `${key}:${value}`);
  args.push(...(options.args ?? []));
  const log = createWriteStream(options.logFile);
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...OFFLINE_ENV },
    stdio: ["ignore", "pipe", "pipe"],
  });
  // Two sources, one log: neither may end it (pipe's default: ERR_STREAM_WRITE_AFTER_END from the other); stop() ends it.
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${options.name}: wrangler did not start`);

  // Everything wrangler spawned (its CLI child, the workerd processes), to be sure none outlives stop().
  const spawned = new Set<number>();
  const stop = async (): Promise<void> => {
    running.delete(stop);
    for (const d of descendants(pid)) spawned.add(d.pid);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      if (!(await waitExit(child, 5000))) {
        child.kill("SIGKILL");
        await waitExit(child, 2000);
      }
    }
    for (const leftover of spawned) {
      if (!alive(leftover)) continue;
      process.kill(leftover, "SIGTERM");
      for (let i = 0; i < 20 && alive(leftover); i++) await sleep(100);
      if (alive(leftover)) process.kill(leftover, "SIGKILL");
    }
    // Output still buffered in the pipes must not be written after the log ends (ERR_STREAM_WRITE_AFTER_END).
    child.stdout?.unpipe(log);
    child.stderr?.unpipe(log);
    log.end();
  };
  running.add(stop);

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${options.name}: wrangler exited with ${child.exitCode} (see ${options.logFile})`);
      if (Date.now() > deadline) throw new Error(`${options.name}: not ready after 90 s (see ${options.logFile})`);
      try {
        // Any answer from the worker itself; identity CID: no upstream is asked.
        const res = await fetch(`${url}/ipfs/bafkqaaa?format=raw`, { signal: AbortSignal.timeout(5000) });
        await res.arrayBuffer();
        if (res.status < 500) break;
      } catch {
        // not listening yet
      }
      await sleep(250);
    }
    // wrangler dev runs two workerd: a proxy on our port, and the worker's own runtime on a port of its choosing.
    const all = descendants(pid);
    for (const d of all) spawned.add(d.pid);
    const found = all.filter((d) => d.comm === "workerd");
    const listensOnPort = (d: { pid: number }) => cmdline(d.pid).includes(`--socket-addr=entry=127.0.0.1:${port}`);
    const proxy = found.filter(listensOnPort);
    const runtime = found.filter((d) => !listensOnPort(d));
    if (proxy.length !== 1 || runtime.length !== 1) {
      throw new Error(`${options.name}: expected a proxy and a runtime workerd under wrangler ${pid}, found ${JSON.stringify(found)}`);
    }
    return { name: options.name, url, pid, workerdPid: runtime[0]!.pid, proxyPid: proxy[0]!.pid, inspectorPort, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
