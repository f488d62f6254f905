/**
 * The few more Node APIs (beyond node-builtins.d.ts) that the local servers
 * playing replication targets call, and the untyped `@20minutes/s3rver`.
 */
declare module "node:fs/promises" {
  export function mkdtemp(prefix: string): Promise<string>;
  export function rm(path: string, options: { recursive: true; force: true }): Promise<void>;
}

declare module "node:os" {
  export function tmpdir(): string;
}

declare module "node:module" {
  export function createRequire(url: string | URL): (id: string) => any;
}

declare module "@20minutes/s3rver" {
  import type { IncomingMessage, ServerResponse } from "node:http";

  export default class S3rver {
    constructor(options: {
      directory: string;
      silent?: boolean;
      configureBuckets?: { name: string }[];
      allowMismatchedSignatures?: boolean;
      resetOnClose?: boolean;
    });
    configureBuckets(): Promise<void>;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    store: { getResourcePath(bucket: string, key: string, resource: string): string };
  }
}
