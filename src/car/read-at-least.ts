import type { ReadableStreamReadResult } from "node:stream/web";

/**
 * `ReadableStreamBYOBReader.readAtLeast(min, view)` is a workerd extension
 * (https://developers.cloudflare.com/workers/runtime-apis/streams/readablestreambyobreader/)
 * that the gateway's ByteReader relies on to fill whole blocks per read.
 * Node lacks it: this adds it, built on standard BYOB `read` calls (each
 * read transfers the buffer, so the view is rebuilt on the returned one).
 * Installed once, only where the method is missing.
 */
export function installReadAtLeast(): void {
  const proto = globalThis.ReadableStreamBYOBReader?.prototype as (ReadableStreamBYOBReader & { readAtLeast?: unknown }) | undefined;
  if (!proto || typeof proto.readAtLeast === "function") return;
  Object.defineProperty(proto, "readAtLeast", {
    configurable: true,
    writable: true,
    async value(this: ReadableStreamBYOBReader, min: number, view: Uint8Array): Promise<ReadableStreamReadResult<Uint8Array>> {
      let buffer = view.buffer as ArrayBuffer;
      const offset = view.byteOffset;
      const length = view.byteLength;
      let filled = 0;
      while (filled < min) {
        const { value, done } = await this.read(new Uint8Array(buffer, offset + filled, length - filled));
        if (value) {
          buffer = value.buffer as ArrayBuffer;
          filled += value.byteLength;
        }
        if (done) return value ? { value: new Uint8Array(buffer, offset, filled), done: true } : { value: undefined, done: true };
      }
      return { value: new Uint8Array(buffer, offset, filled), done: false };
    },
  });
}

installReadAtLeast();

/** The workerd signature (worker-configuration.d.ts), for the worker code this CLI shares. */
declare module "node:stream/web" {
  interface ReadableStreamBYOBReader {
    readAtLeast<T extends ArrayBufferView>(minElements: number, view: T): Promise<ReadableStreamReadResult<T>>;
  }
}
declare global {
  interface ReadableStreamBYOBReader {
    readAtLeast<T extends ArrayBufferView>(minElements: number, view: T): Promise<ReadableStreamReadResult<T>>;
  }
}
