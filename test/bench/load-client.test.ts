/**
 * bench/load-client.mjs, figure 8's load client: every response it counts
 * is one the server sent whole, framed by Content-Length or chunked
 * encoding, with the bytes the server wrote; a response cut short is an
 * error, never a request. Played against a Node server on 127.0.0.1 that
 * counts what it answered and the bytes it wrote.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LoadClientJson } from "../../bench/figure-load.ts";

const CLIENT = fileURLToPath(new URL("../../bench/load-client.mjs", import.meta.url));
const BODY = randomBytes(100_000);


let server: Server;
let base: string;
const answered = new Map<string, number>();
const sockets = new Set<Socket>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0]!;
    if (path !== "/truncate") answered.set(path, (answered.get(path) ?? 0) + 1);
    switch (path) {
      case "/fixed":
        res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": BODY.length });
        return void res.end(req.method === "HEAD" ? undefined : BODY);
      case "/chunked":
        // Two writes and no length: Node sends Transfer-Encoding: chunked.
        res.writeHead(200, { "Content-Type": "application/octet-stream" });
        res.write(BODY.subarray(0, 12_345));
        return void res.end(BODY.subarray(12_345));
      case "/missing":
        res.writeHead(404, { "Content-Type": "text/plain", "Content-Length": 10 });
        return void res.end("not found\n");
      case "/close":
        res.writeHead(200, { "Content-Type": "text/plain", "Content-Length": 6, Connection: "close" });
        return void res.end("bye!!\n");
      case "/truncate":
        // Promises 1000 bytes, sends 10, and drops the connection.
        answered.set(path, (answered.get(path) ?? 0) + 1);
        res.writeHead(200, { "Content-Length": 1000 });
        res.write(Buffer.alloc(10));
        return void setTimeout(() => res.socket?.destroy(), 5);
      default:
        res.writeHead(400);
        res.end();
    }
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => server.close(resolve));
});

/** Runs the client on `path`; `written` is the bytes the server's sockets wrote meanwhile (sockets of this run only). */
async function run(path: string, args: string[] = []): Promise<LoadClientJson & { written: number; answered: number }> {
  const before = new Set(sockets);
  const seen = new Set<Socket>();
  const track = (s: Socket) => seen.add(s);
  server.on("connection", track);
  answered.set(path, 0);
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, [CLIENT, "--connections", "2", "--seconds", "1", ...args, `${base}${path}`], { encoding: "utf8" }, (err, out, stderr) =>
      err ? reject(new Error(`${err.message} ${stderr}`)) : resolve(out),
    ),
  );
  server.off("connection", track);
  const written = [...seen].filter((s) => !before.has(s)).reduce((n, s) => n + s.bytesWritten, 0);
  return { ...(JSON.parse(stdout) as LoadClientJson), written, answered: answered.get(path) ?? 0 };
}

describe("bench/load-client.mjs", () => {
  it("counts every Content-Length response the server answered, and exactly the bytes it wrote", async () => {
    const r = await run("/fixed");
    expect(r.requests).toBeGreaterThan(50);
    expect(r.requests).toBe(r.answered);
    expect(r.errors).toBe(0);
    expect(r.non2xx).toBe(0);
    expect(r.bytes).toBe(r.written);
    expect(r.bytes).toBeGreaterThan(r.requests * BODY.length);
    expect(r.seconds).toBeGreaterThanOrEqual(1);
    expect(r.p99Ms).toBeGreaterThanOrEqual(r.p50Ms);
  });

  it("reads chunked bodies to their last chunk", async () => {
    const r = await run("/chunked");
    expect(r.requests).toBeGreaterThan(50);
    expect(r.requests).toBe(r.answered);
    expect([r.errors, r.non2xx]).toEqual([0, 0]);
    expect(r.bytes).toBe(r.written);
  });

  it("counts a 404 as non-2xx, and a HEAD's Content-Length is not waited for", async () => {
    const missing = await run("/missing");
    expect(missing.requests).toBe(missing.answered);
    expect(missing.non2xx).toBe(missing.requests);
    expect(missing.errors).toBe(0);
    const head = await run("/fixed", ["--method", "HEAD"]);
    expect(head.requests).toBeGreaterThan(50);
    expect(head.requests).toBe(head.answered);
    expect([head.errors, head.non2xx]).toEqual([0, 0]);
    expect(head.bytes).toBe(head.written);
    expect(head.bytes).toBeLessThan(head.requests * 1000);
  });

  it("reopens a connection the server closes after a whole response, without an error", async () => {
    const r = await run("/close");
    expect(r.requests).toBeGreaterThan(10);
    expect(r.requests).toBe(r.answered);
    expect([r.errors, r.non2xx]).toEqual([0, 0]);
  });

  it("counts a refused connection as an error and still ends at its deadline", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve)); // nothing listens there now
    const started = Date.now();
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [CLIENT, "--connections", "2", "--seconds", "1", `http://127.0.0.1:${port}/fixed`], { encoding: "utf8" }, (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message} ${stderr}`)) : resolve(stdout),
      ),
    );
    const r = JSON.parse(out) as LoadClientJson;
    expect(r.requests).toBe(0);
    expect(r.bytes).toBe(0);
    expect(r.errors).toBeGreaterThanOrEqual(2);
    expect(r.errors).toBeLessThan(50); // retried every 100 ms, not in a tight loop
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("counts a body cut short as an error, never as a request", async () => {
    const r = await run("/truncate");
    expect(r.requests).toBe(0);
    expect(r.errors).toBe(r.answered);
    expect(r.errors).toBeGreaterThan(0);
  });
});
