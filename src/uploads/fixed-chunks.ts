/**
 * Cuts a byte stream into chunks of exactly `size` bytes (the last one
 * shorter), like the importer's `fixedSize` chunker. Holds at most one
 * chunk: each is yielded as soon as it is full.
 */
export async function* fixedChunks(stream: ReadableStream<Uint8Array>, size: number): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  let chunk = new Uint8Array(size);
  let filled = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      let offset = 0;
      while (offset < value.length) {
        const n = Math.min(size - filled, value.length - offset);
        chunk.set(value.subarray(offset, offset + n), filled);
        filled += n;
        offset += n;
        if (filled === size) {
          yield chunk;
          chunk = new Uint8Array(size);
          filled = 0;
        }
      }
    }
    if (filled > 0) yield chunk.subarray(0, filled);
  } finally {
    reader.releaseLock();
  }
}
