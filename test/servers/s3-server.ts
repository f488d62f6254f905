/**
 * A local S3-compatible service playing another R2 account, Filebase or
 * AWS S3 in tests: `@20minutes/s3rver` (which checks SigV4 signatures: a
 * wrong secret gets 403 `SignatureDoesNotMatch`), its data in a temp dir,
 * behind a Node `http` front on 127.0.0.1 that logs and can inject faults
 * (backend-server-kit.ts) and lets tests read what was really stored:
 *
 * - everything else: the S3 API, path style, bucket `S3_TEST_BUCKET`,
 *   credentials `S3_TEST_ACCESS_KEY_ID` / `S3_TEST_SECRET_ACCESS_KEY`;
 * - `GET {base}/__storage/{bucket}/{key}`: the object's bytes as s3rver wrote them to disk;
 * - `GET {base}/__metadata/{bucket}/{key}`: its stored metadata (JSON);
 * - `GET {base}/__uploads/{bucket}`: JSON list of multipart upload ids still open;
 * - AbortMultipartUpload (`DELETE ?uploadId=`), which s3rver 5 lacks, is done by the front.
 */
import S3rver from "@20minutes/s3rver";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ServerKit, reply } from "./backend-server-kit";
import { listenLocal } from "./listen-local";

export const S3_TEST_BUCKET = "replicas";
export const S3_TEST_ACCESS_KEY_ID = "EDGETESTKEY";
export const S3_TEST_SECRET_ACCESS_KEY = "edge-test-secret-0123456789";

export interface S3TestServer {
  base: string;
  close(): Promise<void>;
}

export async function startS3Server(): Promise<S3TestServer> {
  const directory = await mkdtemp(join(tmpdir(), "s3rver-"));
  const s3rver = new S3rver({ directory, silent: true, configureBuckets: [{ name: S3_TEST_BUCKET }] });
  await s3rver.configureBuckets();
  // s3rver's account registry: one more key pair beside its default S3RVER/S3RVER.
  const { DUMMY_ACCOUNT } = createRequire(import.meta.url)("@20minutes/s3rver/lib/models/account.js");
  DUMMY_ACCOUNT.createKeyPair(S3_TEST_ACCESS_KEY_ID, S3_TEST_SECRET_ACCESS_KEY);
  const s3 = s3rver.callback();
  const kit = new ServerKit();

  const server: Server = createServer((req, res) => {
    (async () => {
      const url = new URL(req.url ?? "/", "http://localhost");
      const stored = /^\/__(storage|metadata)\/([^/]+)\/(.+)$/.exec(url.pathname);
      if (stored) {
        const [, what, bucket, key] = stored;
        const path = s3rver.store.getResourcePath(bucket!, decodeURIComponent(key!), what === "storage" ? "object" : "metadata.json");
        const bytes = await readFile(path).catch(() => undefined);
        if (bytes === undefined) return reply(res, 404, { error: "no such object on disk" });
        res.writeHead(200, { "Content-Type": what === "storage" ? "application/octet-stream" : "application/json" }).end(bytes);
        return;
      }
      const uploads = /^\/__uploads\/([^/]+)$/.exec(url.pathname);
      if (uploads) {
        const dir = s3rver.store.getResourcePath(uploads[1]!, "", "uploads");
        const entries = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
        return reply(res, 200, entries.filter((e) => !e.includes("/")));
      }
      const intercepted = await kit.intercept(req, res);
      if (intercepted.handled) return;
      res.on("finish", () => (intercepted.entry.status = res.statusCode));
      const abort = /^\/([^/]+)\/.+$/.exec(url.pathname);
      if (req.method === "DELETE" && abort && url.searchParams.has("uploadId")) {
        // s3rver 5 has no AbortMultipartUpload (it answers 405): done here as S3 does it
        // (204; NoSuchUpload 404), for a request signed with our key id (the signature itself is not re-checked).
        if (!String(req.headers["authorization"] ?? "").includes(`Credential=${S3_TEST_ACCESS_KEY_ID}/`)) return reply(res, 403, { error: "AccessDenied" });
        const dir = join(s3rver.store.getResourcePath(abort[1]!, "", "uploads"), url.searchParams.get("uploadId")!);
        const known = (await readdir(dir, { recursive: true }).catch(() => undefined)) !== undefined;
        await rm(dir, { recursive: true, force: true });
        return void res.writeHead(known ? 204 : 404, { "Content-Type": "application/xml" }).end(known ? "" : "<Error><Code>NoSuchUpload</Code></Error>");
      }
      s3(req, res);
    })().catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "Content-Type": "text/plain" });
      res.end(`s3 test server bug: ${String(error)}\n`);
    });
  });
  const { base, close } = await listenLocal(server, "s3-server");
  return {
    base,
    close: async () => {
      await close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
