/**
 * A whole request or response body of at most `max` bytes, or undefined
 * (the rest cancelled) once it is longer: for the small bodies the worker
 * reads in full (IPNS records, routing answers, probes, `_redirects`, admin
 * JSON). A declared Content-Length over `max` is refused before reading.
 */
export async function readBounded(message: Request | Response, max: number): Promise<Uint8Array | undefined> {
  if (Number(message.headers.get("Content-Length") ?? 0) > max) {
    await message.body?.cancel().catch(() => undefined);
    return undefined;
  }
  if (message.body === null) return new Uint8Array(0);
  const reader = message.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
