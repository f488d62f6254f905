/**
 * A local delegated routing server for content routing (Delegated Routing V1
 * HTTP API, https://specs.ipfs.tech/routing/http-routing-v1/ "Content Routing API") that
 * plays cid.contact (IPNI) in tests: Node `http` on 127.0.0.1.
 *
 * - `GET {base}[/{modifier}…]/routing/v1/providers/{cid}`: `{"Providers": [...]}`
 *   as set for that CID (`Cache-Control: public, max-age=300`), or 404 when
 *   none were set (cid.contact answers 404 for an unknown CID; the spec says
 *   a client reads it as "no providers"). `filter-protocols` is honoured
 *   (IPIP-484: a record passes when its Protocols contain a listed name).
 * - `PUT {base}/__providers/{cid}` with `{"Providers": [...]}`: sets the answer
 *   (records as given: tests write honest and broken ones); `DELETE` forgets it.
 * - `GET {base}/__log[?cid=CID]`: JSON list of the lookups received
 *   (`{ cid, mode, query, status }`).
 * Modifiers (path segments before `/routing`): `fail` = 500, `slow-{ms}` =
 * answer after ms, `garbage` = 200 with a body that is not JSON, `moved` =
 * 302 to the same request without `moved` (a relative Location: this host).
 *
 * CIDs are compared as CIDv1 strings, however they are written.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { CID } from "multiformats/cid";
import { listenLocal } from "./listen-local";

export interface IpniLogEntry {
  cid: string;
  mode: string;
  query: string;
  status: number;
}

export interface IpniServer {
  /** `http://127.0.0.1:PORT`, no trailing slash: a router base URL for `PROVIDER_ROUTERS`. */
  base: string;
  close(): Promise<void>;
}

function canonical(cid: string): string {
  try {
    return CID.parse(cid).toV1().toString();
  } catch {
    return cid;
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of req as AsyncIterable<Uint8Array>) {
    text += decoder.decode(chunk, { stream: true });
    if (text.length > 1024 * 1024) throw new Error("body too large");
  }
  return JSON.parse(text + decoder.decode());
}

export async function startIpniServer(options: { port?: number } = {}): Promise<IpniServer> {
  const answers = new Map<string, unknown[]>();
  const log: IpniLogEntry[] = [];

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const send = (status: number, headers: Record<string, string>, body: string): void => {
      res.writeHead(status, headers).end(body);
    };
    if (url.pathname === "/__log") {
      const cid = url.searchParams.get("cid");
      const entries = cid === null ? log : log.filter((e) => e.cid === canonical(cid));
      return send(200, { "Content-Type": "application/json" }, JSON.stringify(entries));
    }
    const control = /^\/__providers\/([^/]+)$/.exec(url.pathname);
    if (control) {
      const cid = canonical(decodeURIComponent(control[1]!));
      if (req.method === "PUT") {
        const body = (await readJson(req)) as { Providers?: unknown[] };
        answers.set(cid, Array.isArray(body.Providers) ? body.Providers : []);
        return send(204, {}, "");
      }
      if (req.method === "DELETE") {
        answers.delete(cid);
        return send(204, {}, "");
      }
      return send(405, { "Content-Type": "text/plain" }, "PUT or DELETE\n");
    }
    const match = /^((?:\/[^/]+)*?)\/routing\/v1\/providers\/([^/]+)$/.exec(url.pathname);
    if (match === null || req.method !== "GET") {
      return send(400, { "Content-Type": "text/plain" }, "unknown path\n");
    }
    const modifiers = match[1]!.split("/").filter((m) => m !== "");
    const cid = canonical(decodeURIComponent(match[2]!));
    const entry: IpniLogEntry = { cid, mode: modifiers.join("/"), query: url.search, status: 0 };
    log.push(entry);
    const reply = (status: number, headers: Record<string, string>, body: string): void => {
      entry.status = status;
      send(status, headers, body);
    };
    const slow = modifiers.map((m) => /^slow-(\d+)$/.exec(m)).find((m) => m !== null);
    if (slow) await new Promise((done) => setTimeout(done, Number(slow[1])));
    if (modifiers.includes("moved")) {
      const rest = modifiers.filter((m) => m !== "moved").map((m) => `/${m}`).join("");
      return reply(302, { Location: `${rest}/routing/v1/providers/${match[2]}${url.search}` }, "");
    }
    if (modifiers.includes("fail")) return reply(500, { "Content-Type": "text/plain" }, "router failure (test mode)\n");
    if (modifiers.includes("garbage")) return reply(200, { "Content-Type": "application/json" }, "{not json");
    const records = answers.get(cid);
    if (records === undefined) return reply(404, { "Content-Type": "text/plain", "Cache-Control": "public, max-age=15" }, "no providers\n");
    const wanted = (url.searchParams.get("filter-protocols") ?? "")
      .split(",")
      .map((p) => p.trim().toLowerCase())
      .filter((p) => p !== "");
    const passes = (record: unknown): boolean => {
      if (wanted.length === 0) return true;
      const protocols = (record as { Protocols?: unknown }).Protocols;
      if (!Array.isArray(protocols) || protocols.length === 0) return wanted.includes("unknown");
      return protocols.some((p) => typeof p === "string" && wanted.includes(p.toLowerCase()));
    };
    return reply(200, { "Content-Type": "application/json", "Cache-Control": "public, max-age=300", Vary: "Accept" }, JSON.stringify({ Providers: records.filter(passes) }));
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "Content-Type": "text/plain" });
      res.end(`ipni server bug: ${String(error)}\n`);
    });
  });
  const { base, close } = await listenLocal(server, "ipni-server", options.port ?? 0);
  return {
    base,
    close,
  };
}
