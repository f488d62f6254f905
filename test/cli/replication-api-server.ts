/**
 * A local server playing the replication API of issue 9 (branch issue-9,
 * src/replication/routes.ts: `GET /api/v1/pins/{cid}` → RootStatus,
 * `GET /api/v1/backends`, `POST /api/v1/backends/{name}/test`) and the few
 * PSA routes `pin status` / `pin add` call, with the shapes that branch
 * returns; until that branch is merged the CLI's replication commands are
 * tested against this. It records every request (method, path,
 * Authorization, body) so tests can assert what the service received.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  method: string;
  path: string;
  authorization: string | undefined;
  body: string;
}

export interface ReplicationApiServer {
  base: string;
  received: Received[];
  close(): Promise<void>;
}

const TOKEN = "replication-test-token";
export const REPLICATION_TOKEN = TOKEN;
export const PINNED_CID = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";
export const LOST_CID = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";

function pinStatus(requestid: string, cid: string, meta: Record<string, string> = {}) {
  return { requestid, status: "pinned", created: "2026-11-29T12:00:00.000Z", pin: { cid, name: "site", origins: [], meta }, delegates: [], info: {} };
}

function rootStatus(cid: string, aggregate: string, replicas: { backend: string; state: string; bytes: number | null; lastError: string | null }[]) {
  return {
    cid,
    aggregate,
    pins: [{ requestid: `req-${cid.slice(-6)}`, status: "pinned", name: "site", created: "2026-11-29T12:00:00.000Z" }],
    dagSize: 1234,
    carSize: 1400,
    plan: { backends: ["r2", ...replicas.map((r) => r.backend)], minCopies: 2, rule: "default", problems: [] },
    replicas: replicas.map((r) => ({ root: cid, wanted: true, remoteId: null, details: {}, attempts: 1, created: "2026-11-29T12:00:00.000Z", updated: "2026-11-29T12:00:01.000Z", storedAt: null, checkedAt: null, removeAfter: null, nextAttempt: null, log: [], ...r })),
  };
}

export async function startReplicationApiServer(): Promise<ReplicationApiServer> {
  const received: Received[] = [];
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "Content-Type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    const path = req.url ?? "/";
    received.push({ method: req.method ?? "GET", path, authorization: req.headers.authorization, body });
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return send(res, 401, { error: { reason: "UNAUTHORIZED", details: "Access token is missing or invalid" } });
    const url = new URL(path, "http://x");
    if (req.method === "GET" && url.pathname === "/psa/pins") {
      const cid = url.searchParams.get("cid") ?? "";
      return send(res, 200, { count: 1, results: [pinStatus(`req-${cid.slice(-6)}`, cid)] });
    }
    if (req.method === "POST" && url.pathname === "/psa/pins") {
      const input = JSON.parse(body) as { cid: string; meta?: Record<string, string> };
      return send(res, 202, pinStatus("req-new", input.cid, input.meta));
    }
    if (req.method === "GET" && url.pathname === `/api/v1/pins/${PINNED_CID}`) {
      return send(res, 200, rootStatus(PINNED_CID, "stored", [{ backend: "s3-archive", state: "stored", bytes: 1400, lastError: null }, { backend: "kubo", state: "stored", bytes: 1400, lastError: null }]));
    }
    if (req.method === "GET" && url.pathname === `/api/v1/pins/${LOST_CID}`) {
      return send(res, 200, rootStatus(LOST_CID, "lost", [{ backend: "s3-archive", state: "lost", bytes: null, lastError: "HEAD answered 404" }]));
    }
    if (req.method === "GET" && url.pathname === "/api/v1/backends") {
      return send(res, 200, { backends: [{ name: "s3-archive", type: "s3", settings: { bucket: "pins" } }, { name: "kubo", type: "kubo", settings: {} }], policy: { default: { backends: ["r2", "s3-archive"], minCopies: 2 }, rules: [] } });
    }
    if (req.method === "POST" && url.pathname === "/api/v1/backends/s3-archive/test") {
      return send(res, 200, { name: "s3-archive", type: "s3", reachable: true, authorised: true, roundTrip: true, latencyMs: 12 });
    }
    if (req.method === "POST" && url.pathname === "/api/v1/backends/kubo/test") {
      return send(res, 200, { name: "kubo", type: "kubo", reachable: true, authorised: false, roundTrip: false, latencyMs: 3, message: "403 from /api/v0/id" });
    }
    return send(res, 404, { error: { reason: "NOT_FOUND", details: "no such route" } });
  };
  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}`, received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
