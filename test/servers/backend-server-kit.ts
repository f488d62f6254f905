/**
 * What the local servers playing replication targets (S3, Kubo RPC, the
 * Hugging Face Hub) share: a log of every request they received (method,
 * path, query, headers) and injected faults (the next N matching requests
 * answer a given status, e.g. 429 with `Retry-After`), both driven over
 * HTTP by the tests in workerd:
 *
 * - `GET {base}/__log?path=<prefix>`: JSON list of `LoggedRequest` whose path starts with the prefix.
 * - `POST {base}/__faults` JSON `Fault`: arm a fault; `DELETE {base}/__faults`: disarm all.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

export interface LoggedRequest {
  method: string;
  path: string;
  /** The raw query string, with its `?` (empty when none). */
  query: string;
  /** Lower-cased header names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  status: number;
}

export interface Fault {
  method?: string;
  /** Matches requests whose path starts with this. */
  pathPrefix: string;
  /** And whose query string contains this (e.g. `partNumber=2`). */
  queryIncludes?: string;
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** How many matching requests get the fault (default 1). */
  times?: number;
}

export class ServerKit {
  readonly #log: LoggedRequest[] = [];
  #faults: Fault[] = [];

  /** Logs the request and answers control routes and armed faults; true when it answered. */
  async intercept(req: IncomingMessage, res: ServerResponse): Promise<{ handled: true } | { handled: false; entry: LoggedRequest }> {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname === "/__log") {
      const prefix = url.searchParams.get("path") ?? "";
      reply(res, 200, this.#log.filter((e) => e.path.startsWith(prefix)));
      return { handled: true };
    }
    if (url.pathname === "/__faults") {
      if (req.method === "DELETE") this.#faults = [];
      else this.#faults.push(JSON.parse(new TextDecoder().decode(await readBody(req))) as Fault);
      reply(res, 204);
      return { handled: true };
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
    }
    const entry: LoggedRequest = { method: req.method ?? "", path: url.pathname, query: url.search, headers, status: 0 };
    this.#log.push(entry);
    const fault = this.#faults.find((f) =>
        url.pathname.startsWith(f.pathPrefix) &&
        (f.method === undefined || f.method === req.method) &&
        (f.queryIncludes === undefined || url.search.includes(f.queryIncludes)),);
    if (fault !== undefined) {
      fault.times = (fault.times ?? 1) - 1;
      if (fault.times <= 0) this.#faults = this.#faults.filter((f) => f !== fault);
      // Drain the body so the client sees the answer, not a reset.
      for await (const _ of req) void _;
      entry.status = fault.status;
      res.writeHead(fault.status, fault.headers ?? {}).end(fault.body ?? "");
      return { handled: true };
    }
    return { handled: false, entry };
  }
}

export async function readBody(req: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of req) {
    chunks.push(chunk);
    length += chunk.length;
  }
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

export function reply(res: ServerResponse, status: number, json?: unknown, headers: Record<string, string> = {}): void {
  if (json === undefined) {
    res.writeHead(status, headers).end();
    return;
  }
  res.writeHead(status, { "Content-Type": "application/json", ...headers }).end(JSON.stringify(json));
}
