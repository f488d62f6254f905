/**
 * A local Hugging Face Hub playing huggingface.co for a dataset repo, with
 * the documented HTTP endpoints a Git LFS upload and a commit use (shapes
 * of huggingface.js `commit.ts` / `paths-info.ts` and the git-lfs batch API):
 *
 * - `POST /api/datasets/{ns}/{name}/preupload/{rev}` `{files:[{path,size,sample}]}` →
 *   `{files:[{path,uploadMode,shouldIgnore}]}` ("lfs" when the sample holds a NUL byte or the file is over 10 MB);
 * - `POST /datasets/{ns}/{name}.git/info/lfs/objects/batch` (git-lfs+json): an object
 *   already stored has no actions; else `basic` (one pre-signed PUT URL and a
 *   `verify` action) or, above `multipartThreshold` when offered,
 *   `multipart` (`chunk_size` and numbered part URLs in the upload header, the href completes);
 * - pre-signed storage URLs `{base}/__storage/...?sig=`: a missing or wrong
 *   `sig` is 403, an `Authorization` header is 400 (as S3 refuses two auth
 *   mechanisms), a body without Content-Length is 411, bytes whose sha256 or
 *   size differ from the oid are 400;
 * - `POST /api/datasets/{ns}/{name}/commit/{rev}` NDJSON: `header`, `lfsFile`
 *   (the LFS object must be stored, same size), `file` (base64), `deletedFile`
 *   (a missing path is 404) → `{success, commitOid, commitUrl}`;
 * - `POST /api/datasets/{ns}/{name}/paths-info/{rev}` `{paths, expand}` → `[{type,path,size,oid,lfs?}]`;
 * - `GET /datasets/{ns}/{name}/resolve/{rev}/{path}`: a regular file's bytes
 *   (`Range` honoured), an LFS file a 302 to a pre-signed CDN URL (`Range` honoured there).
 *
 * Auth: `Authorization: Bearer <token>`; an unknown token 401
 * `{"error":"Invalid credentials in Authorization header"}`; the read token
 * gets 403 on writes. The repo is private: reads need a token too.
 * Test-only: `GET /__repo/files/{path}` (a committed file's bytes),
 * `DELETE /__repo/files/{path}` (removed behind the client's back),
 * `GET /__repo/commits`, plus the log and faults of backend-server-kit.ts.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { ServerKit, readBody, reply } from "./backend-server-kit";
import { listenLocal } from "./listen-local";

export const HF_TEST_REPO = "edge-test/pins";
export const HF_TEST_WRITE_TOKEN = "hf_write_test_token_31415";
export const HF_TEST_READ_TOKEN = "hf_read_test_token_27182";

export interface HfHubTestServer {
  base: string;
  close(): Promise<void>;
}

type RepoFile = { lfs: { oid: string; size: number } } | { content: Uint8Array };

interface Commit {
  oid: string;
  summary: string;
  description: string;
  operations: unknown[];
}

const sha256 = (bytes: Uint8Array | string) => createHash("sha256").update(bytes).digest("hex");

export async function startHfHubServer(options: { multipartThreshold?: number; chunkSize?: number } = {}): Promise<HfHubTestServer> {
  const multipartThreshold = options.multipartThreshold ?? 256 * 1024;
  const chunkSize = options.chunkSize ?? 100 * 1024;
  const kit = new ServerKit();
  const files = new Map<string, RepoFile>();
  const lfs = new Map<string, Uint8Array>();
  const parts = new Map<string, Map<number, { bytes: Uint8Array; etag: string }>>();
  const signatures = new Map<string, string>(); // oid → sig of its pre-signed URLs
  const verifyToken = `verify-${sha256(String(Math.random())).slice(0, 16)}`;
  const commits: Commit[] = [];
  let base = "";

  const fileBytes = (file: RepoFile): Uint8Array | undefined => ("content" in file ? file.content : lfs.get(file.lfs.oid));

  /** Who the bearer token is: "write", "read", or an answered 401. */
  const authorise = (req: IncomingMessage, res: ServerResponse, need: "read" | "write"): boolean => {
    const header = (req.headers["authorization"] as string | undefined) ?? "";
    const token = header.startsWith("Bearer ") ? header.slice(7) : "";
    const role = token === HF_TEST_WRITE_TOKEN ? "write" : token === HF_TEST_READ_TOKEN ? "read" : undefined;
    if (role === undefined) {
      reply(res, 401, { error: "Invalid credentials in Authorization header" }, { "X-Error-Code": "InvalidCredentials" });
      return false;
    }
    if (need === "write" && role !== "write") {
      reply(res, 403, { error: `You don't have the rights to write to ${HF_TEST_REPO}` });
      return false;
    }
    return true;
  };

  const sendRange = (req: IncomingMessage, res: ServerResponse, bytes: Uint8Array): void => {
    const range = /^bytes=(\d+)-(\d*)$/.exec((req.headers["range"] as string | undefined) ?? "");
    if (range === null) return void res.writeHead(200, { "Content-Length": bytes.length, "Accept-Ranges": "bytes" }).end(bytes);
    const first = Number(range[1]);
    const last = Math.min(bytes.length - 1, range[2] ? Number(range[2]) : bytes.length - 1);
    if (first > last) return void res.writeHead(416, { "Content-Range": `bytes */${bytes.length}` }).end();
    res.writeHead(206, { "Content-Range": `bytes ${first}-${last}/${bytes.length}`, "Content-Length": last - first + 1 }).end(bytes.subarray(first, last + 1));
  };

  /** Checks a pre-signed storage request; answers and returns false when it is not acceptable. */
  const presigned = (req: IncomingMessage, res: ServerResponse, oid: string, url: URL): boolean => {
    if (req.headers["authorization"] !== undefined) {
      reply(res, 400, { error: "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter..." });
      return false;
    }
    if (signatures.get(oid) === undefined || url.searchParams.get("sig") !== signatures.get(oid)) {
      reply(res, 403, { error: "SignatureDoesNotMatch" });
      return false;
    }
    return true;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = decodeURIComponent(url.pathname);

    // Test-only views.
    if (path.startsWith("/__repo/files/")) {
      const file = files.get(path.slice("/__repo/files/".length));
      if (req.method === "DELETE") {
        files.delete(path.slice("/__repo/files/".length));
        return reply(res, 204);
      }
      const bytes = file && fileBytes(file);
      if (!bytes) return reply(res, 404, { error: "no such file" });
      return void res.writeHead(200, { "Content-Type": "application/octet-stream" }).end(bytes);
    }
    if (path === "/__repo/commits") return reply(res, 200, commits);

    const intercepted = await kit.intercept(req, res);
    if (intercepted.handled) return;
    res.on("finish", () => (intercepted.entry.status = res.statusCode));

    const api = new RegExp(`^/api/datasets/${HF_TEST_REPO}/(preupload|commit|paths-info)/([^/]+)$`).exec(path);
    if (api && req.method === "POST") {
      const [, what] = api;
      if (!authorise(req, res, what === "paths-info" ? "read" : "write")) return;
      const body = new TextDecoder().decode(await readBody(req));
      if (what === "preupload") {
        const { files: asked } = JSON.parse(body) as { files: { path: string; size: number; sample: string }[] };
        return reply(res, 200, {
          files: asked.map((f) => {
            const sample = atob(f.sample);
            if (sample.length > 512) throw new Error("sample over 512 bytes");
            return { path: f.path, uploadMode: sample.includes("\0") || f.size > 10_000_000 ? "lfs" : "regular", shouldIgnore: false };
          }),
        });
      }
      if (what === "paths-info") {
        const asked = (req.headers["content-type"] ?? "").includes("json")
          ? (JSON.parse(body) as { paths: string[] }).paths
          : new URLSearchParams(body).getAll("paths");
        return reply(res, 200, asked.flatMap((p) => {
          const file = files.get(p);
          if (!file) return [];
          if ("content" in file) return [{ type: "file", path: p, size: file.content.length, oid: gitBlobOid(file.content) }];
          const pointer = `version https://git-lfs.github.com/spec/v1\noid sha256:${file.lfs.oid}\nsize ${file.lfs.size}\n`;
          return [{ type: "file", path: p, size: file.lfs.size, oid: gitBlobOid(new TextEncoder().encode(pointer)), lfs: { ...file.lfs, pointerSize: pointer.length } }];
        }));
      }
      // commit: NDJSON, header first.
      if (req.headers["content-type"] !== "application/x-ndjson") return reply(res, 400, { error: "Content-Type must be application/x-ndjson" });
      const lines = body.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as { key: string; value: Record<string, unknown> });
      const header = lines[0];
      if (header?.key !== "header" || typeof header.value["summary"] !== "string" || header.value["summary"] === "") {
        return reply(res, 400, { error: "The first line must be the commit header with a summary" });
      }
      const changes = new Map<string, RepoFile | null>();
      for (const { key, value } of lines.slice(1)) {
        const p = String(value["path"]);
        if (key === "lfsFile") {
          const object = lfs.get(String(value["oid"]));
          if (object === undefined || object.length !== value["size"] || value["algo"] !== "sha256") {
            return reply(res, 422, { error: `LFS object ${String(value["oid"])} of ${p} was not uploaded` });
          }
          changes.set(p, { lfs: { oid: String(value["oid"]), size: object.length } });
        } else if (key === "file") {
          changes.set(p, { content: Uint8Array.from(atob(String(value["content"])), (c) => c.charCodeAt(0)) });
        } else if (key === "deletedFile") {
          if (!files.has(p)) return reply(res, 404, { error: `Entry not found: ${p}` });
          changes.set(p, null);
        } else return reply(res, 400, { error: `unknown operation ${key}` });
      }
      for (const [p, file] of changes) file === null ? files.delete(p) : files.set(p, file);
      const oid = createHash("sha1").update(`${commits.length}:${body}`).digest("hex");
      commits.push({ oid, summary: String(header.value["summary"]), description: String(header.value["description"] ?? ""), operations: lines.slice(1) });
      return reply(res, 200, { success: true, commitOid: oid, commitUrl: `${base}/datasets/${HF_TEST_REPO}/commit/${oid}` });
    }

    if (path === `/datasets/${HF_TEST_REPO}.git/info/lfs/objects/batch` && req.method === "POST") {
      if (!authorise(req, res, "write")) return;
      if (req.headers["accept"] !== "application/vnd.git-lfs+json") return reply(res, 406, { message: "Accept must be application/vnd.git-lfs+json" });
      const batch = JSON.parse(new TextDecoder().decode(await readBody(req))) as {
        operation: string;
        transfers?: string[];
        hash_algo?: string;
        objects: { oid: string; size: number }[];
      };
      if (batch.operation !== "upload" || (batch.hash_algo ?? "sha256") !== "sha_256") return reply(res, 422, { message: "unsupported batch request" });
      const multipart = (batch.transfers ?? []).includes("multipart") && batch.objects.some((o) => o.size > multipartThreshold && !lfs.has(o.oid));
      const objects = batch.objects.map(({ oid, size }) => {
        if (lfs.has(oid)) return { oid, size };
        const sig = sha256(`${oid}:${Math.random()}`).slice(0, 24);
        signatures.set(oid, sig);
        if (multipart && size > multipartThreshold) {
          const header: Record<string, string> = { chunk_size: String(chunkSize) };
          for (let n = 1; (n - 1) * chunkSize < size; n++) header[String(n).padStart(5, "0")] = `${base}/__storage/part/${oid}/${n}?sig=${sig}`;
          return { oid, size, authenticated: true, actions: { upload: { href: `${base}/__storage/complete/${oid}?sig=${sig}`, header } } };
        }
        return {
          oid,
          size,
          authenticated: true,
          actions: {
            upload: { href: `${base}/__storage/upload/${oid}?sig=${sig}`, header: { "Content-Type": "application/octet-stream" } },
            verify: { href: `${base}/datasets/${HF_TEST_REPO}.git/info/lfs/objects/verify`, header: { "X-Verify-Token": verifyToken } },
          },
        };
      });
      return reply(res, 200, { transfer: multipart ? "multipart" : "basic", objects }, { "Content-Type": "application/vnd.git-lfs+json" });
    }

    if (path === `/datasets/${HF_TEST_REPO}.git/info/lfs/objects/verify` && req.method === "POST") {
      const { oid, size } = JSON.parse(new TextDecoder().decode(await readBody(req))) as { oid: string; size: number };
      if (req.headers["x-verify-token"] !== verifyToken) return reply(res, 403, { message: "bad verify token" });
      return lfs.get(oid)?.length === size ? reply(res, 200, {}) : reply(res, 404, { message: "object not found" });
    }

    const storage = /^\/__storage\/(upload|part|complete)\/([0-9a-f]{64})(?:\/(\d+))?$/.exec(path);
    if (storage) {
      const [, kind, oid, n] = storage;
      if (!presigned(req, res, oid!, url)) return;
      if (kind !== "complete" && req.headers["content-length"] === undefined) return reply(res, 411, { error: "MissingContentLength" });
      const bytes = await readBody(req);
      if (kind === "upload" && req.method === "PUT") {
        if (sha256(bytes) !== oid) return reply(res, 400, { error: "BadDigest" });
        lfs.set(oid!, bytes);
        return reply(res, 200);
      }
      if (kind === "part" && req.method === "PUT") {
        const etag = `"${sha256(bytes).slice(0, 32)}"`;
        if (!parts.has(oid!)) parts.set(oid!, new Map());
        parts.get(oid!)!.set(Number(n), { bytes, etag });
        return reply(res, 200, undefined, { ETag: etag });
      }
      if (kind === "complete" && req.method === "POST") {
        const done = JSON.parse(new TextDecoder().decode(bytes)) as { oid: string; parts: { partNumber: number; etag: string }[] };
        const held = parts.get(oid!);
        if (done.oid !== oid || !held || done.parts.some((p) => held.get(p.partNumber)?.etag !== p.etag)) return reply(res, 400, { error: "InvalidPart" });
        const ordered = done.parts.sort((a, b) => a.partNumber - b.partNumber).map((p) => held.get(p.partNumber)!.bytes);
        const whole = new Uint8Array(ordered.reduce((sum, p) => sum + p.length, 0));
        let offset = 0;
        for (const p of ordered) (whole.set(p, offset), (offset += p.length));
        if (sha256(whole) !== oid) return reply(res, 400, { error: "BadDigest" });
        lfs.set(oid!, whole);
        parts.delete(oid!);
        return reply(res, 200, {});
      }
    }

    const cdn = /^\/__cdn\/([0-9a-f]{64})$/.exec(path);
    if (cdn && req.method === "GET") {
      if (!presigned(req, res, cdn[1]!, url)) return;
      return sendRange(req, res, lfs.get(cdn[1]!)!);
    }

    const resolve = new RegExp(`^/datasets/${HF_TEST_REPO}/resolve/([^/]+)/(.+)$`).exec(path);
    if (resolve && req.method === "GET") {
      if (!authorise(req, res, "read")) return;
      const file = files.get(resolve[2]!);
      if (!file) return reply(res, 404, { error: "Entry not found" }, { "X-Error-Code": "EntryNotFound" });
      if ("content" in file) return sendRange(req, res, file.content);
      if (!signatures.has(file.lfs.oid)) signatures.set(file.lfs.oid, sha256(file.lfs.oid).slice(0, 24));
      return void res.writeHead(302, { Location: `${base}/__cdn/${file.lfs.oid}?sig=${signatures.get(file.lfs.oid)}` }).end();
    }

    if (req.method !== "GET" && req.method !== "HEAD") for await (const _ of req) void _;
    reply(res, 404, { error: "Repository not found" });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "Content-Type": "text/plain" });
      res.end(`hf hub test server bug: ${String(error)}\n`);
    });
  });
  const listening = await listenLocal(server, "hf-hub-server");
  base = listening.base;
  return listening;
}

/** Git's blob id: sha1 of `blob <length>\0<content>`. */
function gitBlobOid(content: Uint8Array): string {
  const head = new TextEncoder().encode(`blob ${content.length}\0`);
  const all = new Uint8Array(head.length + content.length);
  all.set(head, 0);
  all.set(content, head.length);
  return createHash("sha1").update(all).digest("hex");
}
