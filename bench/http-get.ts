/**
 * One timed GET over a fresh connection (node:http, no keep-alive), reading
 * the whole body: time to the first body byte, total time, byte count, and
 * optionally the SHA-256 of the body (costs client CPU: used on untimed runs).
 */
import { createHash } from "node:crypto";
import { request } from "node:http";

export interface TimedResponse {
  status: number;
  contentType: string | undefined;
  /** ms from sending the request to the first body byte. */
  ttfbMs: number;
  /** ms from sending the request to the end of the body. */
  totalMs: number;
  bytes: number;
  sha256?: string;
  /** The body ended with an error (aborted transfer). */
  error?: string;
}

export function timedGet(url: string, headers: Record<string, string>, opts: { hash?: boolean; timeoutMs?: number } = {}): Promise<TimedResponse> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const hash = opts.hash ? createHash("sha256") : undefined;
    let ttfbMs = -1;
    let bytes = 0;
    const req = request(url, { headers, agent: false }, (res) => {
      const finish = (error?: string): void => {
        clearTimeout(timer);
        resolve({
          status: res.statusCode ?? 0,
          contentType: res.headers["content-type"],
          ttfbMs,
          totalMs: performance.now() - start,
          bytes,
          sha256: hash?.digest("hex"),
          error,
        });
      };
      res.on("data", (chunk: Buffer) => {
        if (ttfbMs < 0) ttfbMs = performance.now() - start;
        bytes += chunk.length;
        hash?.update(chunk);
      });
      res.on("end", () => finish());
      res.on("error", (error) => finish(error.message));
      res.on("aborted", () => finish("aborted"));
    });
    const timer = setTimeout(() => req.destroy(new Error(`timeout after ${opts.timeoutMs} ms: ${url}`)), opts.timeoutMs ?? 120_000);
    req.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end();
  });
}
