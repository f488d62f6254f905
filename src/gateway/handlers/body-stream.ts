/**
 * A response body pulled from an async generator one chunk at a time, as
 * `carBody` does for CARs: the next block is only fetched when the client
 * has taken the previous one, so memory stays at about one block whatever
 * the size of the file, listing or archive.
 *
 * With a `length`, the body is a fixed-length stream (Content-Length on the wire).
 * `done(true)` once the generator is exhausted; `done(false)` when it
 * throws (the body is errored: the client sees an aborted transfer, never a
 * short body passed off as complete) or when the client goes away.
 */
export function pullBody(chunks: AsyncGenerator<Uint8Array>, done: (complete: boolean) => void, what: string, length?: number): ReadableStream<Uint8Array> {
  const body = pullStream(chunks, done, what);
  if (length === undefined) return body;
  // Workers send Content-Length only for fixed-length bodies: a header set on a
  // plain stream is ignored (chunked instead). FixedLengthStream also errors the
  // response if fewer or more bytes come through than promised.
  const fixed = new FixedLengthStream(length);
  body.pipeTo(fixed.writable).catch(() => undefined);
  return fixed.readable;
}

function pullStream(chunks: AsyncGenerator<Uint8Array>, done: (complete: boolean) => void, what: string): ReadableStream<Uint8Array> {
  let finished = false;
  const end = (complete: boolean) => {
    if (finished) return;
    finished = true;
    done(complete);
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        for (;;) {
          const next = await chunks.next();
          if (next.done) {
            controller.close();
            return end(true);
          }
          if (next.value.length === 0) continue;
          controller.enqueue(next.value);
          return;
        }
      } catch (err) {
        console.warn(`${what} stream aborted:`, err instanceof Error ? err.message : String(err));
        controller.error(err);
        end(false);
      }
    },
    async cancel() {
      end(false);
      await chunks.return(undefined);
    },
  });
}

/** Text chunks as UTF-8 bytes. */
export async function* utf8(parts: AsyncIterable<string>): AsyncGenerator<Uint8Array> {
  const enc = new TextEncoder();
  for await (const part of parts) yield enc.encode(part);
}
