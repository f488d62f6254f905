/**
 * One timed GET with `curl` as the client (a separate process, body to
 * /dev/null): the client must be faster than what it measures, and Node's
 * `fetch` or `node:http` in the bench process (which also serves the
 * upstream) is not: it caps a pass-through at ~240 MB/s on this machine
 * (docs/benchmarks.md). Every throughput figure prints an "upstream
 * directly" row measured the same way, which bounds what a worker can do.
 */
import { execFile } from "node:child_process";

export interface CurlResponse {
  status: number;
  bytes: number;
  /** ms to the first body byte. */
  ttfbMs: number;
  totalMs: number;
  /** curl's exit code (0 = complete; 18 = body shorter than Content-Length, 56 = connection error...). */
  exitCode: number;
}

export function curlGet(url: string, headers: Record<string, string> = {}, timeoutMs = 300_000): Promise<CurlResponse> {
  const args = ["-s", "-o", "/dev/null", "--http1.1", "-w", "%{http_code} %{size_download} %{time_starttransfer} %{time_total}", "--max-time", String(timeoutMs / 1000)];
  for (const [k, v] of Object.entries(headers)) args.push("-H", `${k}: ${v}`);
  args.push(url);
  return new Promise((resolve, reject) => {
    execFile("curl", args, { encoding: "utf8" }, (error, stdout) => {
      const parts = stdout.trim().split(" ");
      if (parts.length !== 4) return reject(new Error(`curl ${url}: ${error?.message ?? stdout}`));
      const [status, bytes, ttfb, total] = parts.map(Number) as [number, number, number, number];
      const exitCode = error ? Number((error as { code?: number }).code ?? 1) : 0;
      resolve({ status, bytes, ttfbMs: ttfb * 1000, totalMs: total * 1000, exitCode });
    });
  });
}
