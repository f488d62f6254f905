/**
 * A local trustless gateway (trustless-gateway.md, IPIP-402, IPIP-412) that
 * plays the worker's upstreams in tests and benchmarks: Node `http` on
 * 127.0.0.1 over an in-memory block store loaded with every conformance
 * fixture CAR.
 *
 * `{base}/{personality}/ipfs/{cid}[/{path}]` answers like a trustless
 * gateway, honestly or with the fault the personality names (see
 * `personalities.ts`). Control endpoints, outside any personality:
 * - `PUT {base}/__blocks` (CARv1 body): add its blocks;
 * - `GET {base}/__log?personality=NAME`: JSON list of requests received;
 * - `POST {base}/__reset[?personality=NAME]`: clear the request log, or
 *   that personality's part of it (blocks stay);
 * - `PUT {base}/__redirect?personality=NAME` (body: a base URL): requests to
 *   that `redirect[-STATUS]` personality are answered STATUS (302 by default)
 *   with `Location: {body}{rest of the path}{query}`, as a gateway that
 *   moved (or a hostile origin pointing inside the network) would.
 *
 * It is an independent, deliberately simple implementation (not the
 * worker's code): every block is in memory, so it walks the DAG directly.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { CID } from "multiformats/cid";
import { carHeader, carSection, type CarBlock } from "./car-encode";
import { allBelowBreadthFirst, PathNotFound, resolvePath, terminalBlocks, type ResolvedPath } from "./dag-walk";
import { IDENTITY_MULTIHASH, MemoryBlockStore, type BlockGetter } from "./memory-block-store";
import {
  byteLimit,
  faultyCarBlocks,
  faultyRawBody,
  makeFaultBlocks,
  parsePersonality,
  type FaultBlocks,
  type Personality,
} from "./personalities";
import { RequestLog, type RequestLogEntry } from "./request-log";
import { parseTrustlessRequest, RequestError, type TrustlessRequest } from "./request-params";
import { listenLocal } from "./listen-local";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url).href);
/** The gateway-conformance fixtures, copied into the repository (test/fixtures/conformance/NOTICE.md). */
export const FIXTURES_DIR = resolve(REPO_ROOT, "test/fixtures/conformance/fixtures");

export interface TrustlessGatewayServerOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Directory whose `*.car` files are loaded at start; null loads nothing. Default FIXTURES_DIR. */
  fixturesDir?: string | null;
}

export interface TrustlessGatewayServer {
  /** `http://127.0.0.1:PORT`, no trailing slash; upstream URLs are `${base}/${personality}`. */
  base: string;
  store: MemoryBlockStore;
  addBlock(cid: CID, bytes: Uint8Array): void;
  /** Serves blocks from a callback too (large synthetic DAGs for the bench). */
  addBlockSource(getter: BlockGetter): void;
  requestLog(personality?: string): RequestLogEntry[];
  resetLog(personality?: string): void;
  /** Stops listening and cuts every open connection (stalled ones included). */
  close(): Promise<void>;
}

const IMMUTABLE = "public, max-age=29030400, immutable";

/** Resolves after `ms`, or as soon as the client goes away. */
function delay(ms: number, res: ServerResponse): Promise<void> {
  return new Promise((done) => {
    const finish = (): void => {
      clearTimeout(timer);
      res.off("close", finish);
      done();
    };
    const timer = setTimeout(finish, ms);
    res.on("close", finish);
  });
}

/**
 * Writes with backpressure: `accepted` resolves at once while the socket
 * buffer has room, else on drain (or when the connection is gone, `closed`);
 * `flushed` once the chunk is handed to the socket.
 */
function write(res: ServerResponse, chunk: Uint8Array, closed: Promise<void>): { accepted: Promise<void>; flushed: Promise<void> } {
  let markFlushed = (): void => {};
  const flushed = new Promise<void>((done) => (markFlushed = done));
  const room = res.write(chunk, () => markFlushed());
  const accepted = room ? Promise.resolve() : Promise.race([new Promise<void>((drained) => res.once("drain", () => drained())), closed]);
  return { accepted, flushed: Promise.race([flushed, closed]) };
}

async function readBody(req: IncomingMessage): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of req) chunks.push(chunk);
  const out = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

function sendText(res: ServerResponse, entry: RequestLogEntry | undefined, status: number, text: string, headers: Record<string, string> = {}): void {
  const body = new TextEncoder().encode(`${text}\n`);
  res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": body.length, ...headers });
  if (entry) {
    entry.status = status;
    entry.bytesSent = body.length;
  }
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = new TextEncoder().encode(JSON.stringify(value));
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": body.length });
  res.end(body);
}

/** Blocks of a CAR response, honest: path blocks then the terminal scope, identity CIDs never, duplicates only with dups=y. */
function* honestCarBlocks(store: MemoryBlockStore, resolved: ResolvedPath, request: TrustlessRequest & { format: "car" }, dups: boolean): Generator<CarBlock> {
  const seen = new Set<string>();
  const met = (function* (): Generator<CarBlock> {
    yield* resolved.pathBlocks;
    yield* terminalBlocks(store, resolved.terminal, request.scope, request.entityBytes);
  })();
  for (const block of met) {
    // Identity blocks are inside their CID already (trustless-gateway.md CAR `dups`).
    if (block.cid.multihash.code === IDENTITY_MULTIHASH) continue;
    if (!dups) {
      const key = block.cid.toString();
      if (seen.has(key)) continue;
      seen.add(key);
    }
    yield block;
  }
}

/** The `old-gateway` personality's CAR: the path blocks, then everything under the terminal breadth first, whatever dag-scope and entity-bytes asked. */
function* oldGatewayCarBlocks(store: MemoryBlockStore, resolved: ResolvedPath): Generator<CarBlock> {
  for (const block of resolved.pathBlocks) if (block.cid.multihash.code !== IDENTITY_MULTIHASH) yield block;
  for (const block of allBelowBreadthFirst(store, resolved.terminal.block, resolved.terminal.value)) {
    if (block.cid.multihash.code !== IDENTITY_MULTIHASH) yield block;
  }
}

function* carChunks(root: CID, blocks: Iterable<CarBlock>): Generator<Uint8Array> {
  yield carHeader([root]);
  for (const block of blocks) yield carSection(block);
}

/**
 * Streams `chunks` as the body, one write at a time with backpressure,
 * applying the byte-level personalities (slow-body, truncate, die, stall, trickle).
 */
async function sendBody(res: ServerResponse, entry: RequestLogEntry, personality: Personality, chunks: Iterable<Uint8Array>, cut: { byServer: boolean }): Promise<void> {
  const limit = byteLimit(personality);
  let waited = personality.name !== "slow-body";
  const firstByteDelay = async (): Promise<void> => {
    if (waited) return;
    waited = true;
    await delay(personality.n ?? 1000, res);
  };
  const closed = new Promise<void>((done) => res.once("close", () => done()));
  let lastFlushed = Promise.resolve();
  const endByFault = async (): Promise<void> => {
    if (personality.name === "truncate") {
      res.end();
    } else if (personality.name === "die") {
      // The n bytes reach the socket first; then the connection drops mid-body.
      await lastFlushed;
      cut.byServer = true;
      res.socket?.destroy();
    }
    // stall: leave the connection open and silent until the server closes.
  };
  for (let chunk of chunks) {
    if (res.destroyed) return;
    if (limit !== undefined) {
      const room = limit - entry.bytesSent;
      if (room <= 0) return endByFault();
      if (chunk.length > room) chunk = chunk.subarray(0, room);
    }
    await firstByteDelay();
    if (res.destroyed) return;
    if (personality.name === "trickle") {
      // trickle-n: n bytes at full speed, then 16 bytes every 200 ms: never silent for long, never done.
      const fast = Math.max(0, Math.min(chunk.length, (personality.n ?? 0) - entry.bytesSent));
      const pieces = [chunk.subarray(0, fast)];
      for (let off = fast; off < chunk.length; off += 16) pieces.push(chunk.subarray(off, off + 16));
      for (const [i, piece] of pieces.entries()) {
        if (i > 0) await delay(200, res);
        if (res.destroyed) return;
        if (piece.length === 0) continue;
        const written = write(res, piece, closed);
        entry.bytesSent += piece.length;
        await written.accepted;
      }
      continue;
    }
    const written = write(res, chunk, closed);
    lastFlushed = written.flushed;
    entry.bytesSent += chunk.length;
    await written.accepted;
  }
  if (limit !== undefined && entry.bytesSent >= limit) return endByFault();
  await firstByteDelay();
  res.end();
}

async function serveGateway(
  req: IncomingMessage,
  res: ServerResponse,
  entry: RequestLogEntry,
  personality: Personality,
  pathname: string,
  query: URLSearchParams,
  store: MemoryBlockStore,
  faults: FaultBlocks,
  cut: { byServer: boolean },
): Promise<void> {
  if (personality.name === "slow") await delay(personality.n ?? 1000, res);
  if (res.destroyed) return;
  switch (personality.name) {
    case "not-found":
      return sendText(res, entry, 404, "not-found personality: no content here");
    case "status-500":
      return sendText(res, entry, 500, "status-500 personality: internal error");
    case "status-429":
      return sendText(res, entry, 429, "status-429 personality: too many requests", { "Retry-After": "1" });
  }

  const accept = typeof req.headers.accept === "string" ? req.headers.accept : undefined;
  let request: TrustlessRequest;
  let resolved: ResolvedPath;
  try {
    request = parseTrustlessRequest(pathname, query, accept);
    if (request.format === "car" && personality.name === "no-car") {
      return sendText(res, entry, 406, "no-car personality: CAR responses are not offered, ask for application/vnd.ipld.raw");
    }
    resolved = resolvePath(store, request.root, request.path);
  } catch (error) {
    if (error instanceof RequestError) return sendText(res, entry, error.status, error.message);
    if (error instanceof PathNotFound) return sendText(res, entry, 404, error.message);
    throw error;
  }

  const root = request.root.toString();
  const headers: Record<string, string | number> = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": IMMUTABLE,
    "X-Ipfs-Path": pathname,
    Vary: "Accept",
  };
  const isHead = req.method === "HEAD";
  const byteFault = byteLimit(personality) !== undefined;

  if (request.format === "raw") {
    const body = faultyRawBody(personality, resolved.terminal.block, faults);
    headers["Content-Type"] = "application/vnd.ipld.raw";
    headers["Content-Disposition"] = `attachment; filename="${root}.bin"`;
    headers.Etag = `"${root}.raw"`;
    // A Content-Length would turn a clean truncation into a framing error.
    if (!byteFault) headers["Content-Length"] = body.length;
    res.writeHead(200, headers);
    entry.status = 200;
    if (isHead) return void res.end();
    return sendBody(res, entry, personality, body.length === 0 ? [] : [body], cut);
  }

  // dups-n ignores dups=y and says so (IPIP-412: Content-Type states what is sent).
  const dups = request.dups && personality.name !== "dups-n";
  const range = request.entityBytes ? `${request.entityBytes.from}:${request.entityBytes.to ?? "*"}` : "";
  headers["Content-Type"] = `application/vnd.ipld.car; version=1; order=dfs; dups=${dups ? "y" : "n"}`;
  headers["Content-Disposition"] = `attachment; filename="${root}.car"`;
  headers["Accept-Ranges"] = "none";
  headers.Etag = `"${root}.car.${request.scope}${range ? `.${range}` : ""}.dups-${dups ? "y" : "n"}"`;
  res.writeHead(200, headers);
  entry.status = 200;
  if (isHead) return void res.end();
  res.flushHeaders();
  const sent = personality.name === "old-gateway" ? oldGatewayCarBlocks(store, resolved) : honestCarBlocks(store, resolved, request, dups);
  const blocks = faultyCarBlocks(personality, sent, faults);
  return sendBody(res, entry, personality, carChunks(request.root, blocks), cut);
}

export async function startTrustlessGatewayServer(options: TrustlessGatewayServerOptions = {}): Promise<TrustlessGatewayServer> {
  const store = new MemoryBlockStore();
  const fixturesDir = options.fixturesDir === undefined ? FIXTURES_DIR : options.fixturesDir;
  if (fixturesDir !== null) await store.loadCarFiles(fixturesDir);
  const faults = await makeFaultBlocks();
  const log = new RequestLog();
  const redirects = new Map<string, string>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const method = req.method ?? "GET";
    if (url.pathname === "/__blocks" && method === "PUT") {
      try {
        const added = await store.putCar(await readBody(req));
        return sendJson(res, 200, { added });
      } catch (error) {
        return sendText(res, undefined, 400, `not a CARv1 body: ${(error as Error).message}`);
      }
    }
    if (url.pathname === "/__log" && method === "GET") {
      return sendJson(res, 200, log.entries(url.searchParams.get("personality") ?? undefined));
    }
    if (url.pathname === "/__redirect" && method === "PUT") {
      const personality = url.searchParams.get("personality");
      if (personality === null || parsePersonality(personality)?.name !== "redirect") return sendText(res, undefined, 400, "personality=redirect[-STATUS][~tag] required");
      redirects.set(personality, new TextDecoder().decode(await readBody(req)).trim());
      return sendJson(res, 200, { personality, target: redirects.get(personality) });
    }
    if (url.pathname === "/__reset" && method === "POST") {
      log.reset(url.searchParams.get("personality") ?? undefined);
      return sendJson(res, 200, { reset: true });
    }

    const slash = url.pathname.indexOf("/", 1);
    const segment = url.pathname.slice(1, slash === -1 ? undefined : slash);
    const personality = parsePersonality(segment);
    if (!personality) return sendText(res, undefined, 404, `unknown personality ${JSON.stringify(segment)}`);
    const accept = typeof req.headers.accept === "string" ? req.headers.accept : null;
    const entry = log.start(personality.id, method, req.url ?? "/", accept);
    const cut = { byServer: false };
    res.on("close", () => {
      entry.closed = true;
      if (!res.writableFinished && !cut.byServer) entry.aborted = true;
    });
    if (method !== "GET" && method !== "HEAD") {
      return sendText(res, entry, 405, "only GET and HEAD", { Allow: "GET, HEAD" });
    }
    if (personality.name === "redirect") {
      const target = redirects.get(personality.id);
      if (target === undefined) return sendText(res, entry, 500, `no target set for ${personality.id} (PUT /__redirect)`);
      const location = `${target}${url.pathname.slice(segment.length + 1)}${url.search}`;
      return sendText(res, entry, personality.n ?? 302, `redirect personality: moved to ${location}`, { Location: location });
    }
    // A trustless gateway, not a PDP provider: no piece retrieval (the Filecoin watch then checks /ipfs/ block by block).
    if (url.pathname.slice(segment.length + 1).startsWith("/piece/")) return sendText(res, entry, 501, "this gateway serves /ipfs/ only, no /piece/ retrieval");
    await serveGateway(req, res, entry, personality, url.pathname.slice(segment.length + 1), url.searchParams, store, faults, cut);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      console.error("trustless-gateway-server:", error);
      if (!res.headersSent) sendText(res, undefined, 500, `test server error: ${(error as Error).message}`);
      else res.socket?.destroy();
    });
  });
  const { base, close } = await listenLocal(server, "trustless-gateway-server", options.port ?? 0, options.host ?? "127.0.0.1");

  return {
    base,
    store,
    addBlock: (cid, bytes) => store.put(cid, bytes),
    addBlockSource: (getter) => store.addSource(getter),
    requestLog: (personality) => log.entries(personality),
    resetLog: (personality) => log.reset(personality),
    close,
  };
}
