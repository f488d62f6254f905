/**
 * A local delegated routing server (Delegated Routing V1 HTTP API,
 * https://specs.ipfs.tech/routing/http-routing-v1/, IPNS part only) that plays
 * `delegated-ipfs.dev` in tests: Node `http` on 127.0.0.1, serving the
 * `*.ipns-record` conformance fixtures (each file is the record of the name
 * before `_` or `.ipns-record` in its file name) plus records tests PUT.
 *
 * `{base}[/{modifier}…]/routing/v1/ipns/{name}`:
 * - `GET`: the record (`Content-Type: application/vnd.ipfs.ipns-record`), 404 when none;
 * - `PUT` (record body): store it for the name, replacing any fixture (not verified:
 *   this router also plays hostile routers that serve forged records);
 * - `DELETE`: forget a PUT record.
 * Modifiers (path segments before `/routing`, so that each base URL is a
 * different router): `store-{id}` = a separate set of PUT records (fixtures
 * still underneath); `fail` = 500; `slow-{ms}` = answer after ms; `notype` =
 * 200 with `text/plain` (which the spec says means "no record").
 * `GET {base}/__log[?name=NAME]`: JSON list of requests received
 * (`{ method, mode, name, status }`, `mode` = the modifiers, names canonicalised).
 *
 * Names are canonicalised (base36 CIDv1 libp2p-key) on the way in so that
 * `12D3KooW…`, `Qm…` and `k51…` spellings reach the same record.
 */
import { readdir, readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { base36 } from "multiformats/bases/base36";
import { base58btc } from "multiformats/bases/base58";
import { CID } from "multiformats/cid";
import * as Digest from "multiformats/hashes/digest";
import { listenLocal } from "./listen-local";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url).href);
export const FIXTURES_DIR = resolve(REPO_ROOT, "test/fixtures/conformance/fixtures");
const RECORD_TYPE = "application/vnd.ipfs.ipns-record";
const MAX_PUT_BYTES = 1024 * 1024;

export interface RoutingLogEntry {
  method: string;
  mode: string;
  name: string;
  status: number;
}

export interface DelegatedRoutingServer {
  /** `http://127.0.0.1:PORT`, no trailing slash: a router base URL for `ROUTERS`. */
  base: string;
  /** Canonical names of the fixture records loaded. */
  fixtureNames: string[];
  log(name?: string): RoutingLogEntry[];
  close(): Promise<void>;
}

/** Base36 CIDv1 libp2p-key form of a peer ID or IPNS name; the input unchanged when it is neither. */
export function canonicalIpnsName(name: string): string {
  try {
    const multihash =
      name.startsWith("1") || name.startsWith("Qm")
        ? Digest.decode(base58btc.baseDecode(name))
        : CID.parse(name, name.startsWith("k") ? base36 : undefined).multihash;
    return CID.createV1(0x72, multihash).toString(base36);
  } catch {
    return name;
  }
}

async function loadFixtures(dir: string): Promise<Map<string, Uint8Array>> {
  const records = new Map<string, Uint8Array>();
  for (const file of await readdir(dir, { recursive: true })) {
    if (!file.endsWith(".ipns-record")) continue;
    const base = file.slice(file.lastIndexOf("/") + 1);
    const name = base.slice(0, base.includes("_") ? base.indexOf("_") : base.length - ".ipns-record".length);
    records.set(canonicalIpnsName(name), await readFile(resolve(dir, file)));
  }
  return records;
}

async function readBody(req: IncomingMessage): Promise<Uint8Array | null> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += chunk.length;
    if (total > MAX_PUT_BYTES) return null;
    chunks.push(chunk);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

export async function startDelegatedRoutingServer(
  options: { fixturesDir?: string; port?: number } = {},
): Promise<DelegatedRoutingServer> {
  const fixtures = await loadFixtures(options.fixturesDir ?? FIXTURES_DIR);
  const stores = new Map<string, Map<string, Uint8Array>>();
  const log: RoutingLogEntry[] = [];

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname === "/__log") {
      const name = url.searchParams.get("name");
      const entries = name === null ? log : log.filter((e) => e.name === canonicalIpnsName(name));
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(entries));
      return;
    }
    const match = /^((?:\/[^/]+)*?)\/routing\/v1\/ipns\/([^/]+)$/.exec(url.pathname);
    if (match === null) {
      res.writeHead(400, { "Content-Type": "text/plain" }).end("unknown path\n"); // spec "Error Codes"
      return;
    }
    const modifiers = match[1]!.split("/").filter((m) => m !== "");
    const mode = modifiers.join("/");
    const storeId = modifiers.find((m) => m.startsWith("store-")) ?? "";
    let published = stores.get(storeId);
    if (published === undefined) stores.set(storeId, (published = new Map()));
    const name = canonicalIpnsName(decodeURIComponent(match[2]!));
    const entry: RoutingLogEntry = { method: req.method ?? "GET", mode, name, status: 0 };
    log.push(entry);
    const reply = (status: number, headers: Record<string, string>, body?: Uint8Array | string): void => {
      entry.status = status;
      res.writeHead(status, headers).end(body);
    };

    const slow = modifiers.map((m) => /^slow-(\d+)$/.exec(m)).find((m) => m !== null);
    if (slow) await new Promise((done) => setTimeout(done, Number(slow[1])));
    if (modifiers.includes("fail")) return reply(500, { "Content-Type": "text/plain" }, "router failure (test mode)\n");

    switch (req.method) {
      case "PUT": {
        const body = await readBody(req);
        if (body === null) return reply(413, { "Content-Type": "text/plain" }, "too large\n");
        published.set(name, body);
        return reply(200, { "Content-Type": "text/plain" }, "");
      }
      case "DELETE":
        published.delete(name);
        return reply(200, { "Content-Type": "text/plain" }, "");
      case "GET": {
        if (modifiers.includes("notype")) return reply(200, { "Content-Type": "text/plain" }, "not a record\n");
        const record = published.get(name) ?? fixtures.get(name);
        if (record === undefined) return reply(404, { "Content-Type": "text/plain" }, "no record\n");
        return reply(200, { "Content-Type": RECORD_TYPE, "Cache-Control": "public, max-age=60", Vary: "Accept" }, record);
      }
      default:
        return reply(501, { "Content-Type": "text/plain" }, "method not supported\n");
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "Content-Type": "text/plain" });
      res.end(`routing server bug: ${String(error)}\n`);
    });
  });
  const { base, close } = await listenLocal(server, "delegated-routing-server", options.port ?? 0);
  return {
    base,
    fixtureNames: [...fixtures.keys()],
    log: (name) => (name === undefined ? log : log.filter((e) => e.name === canonicalIpnsName(name))).map((e) => ({ ...e })),
    close,
  };
}
