import { CAR_HEADER_PROBE_BYTES, carHeaderMismatch } from "../car-header-check";
import { BackendSettings } from "../backend-settings";
import {
  BackendError,
  type BackendFactory,
  type BackendTestReport,
  type DagIdentity,
  type DagToStore,
  type ReplicaCheck,
  type ReplicaRef,
  type ReplicationBackend,
  type StoreContext,
  type StoreOutcome,
} from "../replication-backend";
import { streamPrefix } from "../stream-prefix";
import { S3Client } from "./s3-client";
import { uploadMultipart } from "./s3-multipart";

/** S3's smallest part but the last (https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html). */
const MIN_PART = 5 * 1024 * 1024;
/** S3's largest part (parts are streamed, so memory does not depend on it; a failed part is re-sent whole). */
const MAX_PART = 5 * 1024 ** 3;
/** S3's limit on one PUT (5 GiB). */
const MAX_SINGLE_PUT = 5 * 1024 ** 3;
/** S3's limit on parts per upload. */
const MAX_PARTS = 10_000;

/** Object metadata (`x-amz-meta-*`) naming the DAG the CAR holds. */
const META_ROOT = "x-amz-meta-root-cid";
const META_BLOCKS = "x-amz-meta-blocks";
const META_DAG_SIZE = "x-amz-meta-dag-size";

/**
 * S3-compatible object storage (another R2 account, Filebase, AWS...): one
 * CARv1 object per pin at `{prefix}{root CIDv1}.car`, the root CID, block
 * count and DAG size in its metadata. Small CARs are one streamed PUT;
 * above `multipartThresholdBytes` a multipart upload resumable across
 * attempts (s3-multipart.ts). `check` is a HEAD (size, metadata) plus a
 * ranged GET of the CAR header; `remove` a DELETE. Settings and secrets:
 * docs/backends.md.
 */
export class S3Backend implements ReplicationBackend {
  readonly type = "s3" as const;
  readonly name: string;
  readonly #s3: S3Client;
  readonly #prefix: string;
  readonly #threshold: number;
  readonly #partSize: number;
  readonly #publicUrl: string | undefined;

  constructor(
    name: string,
    s3: S3Client,
    options: { prefix: string; multipartThresholdBytes: number; partSizeBytes: number; publicUrl?: string },
  ) {
    this.name = name;
    this.#s3 = s3;
    this.#prefix = options.prefix;
    this.#threshold = options.multipartThresholdBytes;
    this.#partSize = options.partSizeBytes;
    this.#publicUrl = options.publicUrl;
  }

  /** The object key of a DAG: `{prefix}{root as CIDv1 base32}.car`. */
  keyOf(dag: DagIdentity): string {
    return `${this.#prefix}${dag.root.toV1().toString()}.car`;
  }

  async store(dag: DagToStore, ctx: StoreContext): Promise<StoreOutcome> {
    const key = this.keyOf(dag);
    const replica = (parts: number): ReplicaRef => ({
      backend: this.name,
      remoteId: key,
      details: { bucket: this.#s3.bucket, key, bytes: dag.carSize, parts },
    });
    // Idempotent: a complete copy (an earlier attempt that finished but was not recorded) is not sent again.
    const existing = await this.#head(key, ctx.signal);
    if (existing !== undefined && copyMismatch(existing, dag) === undefined) {
      return { state: "stored", replica: replica(existing.parts), bytes: dag.carSize };
    }

    const headers = {
      "Content-Type": "application/vnd.ipld.car; version=1",
      [META_ROOT]: dag.root.toV1().toString(),
      [META_BLOCKS]: String(dag.blocks),
      [META_DAG_SIZE]: String(dag.dagSize),
    };
    if (dag.carSize < this.#threshold) {
      await this.#putWhole(key, headers, dag, ctx.signal);
      return { state: "stored", replica: replica(1), bytes: dag.carSize };
    }
    const partSize = Math.max(this.#partSize, Math.ceil(dag.carSize / MAX_PARTS));
    if (partSize > MAX_PART) throw new BackendError("permanent", `CAR of ${dag.carSize} bytes needs parts over ${MAX_PART} bytes`);
    const result = await uploadMultipart(this.#s3, key, headers, dag, ctx, partSize);
    if (!result.done) return { state: "pending", replica: replica(result.parts), retryAfterMs: 0, next: "store" };
    return { state: "stored", replica: replica(result.parts), bytes: dag.carSize };
  }

  async check(replica: ReplicaRef, dag: DagIdentity): Promise<ReplicaCheck> {
    const head = await this.#head(replica.remoteId);
    if (head === undefined) return { state: "lost", message: `object ${replica.remoteId} is gone` };
    const mismatch = copyMismatch(head, dag);
    if (mismatch !== undefined) return { state: "lost", message: mismatch };
    const length = Math.min(CAR_HEADER_PROBE_BYTES, dag.carSize);
    const ranged = await this.#s3.send({ method: "GET", key: replica.remoteId, headers: { Range: `bytes=0-${length - 1}` } });
    if (ranged.status === 404) return { state: "lost", message: `object ${replica.remoteId} is gone` };
    if (!ranged.ok) throw await this.#s3.error("S3 GET (range)", ranged);
    // A server that ignores Range sends the whole object: read only what is needed.
    const prefix = await streamPrefix(ranged.body!, length);
    const wrongHeader = carHeaderMismatch(prefix, dag.root);
    if (wrongHeader !== undefined) return { state: "lost", message: wrongHeader };
    return { state: "stored", details: { bytes: head.size, etag: head.etag } };
  }

  async remove(replica: ReplicaRef): Promise<void> {
    const deleted = await this.#s3.send({ method: "DELETE", key: replica.remoteId });
    // 404: already absent (S3 itself answers 204 for an absent key).
    if (!deleted.ok && deleted.status !== 404) throw await this.#s3.error("S3 DELETE", deleted);
    await deleted.body?.cancel();
  }

  retrievalUrls(replica: ReplicaRef): string[] {
    return this.#publicUrl === undefined ? [] : [`${this.#publicUrl}/${replica.remoteId}`];
  }

  async test(): Promise<BackendTestReport> {
    const started = Date.now();
    const key = `${this.#prefix}.ipfs-kit-edge-test-${crypto.randomUUID()}`;
    const body = `ipfs-kit-edge backend test ${new Date(started).toISOString()}`;
    let reachable = false;
    let authorised = false;
    try {
      const put = await this.#s3.send({ method: "PUT", key, body, headers: { "Content-Type": "text/plain" } });
      reachable = true;
      if (!put.ok) throw await this.#s3.error("S3 PUT", put);
      authorised = true;
      await put.body?.cancel();
      const got = await this.#s3.send({ method: "GET", key });
      if (!got.ok) throw await this.#s3.error("S3 GET", got);
      const same = (await got.text()) === body;
      await this.remove({ backend: this.name, remoteId: key, details: {} });
      if (!same) throw new BackendError("permanent", "S3 GET returned other bytes than were put");
      return { reachable, authorised, roundTrip: true, latencyMs: Date.now() - started };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (err instanceof BackendError && err.kind === "unauthorized") authorised = false;
      return { reachable, authorised, roundTrip: false, latencyMs: Date.now() - started, message };
    }
  }

  async #head(key: string, signal?: AbortSignal): Promise<ObjectHead | undefined> {
    const head = await this.#s3.send({ method: "HEAD", key, signal });
    if (head.status === 404) return undefined;
    if (!head.ok) throw await this.#s3.error("S3 HEAD", head);
    const etag = head.headers.get("ETag") ?? "";
    return {
      size: Number(head.headers.get("Content-Length")),
      root: head.headers.get(META_ROOT),
      etag,
      // A multipart ETag ends in "-<parts>".
      parts: Number(/-(\d+)"?$/.exec(etag)?.[1] ?? 1),
    };
  }

  async #putWhole(key: string, headers: Record<string, string>, dag: DagToStore, signal?: AbortSignal): Promise<void> {
    if (dag.carSize > MAX_SINGLE_PUT) throw new BackendError("permanent", "multipartThresholdBytes is above S3's 5 GiB PUT limit");
    // S3 wants a Content-Length: a FixedLengthStream gives the stream one (and errors if the CAR is not exactly carSize).
    const body = new FixedLengthStream(dag.carSize);
    // Stopped when S3 answers before reading the whole body (a refusal), so the pipe never waits on it.
    const stop = new AbortController();
    const pipeSignal = signal === undefined ? stop.signal : AbortSignal.any([signal, stop.signal]);
    const piping = dag.car().pipeTo(body.writable, { signal: pipeSignal }).then(
      () => undefined,
      (err: unknown) => err ?? new Error("aborted"),
    );
    const put = await this.#s3.send({ method: "PUT", key, headers, body: body.readable, signal });
    if (!put.ok) {
      stop.abort();
      throw await this.#s3.error("S3 PUT", put);
    }
    await put.body?.cancel();
    const pipeError = await piping;
    if (pipeError !== undefined) throw new BackendError("retryable", `reading the CAR failed: ${String(pipeError)}`);
  }
}

interface ObjectHead {
  size: number;
  root: string | null;
  etag: string;
  parts: number;
}

function copyMismatch(head: ObjectHead, dag: DagIdentity): string | undefined {
  if (head.root !== dag.root.toV1().toString()) return "the object's root-cid metadata names another DAG";
  if (head.size !== dag.carSize) return `the object has ${head.size} bytes, the CAR ${dag.carSize}`;
  return undefined;
}

/**
 * `BACKENDS` entry `{ "type": "s3", "endpoint", "bucket", "region"?, "prefix"?,
 * "multipartThresholdBytes"?, "partSizeBytes"?, "publicUrl"? }`; secrets
 * `BACKEND_<NAME>_ACCESS_KEY_ID`, `BACKEND_<NAME>_SECRET_ACCESS_KEY`.
 */
export const create: BackendFactory = ({ name, settings, secret }) => {
  const read = new BackendSettings(name, settings, secret);
  const prefix = read.string("prefix", "ipfs/");
  const partSizeBytes = read.integer("partSizeBytes", 16 * 1024 * 1024, MIN_PART, MAX_PART);
  const s3 = new S3Client(
    { endpoint: read.url("endpoint"), bucket: read.string("bucket"), region: read.string("region", "auto") },
    () => ({ accessKeyId: read.secret("ACCESS_KEY_ID"), secretAccessKey: read.secret("SECRET_ACCESS_KEY") }),
  );
  return new S3Backend(name, s3, {
    prefix,
    partSizeBytes,
    multipartThresholdBytes: read.integer("multipartThresholdBytes", 64 * 1024 * 1024, MIN_PART, MAX_SINGLE_PUT),
    publicUrl: read.optionalString("publicUrl") === undefined ? undefined : read.url("publicUrl"),
  });
};
