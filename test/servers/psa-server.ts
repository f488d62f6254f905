/**
 * A local IPFS Pinning Service API v1.0.0 server
 * (https://ipfs.github.io/pinning-services-api-spec/) that plays remote pinning services (Pinata,
 * Filebase...) in tests, with the deviations of real services built in:
 * a wrong token gets 403 (not the spec's 401), `delegates` is always empty,
 * the `cid`/`status`/`name` filters of `GET /pins` are ignored (every pin,
 * newest first). Node `http` on 127.0.0.1.
 *
 * Each tenant (`{base}/t/{tenant}`) is a separate service with its own
 * pins, log and behaviour; the bearer token is `psa-secret`. A new pin is
 * `queued` and becomes `pinned` after `pinAfterPolls` status reads (the
 * service "fetching" from the origins it was given; it does not dial them).
 *
 * Control (not part of the PSA, for tests):
 * - `PUT {base}/_control/{tenant}` `{ down?, rateLimit?, retryAfter?, pinAfterPolls?, fail? }`:
 *   `down` = every PSA request answers 503 without Retry-After; `rateLimit: n` = the
 *   next n requests answer 429 with `Retry-After: {retryAfter}` (seconds, default 1);
 *   `fail: true` = new pins end `failed`.
 * - `GET {base}/_control/{tenant}/log` → `[{ method, path, status, body, at }]` of PSA requests.
 * - `GET {base}/_control/{tenant}/pins` → the stored pins (with `origins`, `meta`).
 * - `DELETE {base}/_control/{tenant}/pins/{requestid}`: forgets a pin behind the client's back.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { listenLocal } from "./listen-local";

export const PSA_TOKEN = "psa-secret";

type Pin = { requestid: string; status: "queued" | "pinning" | "pinned" | "failed"; created: string; pin: { cid: string; name?: string; origins: string[]; meta: Record<string, string> }; polls: number };
type Tenant = {
  pins: Map<string, Pin>;
  log: { method: string; path: string; status: number; body: unknown; at: number }[];
  down: boolean;
  rateLimit: number;
  retryAfter: number;
  pinAfterPolls: number;
  fail: boolean;
};

export interface PsaServer {
  base: string;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  let text = "";
  for await (const chunk of req as AsyncIterable<Uint8Array>) text += new TextDecoder().decode(chunk);
  return text;
}

export async function startPsaServer(): Promise<PsaServer> {
  const tenants = new Map<string, Tenant>();
  const tenant = (name: string): Tenant => {
    let t = tenants.get(name);
    if (t === undefined) {
      t = { pins: new Map(), log: [], down: false, rateLimit: 0, retryAfter: 1, pinAfterPolls: 1, fail: false };
      tenants.set(name, t);
    }
    return t;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const parts = url.pathname.split("/").filter((p) => p !== "");
    const json = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      const text = body === undefined ? "" : JSON.stringify(body);
      res.writeHead(status, { "Content-Type": "application/json", "Content-Length": String(new TextEncoder().encode(text).length), ...headers });
      res.end(text);
    };
    const text = await readBody(req);

    if (parts[0] === "_control" && parts[1] !== undefined) {
      const t = tenant(parts[1]);
      if (req.method === "PUT" && parts.length === 2) {
        Object.assign(t, JSON.parse(text) as Partial<Tenant>);
        return json(200, { ok: true });
      }
      if (req.method === "GET" && parts[2] === "log") return json(200, t.log);
      if (req.method === "GET" && parts[2] === "pins") return json(200, [...t.pins.values()]);
      if (req.method === "DELETE" && parts[2] === "pins" && parts[3] !== undefined) {
        return json(t.pins.delete(parts[3]) ? 200 : 404, {});
      }
      return json(404, { error: { reason: "NOT_FOUND", details: "no such control" } });
    }
    if (parts[0] !== "t" || parts[1] === undefined || parts[2] !== "pins") return json(404, { error: { reason: "NOT_FOUND", details: "not found" } });
    const t = tenant(parts[1]);
    const requestid = parts[3];
    let body: unknown;
    try {
      body = text === "" ? undefined : JSON.parse(text);
    } catch {
      body = text;
    }
    const reply = (status: number, out: unknown, headers: Record<string, string> = {}): void => {
      t.log.push({ method: req.method ?? "", path: url.pathname.slice(`/t/${parts[1]}`.length) + url.search, status, body, at: Date.now() });
      json(status, out, headers);
    };
    if (t.down) return reply(503, { error: { reason: "SERVICE_UNAVAILABLE", details: "down for maintenance" } });
    if (t.rateLimit > 0) {
      t.rateLimit--;
      return reply(429, { error: { reason: "TOO_MANY_REQUESTS", details: "slow down" } }, { "Retry-After": String(t.retryAfter) });
    }
    // Deviation of real services: 403 (not 401) for a missing or wrong token.
    if (req.headers.authorization !== `Bearer ${PSA_TOKEN}`) return reply(403, { error: { reason: "FORBIDDEN", details: "invalid token" } });
    const view = (p: Pin) => ({ requestid: p.requestid, status: p.status, created: p.created, pin: p.pin, delegates: [], info: {} });

    if (req.method === "GET" && requestid === undefined) {
      // Deviation: filters ignored, every pin newest first (limit honoured).
      const limit = Number(url.searchParams.get("limit") ?? "10");
      const all = [...t.pins.values()].reverse();
      return reply(200, { count: all.length, results: all.slice(0, limit).map(view) });
    }
    if (req.method === "POST" && requestid === undefined) {
      const input = body as { cid?: unknown; name?: unknown; origins?: unknown; meta?: unknown };
      if (typeof input?.cid !== "string") return reply(400, { error: { reason: "BAD_REQUEST", details: "cid is required" } });
      const pin: Pin = {
        requestid: crypto.randomUUID(),
        status: t.fail ? "failed" : "queued",
        created: new Date().toISOString(),
        pin: { cid: input.cid, origins: (input.origins as string[] | undefined) ?? [], meta: (input.meta as Record<string, string> | undefined) ?? {}, ...(typeof input.name === "string" ? { name: input.name } : {}) },
        polls: 0,
      };
      // An identity CID needs no fetch: pinned at once (as a real service would).
      if (!t.fail && input.cid.startsWith("bafkqaa")) pin.status = "pinned";
      t.pins.set(pin.requestid, pin);
      return reply(202, view(pin));
    }
    const pin = requestid === undefined ? undefined : t.pins.get(requestid);
    if (pin === undefined) return reply(404, { error: { reason: "NOT_FOUND", details: "The specified resource was not found" } });
    if (req.method === "GET") {
      pin.polls++;
      if (pin.status !== "failed" && pin.status !== "pinned" && pin.polls >= t.pinAfterPolls) pin.status = "pinned";
      return reply(200, view(pin));
    }
    if (req.method === "DELETE") {
      t.pins.delete(pin.requestid);
      return reply(202, undefined);
    }
    return reply(405, { error: { reason: "METHOD_NOT_ALLOWED", details: "method not allowed" } });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.writeHead(500);
      res.end(String(err));
    });
  });
  // workerd reuses idle connections: Node must not close them first (that is "Network connection lost" in the worker).
  server.keepAliveTimeout = 120_000;
  return listenLocal(server, "psa-server");
}
