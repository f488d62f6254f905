import type { DagToStore } from "../replication-backend";

/**
 * The CAR as a `multipart/form-data` body (RFC 7578) with one file part, the
 * way Kubo's `dag/import` wants its input, streamed: the framing around
 * `dag.car()`, with the exact total length known in advance (a
 * `FixedLengthStream`), so the Worker sends a Content-Length and never holds
 * the CAR.
 */
export function multipartCar(dag: DagToStore, signal?: AbortSignal): { body: ReadableStream<Uint8Array>; contentType: string; length: number } {
  const boundary = `----ipfs-kit-edge-${crypto.randomUUID()}`;
  const encoder = new TextEncoder();
  const head = encoder.encode(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${dag.root.toString()}.car"\r\n` +
      "Content-Type: application/vnd.ipld.car\r\n\r\n",
  );
  const tail = encoder.encode(`\r\n--${boundary}--\r\n`);
  const length = head.length + dag.carSize + tail.length;
  const { readable, writable } = new FixedLengthStream(length);
  (async () => {
    const writer = writable.getWriter();
    await writer.write(head);
    writer.releaseLock();
    await dag.car().pipeTo(writable, { preventClose: true, signal });
    const closing = writable.getWriter();
    await closing.write(tail);
    await closing.close();
  })().catch((err: unknown) => writable.abort(err).catch(() => {}));
  return { body: readable, contentType: `multipart/form-data; boundary=${boundary}`, length };
}
