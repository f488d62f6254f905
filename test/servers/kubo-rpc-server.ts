/**
 * A local Kubo node's RPC API (https://docs.ipfs.tech/reference/kubo/rpc/),
 * playing a user's own IPFS node in tests. It speaks Kubo's request and
 * response shapes: every command is `POST /api/v0/<cmd>?arg=...` (GET →
 * 405); a failed command is HTTP 500 `{"Message","Code":0,"Type":"error"}`;
 * `API.Authorizations` is on, so a request without one of the secrets below
 * (`Authorization: Bearer <token>` or `Basic base64(user:pass)`) gets 403.
 *
 * - `dag/import` (multipart/form-data, one file part holding a CARv1):
 *   parses the CAR, checks every block's sha2-256 against its CID (a
 *   mismatch is an error, as Kubo's blockstore would not take it) and its
 *   size (over 1 MiB is refused without `allow-big-block=true`), stores
 *   the blocks; with `pin-roots=true` pins each header root
 *   (`{"Root":{"Cid":{"/":...},"PinErrorMsg":""}}` lines), with
 *   `stats=true` ends with `{"Stats":{"BlockCount","BlockBytesCount"}}` (NDJSON).
 * - `pin/add?arg=<cid>&recursive=true&name=`: pins a DAG whose blocks are all
 *   local (`{"Pins":[cid]}`), else the error Kubo gives offline.
 * - `pin/ls[?arg=<cid>][&type=]`: `{"Keys":{cid:{"Type","Name"}}}` or "is not pinned".
 * - `pin/rm?arg=<cid>`: `{"Pins":[cid]}` or "not pinned or pinned indirectly".
 * - `id`: `{"ID","PublicKey","Addresses","AgentVersion","Protocols"}`.
 *
 * Test-only: `GET /__received` (JSON: for each dag/import, the multipart
 * part's headers and the CAR bytes' length and sha256), `GET /__car/<n>`
 * (the CAR bytes of import n as received), `GET /__blocks/<cid>`,
 * `DELETE /__pins/<cid>` (unpin behind the client's back), plus the
 * request log and faults of backend-server-kit.ts.
 */
import { CarBlockIterator } from "@ipld/car/iterator";
import * as dagPb from "@ipld/dag-pb";
import * as dagCbor from "@ipld/dag-cbor";
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { CID } from "multiformats/cid";
import { ServerKit, readBody, reply } from "./backend-server-kit";
import { listenLocal } from "./listen-local";

export const KUBO_TEST_BEARER = "kubo-test-token-7f3a";
export const KUBO_TEST_BASIC = { user: "edge", password: "kubo-basic-pass-19c2" };
export const KUBO_TEST_PEER_ID = "12D3KooWJxSd4x1hGkUfW9JcW3xzK7fvV5zZ5uD6Q8mX2tQ7nC1a";

export interface KuboTestServer {
  base: string;
  close(): Promise<void>;
}

interface Received {
  partHeaders: string;
  bytes: Uint8Array;
}

export async function startKuboRpcServer(): Promise<KuboTestServer> {
  const kit = new ServerKit();
  const blocks = new Map<string, Uint8Array>();
  const pins = new Map<string, { name: string }>();
  const received: Received[] = [];
  const allowed = new Set([`Bearer ${KUBO_TEST_BEARER}`, `Basic ${btoa(`${KUBO_TEST_BASIC.user}:${KUBO_TEST_BASIC.password}`)}`]);

  const kuboError = (res: ServerResponse, message: string, status = 500): void =>
    reply(res, status, { Message: message, Code: 0, Type: "error" }, { "X-Chunked-Output": "1" });

  /** Every block of the DAG under `cid`, or the first missing one. */
  const walk = (cid: CID, seen = new Set<string>()): { missing?: string } => {
    const key = cid.toV1().toString();
    if (seen.has(key)) return {};
    seen.add(key);
    if (cid.multihash.code === 0x00) return {};
    const bytes = blocks.get(key);
    if (bytes === undefined) return { missing: key };
    const children: CID[] = [];
    if (cid.code === dagPb.code) for (const link of dagPb.decode(bytes).Links) children.push(link.Hash);
    if (cid.code === dagCbor.code) collectCids(dagCbor.decode(bytes), children);
    for (const child of children) {
      const result = walk(child, seen);
      if (result.missing) return result;
    }
    return {};
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname === "/__received") {
      return reply(res, 200, received.map((r) => ({ partHeaders: r.partHeaders, length: r.bytes.length, sha256: createHash("sha256").update(r.bytes).digest("hex") })));
    }
    const car = /^\/__car\/(\d+)$/.exec(url.pathname);
    if (car) {
      const r = received[Number(car[1])];
      if (!r) return reply(res, 404, { error: "no such import" });
      res.writeHead(200, { "Content-Type": "application/vnd.ipld.car" }).end(r.bytes);
      return;
    }
    const block = /^\/__blocks\/([a-z0-9]+)$/.exec(url.pathname);
    if (block) {
      const bytes = blocks.get(block[1]!);
      if (!bytes) return reply(res, 404, { error: "no such block" });
      res.writeHead(200, { "Content-Type": "application/octet-stream" }).end(bytes);
      return;
    }
    const unpin = /^\/__pins\/([a-z0-9]+)$/.exec(url.pathname);
    if (unpin && req.method === "DELETE") {
      pins.delete(unpin[1]!);
      return reply(res, 204);
    }
    const intercepted = await kit.intercept(req, res);
    if (intercepted.handled) return;
    res.on("finish", () => (intercepted.entry.status = res.statusCode));

    if (!url.pathname.startsWith("/api/v0/")) return void res.writeHead(404, { "Content-Type": "text/plain" }).end("404 page not found\n");
    // Kubo's API.Authorizations: a missing or unknown secret is refused before anything else.
    if (!allowed.has(req.headers["authorization"] as string)) return void res.writeHead(403, { "Content-Type": "text/plain" }).end("403 - Forbidden\n");
    // Kubo refuses GET on the RPC API (CSRF protection).
    if (req.method !== "POST") return void res.writeHead(405, { "Content-Type": "text/plain" }).end("405 - Method Not Allowed\n");
    const command = url.pathname.slice("/api/v0/".length);
    const args = url.searchParams.getAll("arg");
    const parseArg = (): CID | undefined => {
      try {
        return CID.parse(args[0] ?? "");
      } catch {
        return undefined;
      }
    };

    switch (command) {
      case "id":
        return reply(res, 200, { ID: KUBO_TEST_PEER_ID, PublicKey: "CAESIG...", Addresses: [], AgentVersion: "kubo/0.38.1/test-server", Protocols: [] });

      case "dag/import": {
        const contentType = (req.headers["content-type"] as string | undefined) ?? "";
        const boundary = /boundary=(.+)$/.exec(contentType)?.[1];
        if (!contentType.startsWith("multipart/form-data") || boundary === undefined) {
          for await (const _ of req) void _;
          return kuboError(res, "request Content-Type isn't multipart/form-data", 400);
        }
        const body = await readBody(req);
        const part = firstPart(body, boundary);
        if (part === undefined) return kuboError(res, "file argument 'path' is required", 400);
        received.push(part);
        const imported: { cid: CID; bytes: Uint8Array }[] = [];
        let roots: CID[];
        try {
          const iterator = await CarBlockIterator.fromBytes(part.bytes);
          roots = await iterator.getRoots();
          for await (const b of iterator) {
            // Kubo refuses blocks over 1 MiB (the bitswap limit) unless allow-big-block=true.
            if (b.bytes.length > 1024 * 1024 && url.searchParams.get("allow-big-block") !== "true") {
              return kuboError(res, `produced block is over 1MiB: big blocks can't be exchanged with other peers. consider using UnixFS for automatic chunking of bigger files, or pass --allow-big-block to override`);
            }
            if (b.cid.multihash.code === 0x12) {
              const digest = createHash("sha256").update(b.bytes).digest("hex");
              if (digest !== toHex(b.cid.multihash.digest)) return kuboError(res, `block ${b.cid} does not match its hash`);
            }
            imported.push({ cid: b.cid, bytes: b.bytes });
          }
        } catch (err) {
          return kuboError(res, `failed to import CAR: ${String(err)}`);
        }
        for (const b of imported) blocks.set(b.cid.toV1().toString(), b.bytes);
        const lines: unknown[] = [];
        if (url.searchParams.get("pin-roots") !== "false") {
          for (const root of roots) {
            const missing = walk(root).missing;
            if (missing === undefined) pins.set(root.toV1().toString(), { name: "" });
            lines.push({ Root: { Cid: { "/": root.toString() }, PinErrorMsg: missing ? `block ${missing} not found` : "" } });
          }
        }
        if (url.searchParams.get("stats") === "true") {
          lines.push({ Stats: { BlockCount: imported.length, BlockBytesCount: imported.reduce((n, b) => n + b.bytes.length, 0) } });
        }
        res.writeHead(200, { "Content-Type": "application/json", "X-Chunked-Output": "1", Trailer: "X-Stream-Error" });
        res.end(lines.map((l) => JSON.stringify(l) + "\n").join(""));
        return;
      }

      case "pin/add": {
        const cid = parseArg();
        if (cid === undefined) return kuboError(res, "invalid path: " + (args[0] ?? "argument \"ipfs-path\" is required"), args[0] ? 500 : 400);
        const missing = walk(cid).missing;
        if (missing !== undefined) return kuboError(res, `pin: block was not found locally (offline): ipld: could not find ${missing}`);
        pins.set(cid.toV1().toString(), { name: url.searchParams.get("name") ?? "" });
        return reply(res, 200, { Pins: [cid.toString()] });
      }

      case "pin/ls": {
        const type = url.searchParams.get("type") ?? "all";
        if (args.length === 0) {
          const keys: Record<string, { Type: string; Name: string }> = {};
          for (const [cid, pin] of pins) keys[cid] = { Type: "recursive", Name: pin.name };
          return reply(res, 200, { Keys: keys });
        }
        const cid = parseArg();
        if (cid === undefined) return kuboError(res, `invalid path "${args[0]}"`);
        const pin = pins.get(cid.toV1().toString());
        if (pin === undefined || (type !== "all" && type !== "recursive")) return kuboError(res, `path '/ipfs/${args[0]}' is not pinned`);
        return reply(res, 200, { Keys: { [cid.toString()]: { Type: "recursive", Name: pin.name } } });
      }

      case "pin/rm": {
        const cid = parseArg();
        if (cid === undefined) return kuboError(res, `invalid path "${args[0]}"`);
        if (!pins.delete(cid.toV1().toString())) return kuboError(res, "not pinned or pinned indirectly");
        return reply(res, 200, { Pins: [cid.toString()] });
      }

      default:
        return void res.writeHead(404, { "Content-Type": "text/plain" }).end("404 page not found\n");
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "Content-Type": "text/plain" });
      res.end(`kubo test server bug: ${String(error)}\n`);
    });
  });
  const { base, close } = await listenLocal(server, "kubo-rpc-server");
  return {
    base,
    close,
  };
}

function collectCids(value: unknown, out: CID[]): void {
  const cid = CID.asCID(value);
  if (cid) return void out.push(cid);
  if (Array.isArray(value)) for (const v of value) collectCids(v, out);
  else if (value !== null && typeof value === "object" && !(value instanceof Uint8Array)) for (const v of Object.values(value)) collectCids(v, out);
}

/** The first part of a multipart/form-data body (RFC 7578): its header block and its bytes. */
function firstPart(body: Uint8Array, boundary: string): Received | undefined {
  // latin1: one character per byte, so string indices are byte offsets.
  const text = new TextDecoder("latin1").decode(body);
  const open = text.indexOf(`--${boundary}\r\n`);
  if (open === -1) return undefined;
  const headersStart = open + boundary.length + 4;
  const headersEnd = text.indexOf("\r\n\r\n", headersStart);
  if (headersEnd === -1) return undefined;
  const close = text.indexOf(`\r\n--${boundary}`, headersEnd + 4);
  if (close === -1) return undefined;
  return { partHeaders: text.slice(headersStart, headersEnd), bytes: new Uint8Array(body.subarray(headersEnd + 4, close)) };
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
