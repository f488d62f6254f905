import { open, type FileHandle } from "node:fs/promises";

/**
 * A byte stream (`type: "bytes"`) over part of a file, so that the
 * gateway's `ByteReader` can read it with BYOB `readAtLeast` straight into
 * block buffers: no 64 KiB chunking, no extra copy. Reads `[start, end)`.
 */
export function fileByteStream(handle: FileHandle, start = 0, end = Number.POSITIVE_INFINITY): ReadableStream<Uint8Array> {
  let position = start;
  return new ReadableStream({
    type: "bytes",
    autoAllocateChunkSize: 1024 * 1024,
    async pull(controller) {
      const request = controller.byobRequest!;
      const view = request.view! as Uint8Array;
      const want = Math.min(view.byteLength, end - position);
      if (want <= 0) {
        controller.close();
        request.respond(0);
        return;
      }
      const { bytesRead } = await handle.read(view, 0, want, position);
      if (bytesRead === 0) {
        controller.close();
        request.respond(0);
        return;
      }
      position += bytesRead;
      request.respond(bytesRead);
    },
  });
}

/** A byte stream over the process's stdin (for `-`). */
export function stdinByteStream(): ReadableStream<Uint8Array> {
  const stdin = process.stdin;
  const iterator = stdin[Symbol.asyncIterator]();
  return new ReadableStream({
    type: "bytes",
    async pull(controller) {
      const { value, done } = await iterator.next();
      if (done) {
        controller.close();
        controller.byobRequest?.respond(0);
        return;
      }
      controller.enqueue(new Uint8Array(value as Buffer));
    },
    cancel() {
      stdin.destroy();
    },
  });
}

/** Opens `path` for reading; a clear one-line error when it cannot. */
export async function openForRead(path: string): Promise<FileHandle> {
  try {
    return await open(path, "r");
  } catch (err) {
    throw new CarInputError(`cannot read ${path}: ${describeFsError(err)}`);
  }
}

/** Input the user gave that cannot be used (a missing file, a CAR that is not one). Exit status 1. */
export class CarInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CarInputError";
  }
}

export function describeFsError(err: unknown): string {
  const code = (err as { code?: string }).code;
  switch (code) {
    case "ENOENT":
      return "no such file or directory";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "is a directory";
    case "ENOTDIR":
      return "not a directory";
    case "EEXIST":
      return "already exists";
    case "ENOSPC":
      return "no space left on device";
    default:
      return (err as Error).message ?? String(err);
  }
}
