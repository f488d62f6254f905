/**
 * Samples a process's resident set size (VmRSS in /proc/<pid>/status) every
 * `intervalMs` from a worker thread, so a busy main event loop (which is
 * serving the upstream and reading the response) cannot delay the samples.
 */
import { readFileSync } from "node:fs";
import { Worker } from "node:worker_threads";

/** VmRSS of `pid` in bytes. */
export function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}

export interface RssSamples {
  peakBytes: number;
  count: number;
}

const SAMPLER = `
const { workerData, parentPort } = require("node:worker_threads");
const { readFileSync } = require("node:fs");
const { pid, intervalMs, stop } = workerData;
const flag = new Int32Array(stop);
let peak = 0, count = 0;
while (Atomics.load(flag, 0) === 0) {
  try {
    const m = /VmRSS:\\s+(\\d+) kB/.exec(readFileSync("/proc/" + pid + "/status", "utf8"));
    if (m) { peak = Math.max(peak, Number(m[1]) * 1024); count++; }
  } catch { break; }
  Atomics.wait(flag, 0, 0, intervalMs);
}
parentPort.postMessage({ peakBytes: peak, count });
`;

/** Starts sampling; `stop()` resolves with the peak seen. */
export function sampleRss(pid: number, intervalMs = 50): { stop(): Promise<RssSamples> } {
  const stop = new SharedArrayBuffer(4);
  const worker = new Worker(SAMPLER, { eval: true, workerData: { pid, intervalMs, stop } });
  const result = new Promise<RssSamples>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  return {
    async stop() {
      const flag = new Int32Array(stop);
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
      const samples = await result;
      await worker.terminate();
      return samples;
    },
  };
}
