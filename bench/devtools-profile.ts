/**
 * The V8 sampling profiler of a `wrangler dev` worker, for the profiling
 * tools (bench/profile-car.ts, bench/profile-load.ts): a minimal Chrome
 * DevTools Protocol client through wrangler's inspector port, and the
 * profile's top self times.
 */
import { writeFileSync } from "node:fs";

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
/** `Profiler.stop`'s profile (a .cpuprofile file: Chrome DevTools opens it). */
export interface CpuProfile {
  nodes: CpuProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface Devtools {
  send(method: string, params?: object): Promise<unknown>;
  close(): void;
}

/** A minimal Chrome DevTools Protocol client over WebSocket. */
export async function connectDevtools(inspectorPort: number): Promise<Devtools> {
  const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()) as { webSocketDebuggerUrl: string }[];
  const url = targets[0]?.webSocketDebuggerUrl;
  if (!url) throw new Error("no inspector target");
  // wrangler's inspector proxy wants an Origin it allows (InspectorProxyWorker: localhost and DevTools hosts); undici's WebSocket takes extra headers.
  const ws = new WebSocket(url, { headers: { Origin: "http://localhost" } } as unknown as string[]);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  ws.onmessage = (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: { message: string } };
    if (message.id === undefined) return;
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.error) waiter?.reject(new Error(message.error.message));
    else waiter?.resolve(message.result);
  };
  return {
    send(method, params = {}) {
      const id = nextId++;
      ws.send(JSON.stringify({ id, method, params }));
      return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
    },
    close: () => ws.close(),
  };
}

/** Starts the sampling profiler, one sample every 200 µs. */
export async function startProfiler(devtools: Devtools): Promise<void> {
  await devtools.send("Profiler.enable");
  await devtools.send("Profiler.setSamplingInterval", { interval: 200 });
  await devtools.send("Profiler.start");
}

/** Stops the profiler and returns its profile. */
export async function stopProfiler(devtools: Devtools): Promise<CpuProfile> {
  const { profile } = (await devtools.send("Profiler.stop")) as { profile: CpuProfile };
  return profile;
}

/** Self time per function, from the sampled profile. */
function selfTimes(profile: CpuProfile): { name: string; ms: number }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.split("/").slice(-2).join("/");
    const name = `${functionName || "(anonymous)"} ${file ? `${file}:${lineNumber + 1}` : ""}`.trim();
    totals.set(name, (totals.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  }
  return [...totals].map(([name, ms]) => ({ name, ms })).sort((a, b) => b.ms - a.ms);
}

/** Writes `profile` to `path` and prints the `top` functions by self time (ms and share of the samples). */
export function reportProfile(profile: CpuProfile, path: string, top: number): void {
  writeFileSync(path, JSON.stringify(profile));
  const times = selfTimes(profile);
  const total = times.reduce((sum, t) => sum + t.ms, 0);
  console.log(`profiled ${total.toFixed(0)} ms of samples; top self time:`);
  for (const t of times.slice(0, top)) console.log(`${t.ms.toFixed(0).padStart(7)} ms ${((100 * t.ms) / total).toFixed(1).padStart(5)} %  ${t.name}`);
  console.log(`profile written to ${path}`);
}
