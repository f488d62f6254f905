/**
 * A local denylist host playing `https://badbits.dwebops.pub/badbits.deny`
 * and other IPIP-383 list publishers in tests: Node `http` on 127.0.0.1.
 *
 * - `PUT {base}/lists/{name}` (text body): publish a list; `GET` serves it
 *   with a strong `ETag` and answers `If-None-Match` with 304.
 * - `GET {base}/generated/{count}.deny[?status=451][&extra=HEX]`: a
 *   badbits-style list of `count` legacy double-hash lines
 *   `//{hex sha256("entry-{i}")}` behind a YAML header, generated while
 *   streaming (never held whole), then `//HEX` when `extra` is given.
 * - `GET {base}/fail.deny`: HTTP 500.
 * - `GET {base}/truncated.deny`: a header and some entries, then the
 *   connection is destroyed mid-body.
 * - `GET {base}/__log`: JSON list of `{ path, ifNoneMatch }` received.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { listenLocal } from "./listen-local";

export interface DenylistServer {
  base: string;
  close(): Promise<void>;
}

/** The digest (hex) of generated entry `i`: sha256 of the text `entry-{i}`. */
export function generatedEntryHex(i: number): string {
  return createHash("sha256").update(`entry-${i}`).digest("hex");
}

export async function startDenylistServer(options: { port?: number } = {}): Promise<DenylistServer> {
  const lists = new Map<string, { body: string; etag: string }>();
  const log: { path: string; ifNoneMatch: string | null }[] = [];

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname === "/__log") {
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(log));
      return;
    }
    log.push({ path: url.pathname, ifNoneMatch: (req.headers["if-none-match"] as string | undefined) ?? null });

    const named = /^\/lists\/([A-Za-z0-9._-]+)$/.exec(url.pathname);
    if (named && req.method === "PUT") {
      const decoder = new TextDecoder();
      let body = "";
      for await (const chunk of req) body += decoder.decode(chunk as Uint8Array, { stream: true });
      body += decoder.decode();
      lists.set(named[1]!, { body, etag: `"${createHash("sha256").update(body).digest("hex").slice(0, 16)}"` });
      res.writeHead(204).end();
      return;
    }
    if (named && req.method === "GET") {
      const list = lists.get(named[1]!);
      if (!list) {
        res.writeHead(404, { "Content-Type": "text/plain" }).end("no such list\n");
        return;
      }
      if (req.headers["if-none-match"] === list.etag) {
        res.writeHead(304, { ETag: list.etag }).end();
        return;
      }
      res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8", ETag: list.etag }).end(list.body);
      return;
    }

    const generated = /^\/generated\/(\d{1,7})\.deny$/.exec(url.pathname);
    if (generated && req.method === "GET") {
      const count = Number(generated[1]);
      const status = url.searchParams.get("status");
      res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" });
      res.write(
        `version: 1\nname: generated ${count}\ndescription: badbits-style test list\nauthor: test\nhints:\n` +
          (status ? `  gateway_status: ${status}\n` : "") +
          "  double_hash_fn: sha256\n  double_hash_enc: hex\n---\n",
      );
      // Written in slices, waiting for the socket to drain: the list is never held whole.
      for (let i = 0; i < count; ) {
        let slice = "";
        for (const end = Math.min(count, i + 2000); i < end; i++) slice += `//${generatedEntryHex(i)}\n`;
        if (!res.write(slice)) await new Promise((drained) => res.once("drain", drained));
      }
      const extra = url.searchParams.get("extra");
      res.end(extra && /^[0-9a-f]{64}$/.test(extra) ? `//${extra}\n` : "");
      return;
    }
    if (url.pathname === "/fail.deny") {
      res.writeHead(500, { "Content-Type": "text/plain" }).end("list host failure (test mode)\n");
      return;
    }
    if (url.pathname === "/truncated.deny") {
      res.writeHead(200, { "Content-Type": "text/plain", "Content-Length": "100000" });
      res.write(`version: 1\n---\n//${generatedEntryHex(1)}\n//${generatedEntryHex(2)}\n`);
      setTimeout(() => res.destroy(), 50);
      return;
    }
    res.writeHead(404, { "Content-Type": "text/plain" }).end("not found\n");
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "Content-Type": "text/plain" });
      res.end(`denylist server error: ${String(err)}\n`);
    });
  });
  const { base, close } = await listenLocal(server, "denylist server", options.port ?? 0);
  return {
    base,
    close,
  };
}
