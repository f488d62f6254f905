import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { BackendError, type ReplicationBackend } from "../../src/backends/replication-backend";
import { create } from "../../src/backends/s3/s3-backend";
import { S3Client } from "../../src/backends/s3/s3-client";
import { S3_TEST_ACCESS_KEY_ID, S3_TEST_BUCKET, S3_TEST_SECRET_ACCESS_KEY } from "../servers/s3-server";
import { streamSha256, hex, syntheticDagToStore, unixfsDagToStore } from "./dag-fixture";
import { armFault, rejectionOf, requestsTo, storeContext } from "./server-control";

const base = inject("s3Base");
const MiB = 1024 * 1024;
const secrets = { ACCESS_KEY_ID: S3_TEST_ACCESS_KEY_ID, SECRET_ACCESS_KEY: S3_TEST_SECRET_ACCESS_KEY };

async function s3Backend(prefix: string, extra: Record<string, number> = {}, secret: Record<string, string> = secrets): Promise<ReplicationBackend> {
  return create({
    name: "archive-s3",
    settings: { type: "s3", endpoint: base, bucket: S3_TEST_BUCKET, region: "us-east-1", prefix, ...extra },
    secret: (field) => secret[field],
    env,
  });
}

async function storedObject(key: string): Promise<Uint8Array> {
  const res = await fetch(`${base}/__storage/${S3_TEST_BUCKET}/${key}`);
  expect(res.status).toBe(200);
  return new Uint8Array(await res.arrayBuffer());
}

async function storedMetadata(key: string): Promise<Record<string, string>> {
  return (await (await fetch(`${base}/__metadata/${S3_TEST_BUCKET}/${key}`)).json()) as Record<string, string>;
}

const path = (key: string) => `/${S3_TEST_BUCKET}/${key}`;

describe("S3 backend against s3rver (SigV4 checked)", () => {
  it("stores a small DAG as one CAR object with its root and block count in metadata, streamed with a known length", async () => {
    const dag = await unixfsDagToStore(50_000, 1);
    const s3 = await s3Backend("small/");
    const { ctx, saved } = storeContext();
    const outcome = await s3.store(dag, ctx);
    const key = `small/${dag.root}.car`;
    expect(outcome).toEqual({
      state: "stored",
      replica: { backend: "archive-s3", remoteId: key, details: { bucket: S3_TEST_BUCKET, key, bytes: dag.carSize, parts: 1 } },
      bytes: dag.carSize,
    });
    expect(saved).toEqual([]);
    expect(await storedObject(key)).toEqual(dag.carBytes);
    const meta = await storedMetadata(key);
    expect(meta["x-amz-meta-root-cid"]).toBe(dag.root.toString());
    expect(meta["x-amz-meta-blocks"]).toBe(String(dag.blocks));
    expect(meta["x-amz-meta-dag-size"]).toBe(String(dag.dagSize));
    expect(meta["content-type"]).toBe("application/vnd.ipld.car; version=1");

    const log = await requestsTo(base, path(key));
    expect(log.map((r) => [r.method, r.query, r.status])).toEqual([
      ["HEAD", "", 404],
      ["PUT", "", 200],
    ]);
    const put = log[1]!;
    expect(put.headers["content-length"]).toBe(String(dag.carSize));
    expect(put.headers["transfer-encoding"]).toBeUndefined();
    expect(put.headers["x-amz-content-sha256"]).toBe("UNSIGNED-PAYLOAD");
    expect(put.headers["authorization"]).toMatch(new RegExp(`^AWS4-HMAC-SHA256 Credential=${S3_TEST_ACCESS_KEY_ID}/\\d{8}/us-east-1/s3/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$`));
    expect(JSON.stringify(log)).not.toContain(S3_TEST_SECRET_ACCESS_KEY);

    // Idempotent: storing again finds the complete copy and sends nothing.
    expect((await s3.store(dag, storeContext().ctx)).state).toBe("stored");
    expect((await requestsTo(base, path(key))).map((r) => r.method)).toEqual(["HEAD", "PUT", "HEAD"]);
  });

  it("check: HEAD + a ranged read of the CAR header; a changed or deleted copy is lost; remove is idempotent", async () => {
    const dag = await unixfsDagToStore(20_000, 2);
    const other = await unixfsDagToStore(20_000, 3);
    const s3 = await s3Backend("check/");
    const outcome = await s3.store(dag, storeContext().ctx);
    const replica = outcome.replica;
    const check = await s3.check(replica, dag);
    expect(check.state).toBe("stored");
    const log = await requestsTo(base, path(replica.remoteId));
    expect(log.slice(-2).map((r) => [r.method, r.headers["range"] ?? null, r.status])).toEqual([
      ["HEAD", null, 200],
      ["GET", "bytes=0-1023", 206],
    ]);

    // Same size and metadata, but the header names another root: only the ranged read can tell.
    const client = new S3Client({ endpoint: base, bucket: S3_TEST_BUCKET, region: "us-east-1" }, () => ({
      accessKeyId: S3_TEST_ACCESS_KEY_ID,
      secretAccessKey: S3_TEST_SECRET_ACCESS_KEY,
    }));
    const forged = new Uint8Array(dag.carSize);
    forged.set(other.carBytes.subarray(0, Math.min(other.carSize, dag.carSize)));
    const put = await client.send({ method: "PUT", key: replica.remoteId, body: forged, headers: { "x-amz-meta-root-cid": dag.root.toString() } });
    expect(put.status).toBe(200);
    expect(await s3.check(replica, dag)).toEqual({ state: "lost", message: "the CAR header of the copy names another root" });

    // A truncated copy: the HEAD says so.
    await client.send({ method: "PUT", key: replica.remoteId, body: dag.carBytes.subarray(0, 100), headers: { "x-amz-meta-root-cid": dag.root.toString() } });
    expect(await s3.check(replica, dag)).toEqual({ state: "lost", message: `the object has 100 bytes, the CAR ${dag.carSize}` });

    await s3.remove(replica);
    expect((await fetch(`${base}/__storage/${S3_TEST_BUCKET}/${replica.remoteId}`)).status).toBe(404);
    expect(await s3.check(replica, dag)).toEqual({ state: "lost", message: `object ${replica.remoteId} is gone` });
    await s3.remove(replica); // already absent: resolves
    expect((await requestsTo(base, path(replica.remoteId))).filter((r) => r.method === "DELETE").map((r) => r.status)).toEqual([204, 204]);
  });

  it("a multipart upload interrupted after a part resumes from the next part with car(fromByte), and completes", async () => {
    // 4 leaves of 3 MiB: a ~12 MiB CAR in parts of 5 MiB → 3 parts.
    const dag = await syntheticDagToStore(4, 3 * MiB, 10);
    const s3 = await s3Backend("resume/", { multipartThresholdBytes: 5 * MiB, partSizeBytes: 5 * MiB });
    const key = `resume/${dag.root}.car`;
    await armFault(base, { method: "PUT", pathPrefix: path(key), queryIncludes: "partNumber=2&", status: 500, body: "<Error><Code>InternalError</Code></Error>" });

    const first = storeContext();
    const failure = await rejectionOf(s3.store(dag, first.ctx));
    expect(failure).toBeInstanceOf(BackendError);
    expect(failure.kind).toBe("retryable");
    expect(failure.message).toBe("S3 UploadPart: HTTP 500: InternalError");
    const progress = first.saved.at(-1) as { uploadId: string; etags: string[]; partSize: number; key: string };
    expect(progress.etags).toHaveLength(1);
    expect(progress.partSize).toBe(5 * MiB);
    expect(await (await fetch(`${base}/__uploads/${S3_TEST_BUCKET}`)).json()).toContain(progress.uploadId);

    // The engine calls store again with the saved progress (after an eviction, the same).
    const second = storeContext(progress);
    const outcome = await s3.store(dag, second.ctx);
    expect(outcome.state).toBe("stored");
    expect(outcome.replica.details["parts"]).toBe(3);
    expect(dag.carCalls).toEqual([0, 5 * MiB]);
    expect(second.saved.map((p) => (p as { etags: string[] }).etags.length)).toEqual([2, 3]);

    const uploads = (await requestsTo(base, path(key))).filter((r) => r.method === "PUT");
    expect(uploads.map((r) => [new URLSearchParams(r.query).get("partNumber"), r.headers["content-length"], r.status])).toEqual([
      ["1", String(5 * MiB), 200],
      ["2", String(5 * MiB), 500],
      ["2", String(5 * MiB), 200],
      ["3", String(dag.carSize - 10 * MiB), 200],
    ]);
    expect(uploads.every((r) => new URLSearchParams(r.query).get("uploadId") === progress.uploadId)).toBe(true);
    const stored = await storedObject(key);
    expect(stored.length).toBe(dag.carSize);
    expect(hex(new Uint8Array(await crypto.subtle.digest("SHA-256", stored)))).toBe((await streamSha256(dag.car())).hex);
    expect(await (await fetch(`${base}/__uploads/${S3_TEST_BUCKET}`)).json()).not.toContain(progress.uploadId);
    expect((await s3.check(outcome.replica, dag)).state).toBe("stored");
  });

  it("a deadline reached mid-upload returns pending with the progress checkpointed; the next call finishes", async () => {
    const dag = await syntheticDagToStore(3, 2 * MiB, 11);
    const s3 = await s3Backend("deadline/", { multipartThresholdBytes: 5 * MiB, partSizeBytes: 5 * MiB });
    const first = storeContext(undefined, 2); // the upload id, then part 1; then the deadline passes
    const pending = await s3.store(dag, first.ctx);
    expect(pending).toMatchObject({ state: "pending", next: "store", retryAfterMs: 0 });
    expect((first.saved.at(-1) as { etags: string[] }).etags).toHaveLength(1);
    const done = await s3.store(dag, storeContext(first.saved.at(-1)).ctx);
    expect(done.state).toBe("stored");
    expect(dag.carCalls).toEqual([0, 5 * MiB]);
  });

  it("an upload S3 forgot (NoSuchUpload) is restarted on the next attempt; a permanent failure aborts the upload", async () => {
    const dag = await syntheticDagToStore(2, 3 * MiB, 13);
    const s3 = await s3Backend("restart/", { multipartThresholdBytes: 5 * MiB, partSizeBytes: 5 * MiB });
    const key = `restart/${dag.root}.car`;
    await armFault(base, { method: "PUT", pathPrefix: path(key), queryIncludes: "partNumber=2&", status: 404, body: "<Error><Code>NoSuchUpload</Code></Error>" });
    const first = storeContext();
    const gone = await rejectionOf(s3.store(dag, first.ctx));
    expect([gone.kind, gone.message]).toEqual(["retryable", "S3 UploadPart: the upload is gone (NoSuchUpload); the next attempt starts a new one"]);
    expect(first.saved.at(-1)).toBeNull();
    const firstId = (first.saved[0] as { uploadId: string }).uploadId;

    // The next attempt (progress cleared) starts a new upload; its completion is refused for good: the upload is aborted.
    await armFault(base, { method: "POST", pathPrefix: path(key), queryIncludes: "uploadId=", status: 400, body: "<Error><Code>EntityTooSmall</Code></Error>" });
    const second = storeContext(first.saved.at(-1));
    const refused = await rejectionOf(s3.store(dag, second.ctx));
    expect([refused.kind, refused.message]).toEqual(["permanent", "S3 CompleteMultipartUpload: HTTP 400: EntityTooSmall"]);
    const secondId = (second.saved[0] as { uploadId: string }).uploadId;
    expect(secondId).not.toBe(firstId);
    expect(second.saved.at(-1)).toBeNull();
    const log = await requestsTo(base, path(key));
    expect(log.filter((r) => r.method === "DELETE").map((r) => [r.query, r.status])).toEqual([[`?uploadId=${secondId}`, 204]]);
    expect(await (await fetch(`${base}/__uploads/${S3_TEST_BUCKET}`)).json()).not.toContain(secondId);

    // And a third attempt stores it.
    expect((await s3.store(dag, storeContext(null).ctx)).state).toBe("stored");
    expect(hex(new Uint8Array(await crypto.subtle.digest("SHA-256", await storedObject(key))))).toBe((await streamSha256(dag.car())).hex);
  });

  it("a ~24 MiB DAG goes up in 5 MiB parts, one part in memory at a time, byte for byte", async () => {
    const dag = await syntheticDagToStore(24, MiB, 12);
    const s3 = await s3Backend("large/", { multipartThresholdBytes: 5 * MiB, partSizeBytes: 5 * MiB });
    const { ctx, saved } = storeContext();
    const outcome = await s3.store(dag, ctx);
    expect(outcome).toMatchObject({ state: "stored", bytes: dag.carSize });
    const parts = Math.ceil(dag.carSize / (5 * MiB));
    expect(parts).toBe(5);
    expect(saved).toHaveLength(1 + parts);
    const key = `large/${dag.root}.car`;
    const log = await requestsTo(base, path(key));
    const partPuts = log.filter((r) => r.method === "PUT");
    expect(partPuts.map((r) => Number(r.headers["content-length"]))).toEqual([5 * MiB, 5 * MiB, 5 * MiB, 5 * MiB, dag.carSize - 20 * MiB]);
    expect(log.filter((r) => r.method === "POST").map((r) => r.query.replace(/=[0-9a-f]+$/, "="))).toEqual(["?uploads=", "?uploadId="]);
    const stored = await storedObject(key);
    expect(hex(new Uint8Array(await crypto.subtle.digest("SHA-256", stored)))).toBe((await streamSha256(dag.car())).hex);
    expect((await storedMetadata(key))["x-amz-meta-blocks"]).toBe("25");
  });

  it("a wrong secret is refused by the signature check: unauthorized, and the secret appears nowhere", async () => {
    const dag = await unixfsDagToStore(5_000, 4);
    const s3 = await s3Backend("wrong/", {}, { ...secrets, SECRET_ACCESS_KEY: "not-the-secret-4242" });
    const error = await rejectionOf(s3.store(dag, storeContext().ctx));
    expect(error).toBeInstanceOf(BackendError);
    expect(error.kind).toBe("unauthorized");
    expect(error.message).toBe("S3 HEAD: HTTP 403");
    const report = await s3.test();
    expect(report).toMatchObject({ reachable: true, authorised: false, roundTrip: false, message: "S3 PUT: HTTP 403: SignatureDoesNotMatch" });
    expect(JSON.stringify(await requestsTo(base, "/replicas/wrong/"))).not.toContain("not-the-secret-4242");

    const missing = await s3Backend("wrong/", {}, {});
    const unset = await rejectionOf(missing.store(dag, storeContext().ctx));
    expect([unset.kind, unset.message]).toEqual(["unauthorized", "backend archive-s3: secret BACKEND_ARCHIVE_S3_ACCESS_KEY_ID is not set"]);
  });

  it("429 with Retry-After → rate_limited with its delay; 503 and 500 → retryable; a 400 → permanent", async () => {
    const dag = await unixfsDagToStore(5_000, 5);
    const s3 = await s3Backend("errors/");
    const key = path(`errors/${dag.root}.car`);
    const cases: [number, Record<string, string>, string, number | undefined][] = [
      [429, { "Retry-After": "7" }, "rate_limited", 7000],
      [503, { "Retry-After": "2" }, "rate_limited", 2000],
      [503, {}, "retryable", undefined],
      [500, {}, "retryable", undefined],
      [400, {}, "permanent", undefined],
    ];
    for (const [status, headers, kind, retryAfterMs] of cases) {
      await armFault(base, { method: "HEAD", pathPrefix: key, status, headers });
      const error = await rejectionOf(s3.store(dag, storeContext().ctx));
      expect([error.kind, error.retryAfterMs]).toEqual([kind, retryAfterMs]);
    }
    // Nothing was written by any of these attempts.
    expect((await requestsTo(base, key)).filter((r) => r.method !== "HEAD")).toEqual([]);
  });

  it("a refused PUT fails at once (retryable on 503); a CAR stream that ends short never makes a complete copy", async () => {
    const dag = await unixfsDagToStore(30_000, 6);
    const s3 = await s3Backend("short/");
    const key = `short/${dag.root}.car`;
    await armFault(base, { method: "PUT", pathPrefix: path(key), status: 503, body: "<Error><Code>SlowDown</Code></Error>" });
    const refused = await rejectionOf(s3.store(dag, storeContext().ctx));
    expect([refused.kind, refused.message]).toEqual(["retryable", "S3 PUT: HTTP 503: SlowDown"]);

    const short = { ...dag, car: () => new Blob([dag.carBytes.subarray(0, dag.carSize - 10)]).stream() };
    const error = await rejectionOf(s3.store(short, storeContext().ctx));
    expect(error.kind).toBe("retryable");
    // Real S3 drops a body shorter than its Content-Length; s3rver may keep the truncated bytes. Either way no complete copy:
    const replica = { backend: "archive-s3", remoteId: key, details: {} };
    expect((await s3.check(replica, dag)).state).toBe("lost");
    expect((await s3.store(dag, storeContext().ctx)).state).toBe("stored");
    expect(await storedObject(key)).toEqual(dag.carBytes);
  });

  it("test(): puts, reads back and deletes a tiny object", async () => {
    const s3 = await s3Backend("probe/");
    const report = await s3.test();
    expect(report).toMatchObject({ reachable: true, authorised: true, roundTrip: true });
    const log = await requestsTo(base, "/replicas/probe/.ipfs-kit-edge-test-");
    expect(log.map((r) => [r.method, r.status])).toEqual([
      ["PUT", 200],
      ["GET", 200],
      ["DELETE", 204],
    ]);
    expect((await fetch(`${base}/__storage/${S3_TEST_BUCKET}/${log[0]!.path.slice("/replicas/".length)}`)).status).toBe(404);
  });
});
