#!/usr/bin/env node
/**
 * The load client of figure 8 (bench/figure-load.ts): keep-alive HTTP/1.1
 * connections, each sending the next request as soon as the previous
 * response ends, for a fixed time. It counts response bytes and never
 * decodes them.
 *
 * Why not autocannon: its client appends every body chunk to a string
 * (`req.body += data`, lib/pipelinedRequestsQueue.js), a UTF-8 decode of
 * every byte received. For the 256 KiB raw block of figure 8 (random bytes)
 * that cost autocannon ~3.7 ms of CPU per request, 82 % of a core at
 * 219 req/s. On a 2-core machine that CPU was taken from the worker. A
 * body of ASCII bytes decodes ~9× cheaper, which made the bare-hit yardstick
 * look faster than it is (docs/benchmarks.md, figure 8).
 *
 *   node bench/load-client.mjs --connections 8 --seconds 5 [--method GET] [--header Name=value]… URL
 *
 * Prints one JSON object: { requests, seconds, p50Ms, p99Ms, errors, non2xx, bytes }.
 * Responses must be framed by Content-Length or chunked encoding (what
 * workerd sends); a connection the server closes is reopened, and counted
 * as an error if a response was in flight (a body cut short is an error,
 * never a request); a connection refused is an error too, retried after
 * 100 ms. Tested by test/bench/load-client.test.ts.
 */
import net from "node:net";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    connections: { type: "string", default: "8" },
    seconds: { type: "string", default: "5" },
    method: { type: "string", default: "GET" },
    header: { type: "string", multiple: true, default: [] },
  },
});
if (positionals.length !== 1) throw new Error("usage: load-client.mjs [--connections N] [--seconds S] [--method M] [--header Name=value]… URL");
const url = new URL(positionals[0]);
const method = values.method.toUpperCase();
const headerLines = values.header.map((h) => {
  const i = h.indexOf("=");
  if (i <= 0) throw new Error(`--header ${h}: Name=value`);
  return `${h.slice(0, i)}: ${h.slice(i + 1)}\r\n`;
});
const request = Buffer.from(`${method} ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: keep-alive\r\n${headerLines.join("")}\r\n`, "latin1");
const port = Number(url.port || 80);
const REQUEST_TIMEOUT_MS = 10_000;

const latencies = [];
let errors = 0;
let non2xx = 0;
let bytes = 0;
const started = performance.now();
const deadline = started + Number(values.seconds) * 1000;

/** One connection's response parser: head, then a Content-Length body or chunked frames. */
function connection() {
  return new Promise((resolve) => {
    let socket;
    let head = Buffer.alloc(0);
    let state = "idle"; // idle | head | body | chunk-size | chunk-data | chunk-end | trailer
    let remaining = 0;
    let sizeLine = "";
    let sentAt = 0;
    let timer;
    let closing = false; // the server said `Connection: close`: the next request goes on a new connection

    const open = () => {
      let connected = false;
      socket = net.connect(port, url.hostname);
      socket.setNoDelay(true);
      socket.on("connect", () => {
        connected = true;
        send();
      });
      socket.on("data", onData);
      socket.on("error", () => {});
      socket.on("close", () => {
        clearTimeout(timer);
        // A response in flight, or a connection that never opened, is an error.
        if (state !== "idle" || !connected) errors++;
        state = "idle";
        closing = false;
        if (performance.now() >= deadline) resolve();
        else if (connected) open();
        else setTimeout(open, 100); // refused: try again shortly, not in a tight loop
      });
    };
    const send = () => {
      if (performance.now() >= deadline) {
        socket.end();
        return;
      }
      head = Buffer.alloc(0);
      state = "head";
      sentAt = performance.now();
      timer = setTimeout(() => socket.destroy(), REQUEST_TIMEOUT_MS);
      socket.write(request);
    };
    const complete = () => {
      clearTimeout(timer);
      latencies.push(performance.now() - sentAt);
      state = "idle";
      // The server said it closes the connection: end ours too (it reopens on close), never wait on a server that does not.
      if (closing) socket.end();
      else send();
    };
    const onData = (chunk) => {
      bytes += chunk.length;
      let at = 0;
      while (at < chunk.length) {
        if (state === "head") {
          head = head.length === 0 ? chunk.subarray(at) : Buffer.concat([head, chunk.subarray(at)]);
          const end = head.indexOf("\r\n\r\n");
          if (end < 0) return;
          const text = head.subarray(0, end).toString("latin1");
          at = chunk.length - (head.length - end - 4);
          const status = Number(text.slice(9, 12));
          if (!(status >= 200 && status <= 299)) non2xx++;
          closing = /\r\nconnection:\s*close/i.test(text);
          const length = /\r\ncontent-length:\s*(\d+)/i.exec(text);
          if (method === "HEAD" || status === 204 || status === 304) {
            complete();
          } else if (/\r\ntransfer-encoding:[^\r]*chunked/i.test(text)) {
            state = "chunk-size";
            sizeLine = "";
          } else if (length) {
            remaining = Number(length[1]);
            state = "body";
            if (remaining === 0) complete();
          } else {
            socket.destroy(); // unframed body: not what this client measures
            return;
          }
        } else if (state === "body") {
          const take = Math.min(remaining, chunk.length - at);
          remaining -= take;
          at += take;
          if (remaining === 0) complete();
        } else if (state === "chunk-size" || state === "chunk-end" || state === "trailer") {
          const nl = chunk.indexOf(10, at);
          const upto = nl < 0 ? chunk.length : nl + 1;
          sizeLine += chunk.subarray(at, upto).toString("latin1");
          at = upto;
          if (nl < 0) return;
          const line = sizeLine.trim();
          sizeLine = "";
          if (state === "chunk-end") state = "chunk-size";
          else if (state === "trailer") {
            if (line === "") complete();
          } else {
            remaining = parseInt(line, 16);
            state = remaining === 0 ? "trailer" : "chunk-data";
          }
        } else if (state === "chunk-data") {
          const take = Math.min(remaining, chunk.length - at);
          remaining -= take;
          at += take;
          if (remaining === 0) state = "chunk-end";
        } else {
          return; // bytes after a response that was not asked for
        }
      }
    };
    open();
  });
}

await Promise.all(Array.from({ length: Number(values.connections) }, connection));
const seconds = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const pick = (q) => (latencies.length === 0 ? 0 : Math.round(10 * latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]) / 10);
process.stdout.write(`${JSON.stringify({ requests: latencies.length, seconds, p50Ms: pick(0.5), p99Ms: pick(0.99), errors, non2xx, bytes })}\n`);
