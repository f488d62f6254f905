/**
 * Streams one piece to a PDP provider with Curio's upload protocol, the
 * same three requests as `@filoz/synapse-core/sp` `uploadPieceStreaming`
 * (0.5): `POST {serviceURL}/pdp/piece/uploads` → 201 with
 * `Location: /pdp/piece/uploads/{uuid}`; `PUT` of the bytes there → 204;
 * `POST` there `{ "pieceCid": … }` → 200 (the provider checks the bytes
 * it received hash to that piece CID).
 *
 * Why not the SDK's function: it streams the body only where
 * `supportsStreamingFetchBody()` (a `Request` reading `duplex`) holds;
 * workerd's `Request` does not read it, so the SDK collects the whole piece
 * in a `Blob` first (up to 1 GiB, the Worker has 128 MB;
 * test/filecoin/store-end-to-end.test.ts asserts the probe is false in
 * workerd). Here the body is the piece's stream through a
 * `FixedLengthStream` of its planned size: workerd sends it with a
 * Content-Length, chunk by chunk, never holding more than its buffers.
 *
 * Errors: `PieceUploadError` with the step and the provider's answer
 * (status and the first line of its text); a network failure (a provider
 * dying mid-upload) propagates as the fetch error. All are retryable: the
 * next attempt opens a new upload session.
 */
export class PieceUploadError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
    this.name = "PieceUploadError";
  }
}

export async function uploadPiece(options: {
  serviceURL: string;
  body: ReadableStream<Uint8Array>;
  size: number;
  pieceCid: string;
  signal?: AbortSignal;
}): Promise<void> {
  const { serviceURL, signal } = options;
  const created = await fetch(new URL("pdp/piece/uploads", serviceURL), { method: "POST", ...(signal ? { signal } : {}) });
  await expectStatus(created, 201, "create an upload session");
  const location = created.headers.get("location") ?? "";
  const uuid = /\/pdp\/piece\/uploads\/([a-fA-F0-9-]+)$/.exec(location)?.[1];
  if (!uuid) throw new PieceUploadError(`the provider's upload session has no usable Location (${location.slice(0, 100) || "none"})`, created.status);
  const sessionUrl = new URL(`pdp/piece/uploads/${uuid}`, serviceURL);

  const fixed = new FixedLengthStream(options.size);
  const piped = options.body.pipeTo(fixed.writable).catch((err: unknown) => err);
  const put = await fetch(sessionUrl, {
    method: "PUT",
    headers: { "content-type": "application/octet-stream" },
    body: fixed.readable,
    ...(signal ? { signal } : {}),
  });
  const pipeError = await piped;
  await expectStatus(put, 204, "upload the piece");
  if (pipeError) throw pipeError;

  const finalized = await fetch(sessionUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ pieceCid: options.pieceCid }),
    ...(signal ? { signal } : {}),
  });
  await expectStatus(finalized, 200, "finalize the upload");
  await finalized.body?.cancel();
}

async function expectStatus(res: Response, status: number, step: string): Promise<void> {
  if (res.status === status) {
    if (status !== 200) await res.body?.cancel();
    return;
  }
  const text = (await res.text().catch(() => "")).split("\n")[0]!.slice(0, 200);
  throw new PieceUploadError(`provider could not ${step}: ${res.status}${text ? ` ${text}` : ""}`, res.status);
}
