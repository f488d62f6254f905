import { BackendError, type DagToStore, type Json, type StoreContext } from "../replication-backend";
import { partBody } from "../part-body";
import { PartReader } from "../part-reader";
import { s3ErrorCode, type S3Client } from "./s3-client";

/**
 * What a multipart upload saves through `ctx.checkpoint` after each part:
 * the upload id, the part size it was started with, and the ETag of every
 * finished part in order (part n is `etags[n - 1]`). A resumed `store`
 * continues at byte `etags.length * partSize` of the CAR (`dag.car(fromByte)`).
 */
export interface MultipartProgress {
  uploadId: string;
  key: string;
  partSize: number;
  etags: string[];
}

export function readProgress(progress: Json | undefined, key: string): MultipartProgress | undefined {
  if (progress === null || typeof progress !== "object" || Array.isArray(progress)) return undefined;
  const { uploadId, partSize, etags } = progress;
  if (progress.key !== key || typeof uploadId !== "string" || typeof partSize !== "number" || !Array.isArray(etags)) return undefined;
  if (!etags.every((etag): etag is string => typeof etag === "string")) return undefined;
  return { uploadId, key, partSize, etags };
}

function toJson(progress: MultipartProgress): Json {
  return { uploadId: progress.uploadId, key: progress.key, partSize: progress.partSize, etags: [...progress.etags] };
}

/** Result of one `uploadMultipart` call: the object is complete, or the deadline came first (progress saved). */
export type MultipartResult = { done: true; parts: number } | { done: false; parts: number };

/**
 * Multipart upload of the CAR (https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html):
 * CreateMultipartUpload (metadata headers go here), UploadPart for each
 * `partSize` slice (the last may be shorter; S3 wants every other part
 * >= 5 MiB) streamed with its exact length, CompleteMultipartUpload with
 * the ETags. Memory: about 1 MiB, whatever the part size.
 *
 * Resumable: progress is checkpointed after every part; an upload S3 no
 * longer knows (`NoSuchUpload`, e.g. aborted by a lifecycle rule) clears the
 * progress and fails `retryable`, so the next attempt starts afresh. A
 * `permanent` failure aborts the upload so no parts are left billed.
 */
export async function uploadMultipart(
  s3: S3Client,
  key: string,
  headers: Record<string, string>,
  dag: DagToStore,
  ctx: StoreContext,
  partSize: number,
): Promise<MultipartResult> {
  let progress = readProgress(ctx.progress, key);
  if (progress === undefined) {
    const created = await s3.send({ method: "POST", key, query: { uploads: "" }, headers, signal: ctx.signal });
    if (!created.ok) throw await s3.error("S3 CreateMultipartUpload", created);
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(await created.text())?.[1];
    if (uploadId === undefined) throw new BackendError("retryable", "S3 CreateMultipartUpload: no UploadId in the answer");
    progress = { uploadId, key, partSize, etags: [] };
    await ctx.checkpoint(toJson(progress));
  }
  const size = progress.partSize;
  const totalParts = Math.max(1, Math.ceil(dag.carSize / size));

  try {
    if (progress.etags.length < totalParts) {
      const reader = new PartReader(dag.car(progress.etags.length * size));
      try {
        for (let n = progress.etags.length + 1; n <= totalParts; n++) {
          if (Date.now() >= ctx.deadline) return { done: false, parts: progress.etags.length };
          const expected = Math.min(size, dag.carSize - (n - 1) * size);
          const query = { partNumber: String(n), uploadId: progress.uploadId };
          // Streamed from the CAR in 1 MiB pieces with its exact length (UNSIGNED-PAYLOAD needs no hash of it first).
          const uploaded = await s3.send({ method: "PUT", key, query, body: partBody(reader, expected), signal: ctx.signal });
          if (!uploaded.ok) throw await partError(s3, ctx, "S3 UploadPart", uploaded);
          await uploaded.body?.cancel();
          const etag = uploaded.headers.get("ETag");
          if (etag === null) throw new BackendError("retryable", `S3 UploadPart ${n}: no ETag in the answer`);
          progress.etags.push(etag);
          await ctx.checkpoint(toJson(progress));
        }
      } finally {
        await reader.cancel();
      }
    }

    const xml =
      "<CompleteMultipartUpload>" +
      progress.etags.map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${escapeXml(etag)}</ETag></Part>`).join("") +
      "</CompleteMultipartUpload>";
    const completed = await s3.send({
      method: "POST",
      key,
      query: { uploadId: progress.uploadId },
      headers: { "Content-Type": "application/xml" },
      body: xml,
      signal: ctx.signal,
    });
    if (!completed.ok) throw await partError(s3, ctx, "S3 CompleteMultipartUpload", completed);
    // S3 may answer 200 and still fail the completion: the error is in the body.
    const answer = await completed.text();
    if (!answer.includes("<CompleteMultipartUploadResult")) {
      throw new BackendError("retryable", `S3 CompleteMultipartUpload: ${s3ErrorCode(answer) || "no result in the answer"}`);
    }
    return { done: true, parts: totalParts };
  } catch (err) {
    if (err instanceof BackendError && err.kind === "permanent") await abort(s3, key, progress.uploadId, ctx);
    throw err;
  }
}

async function partError(s3: S3Client, ctx: StoreContext, what: string, response: Response): Promise<BackendError> {
  const error = await s3.error(what, response);
  if (error.message.endsWith("NoSuchUpload")) {
    await ctx.checkpoint(null);
    return new BackendError("retryable", `${what}: the upload is gone (NoSuchUpload); the next attempt starts a new one`);
  }
  return error;
}

/** AbortMultipartUpload, best effort: a leftover upload is also reaped by a bucket lifecycle rule (docs/backends.md). */
async function abort(s3: S3Client, key: string, uploadId: string, ctx: StoreContext): Promise<void> {
  try {
    const aborted = await s3.send({ method: "DELETE", key, query: { uploadId } });
    await aborted.body?.cancel();
    await ctx.checkpoint(null);
  } catch {
    // The original failure is what the engine must see.
  }
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
