import { backendFetch, errorBodyText, errorForStatus } from "../backend-http";
import { BackendError, type DagToStore } from "../replication-backend";
import { partBody } from "../part-body";
import { PartReader } from "../part-reader";
import type { LfsAction, LfsBatchObject } from "./hf-hub-api";

/**
 * Sends the CAR to the storage the LFS batch answer points at, streamed:
 * `basic` is one PUT of the whole CAR; `multipart` (the Hub's adapter: the
 * upload action's header holds `chunk_size` and one pre-signed URL per part,
 * keys "00001"...) is one PUT per part then a POST of
 * `{ oid, parts: [{ partNumber, etag }] }` to the action's href; then the
 * `verify` action if there is one. The URLs are pre-signed: only the headers
 * the batch answer gave are sent (never our token). A 401/403 from storage
 * means the signature expired: `retryable` (the next attempt asks for new URLs).
 */
export async function uploadLfs(transfer: string, object: LfsBatchObject, dag: DagToStore, signal?: AbortSignal): Promise<{ parts: number }> {
  const upload = object.actions?.upload;
  if (upload === undefined) return { parts: 0 };
  let parts = 1;
  if (transfer === "multipart" && upload.header?.["chunk_size"] !== undefined) {
    parts = await uploadMultipart(upload, object, dag, signal);
  } else if (transfer === "basic" || transfer === "multipart") {
    const headers = actionHeaders(upload);
    const reader = new PartReader(dag.car());
    try {
      await expectStored("Hub LFS upload", await backendFetch("Hub LFS upload", upload.href, { method: "PUT", headers, body: partBody(reader, dag.carSize), signal }));
    } finally {
      await reader.cancel();
    }
  } else {
    throw new BackendError("permanent", `Hub LFS batch: transfer "${transfer}" is not supported`);
  }
  const verify = object.actions?.verify;
  if (verify !== undefined) {
    const response = await backendFetch("Hub LFS verify", verify.href, {
      method: "POST",
      headers: { ...actionHeaders(verify), Accept: "application/vnd.git-lfs+json", "Content-Type": "application/vnd.git-lfs+json" },
      body: JSON.stringify({ oid: object.oid, size: object.size }),
      signal,
    });
    if (!response.ok) throw errorForStatus("Hub LFS verify", response, await errorBodyText(response));
    await response.body?.cancel();
  }
  return { parts };
}

async function uploadMultipart(upload: LfsAction, object: LfsBatchObject, dag: DagToStore, signal?: AbortSignal): Promise<number> {
  const header = upload.header ?? {};
  const chunkSize = Number(header["chunk_size"]);
  const partKeys = Object.keys(header)
    .filter((key) => /^[0-9]+$/.test(key))
    .sort((a, b) => Number(a) - Number(b));
  if (!(chunkSize > 0) || partKeys.length !== Math.ceil(dag.carSize / chunkSize)) {
    throw new BackendError("retryable", "Hub LFS batch: the multipart answer does not match the file size");
  }
  const reader = new PartReader(dag.car());
  const done: { partNumber: number; etag: string }[] = [];
  try {
    for (const [i, key] of partKeys.entries()) {
      const length = Math.min(chunkSize, dag.carSize - i * chunkSize);
      const body = partBody(reader, length);
      const response = await backendFetch("Hub LFS part upload", header[key]!, { method: "PUT", body, signal });
      await expectStored(`Hub LFS part ${Number(key)} upload`, response);
      const etag = response.headers.get("ETag");
      if (etag === null) throw new BackendError("retryable", `Hub LFS part ${Number(key)}: no ETag in the answer`);
      done.push({ partNumber: Number(key), etag });
    }
  } finally {
    await reader.cancel();
  }
  const completed = await backendFetch("Hub LFS multipart completion", upload.href, {
    method: "POST",
    headers: { Accept: "application/vnd.git-lfs+json", "Content-Type": "application/vnd.git-lfs+json" },
    body: JSON.stringify({ oid: object.oid, parts: done }),
    signal,
  });
  await expectStored("Hub LFS multipart completion", completed);
  return partKeys.length;
}

/** The action's headers, minus the multipart adapter's bookkeeping (`chunk_size`, numbered part URLs). */
function actionHeaders(action: LfsAction): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(action.header ?? {})) if (name !== "chunk_size" && !/^[0-9]+$/.test(name)) headers[name] = value;
  return headers;
}

async function expectStored(what: string, response: Response): Promise<void> {
  if (response.ok) {
    await response.body?.cancel();
    return;
  }
  const detail = await errorBodyText(response);
  if (response.status === 401 || response.status === 403) {
    throw new BackendError("retryable", `${what}: HTTP ${response.status} from storage (pre-signed URL expired?): ${detail}`);
  }
  throw errorForStatus(what, response, detail);
}
