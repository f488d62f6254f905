import type { PartReader } from "./part-reader";

/** Bytes handed to a part's stream at a time: memory stays at about this much, whatever the part size. */
const PIECE = 1024 * 1024;

/**
 * A request body of exactly `length` bytes (a `FixedLengthStream`, so a
 * Content-Length is sent and a short source errors instead of ending early)
 * filled by `fill`; a fill error aborts the body.
 */
export function fixedLengthBody(length: number, fill: (writer: WritableStreamDefaultWriter<Uint8Array>) => Promise<void>): ReadableStream<Uint8Array> {
  const { readable, writable } = new FixedLengthStream(length);
  const writer = writable.getWriter();
  fill(writer)
    .then(() => writer.close())
    .catch((err: unknown) => writer.abort(err).catch(() => {}));
  return readable;
}

/** The next `length` bytes of `reader` as a streamed body, read in 1 MiB pieces (an upload part, never buffered whole). */
export function partBody(reader: PartReader, length: number): ReadableStream<Uint8Array> {
  return fixedLengthBody(length, async (writer) => {
    for (let sent = 0; sent < length; ) {
      const piece = await reader.read(Math.min(PIECE, length - sent));
      if (piece.length === 0) throw new Error("the CAR stream ended early");
      await writer.write(piece);
      sent += piece.length;
    }
  });
}
