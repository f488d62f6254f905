/**
 * Types for the few Node built-ins the local test servers use.
 *
 * The project's tsconfig compiles `src/` and `test/` against the workerd
 * runtime types only (no `@types/node`, which would put Node globals next to
 * the Workers ones in the same program). The servers under `test/servers/`
 * and `test/global-setup.ts` run in Node (vitest globalSetup), so they
 * declare here the small Node API surface they call.
 * If `@types/node` is ever added to the project, delete this file.
 */

declare module "node:net" {
  export interface AddressInfo {
    address: string;
    family: string;
    port: number;
  }
  export interface Socket {
    destroy(error?: Error): this;
    /** Closes with a TCP RST (Node >= 16.17). */
    resetAndDestroy(): this;
    readonly destroyed: boolean;
  }
}

declare module "node:http" {
  import type { AddressInfo, Socket } from "node:net";

  export type IncomingHttpHeaders = Record<string, string | string[] | undefined>;

  export interface IncomingMessage extends AsyncIterable<Uint8Array> {
    method?: string;
    url?: string;
    headers: IncomingHttpHeaders;
    on(event: "close" | "end", listener: () => void): this;
  }

  export interface ServerResponse {
    statusCode: number;
    readonly headersSent: boolean;
    readonly writableEnded: boolean;
    readonly writableFinished: boolean;
    readonly destroyed: boolean;
    readonly socket: Socket | null;
    setHeader(name: string, value: string | number): this;
    getHeader(name: string): string | number | string[] | undefined;
    removeHeader(name: string): void;
    writeHead(status: number, headers?: Record<string, string | number>): this;
    flushHeaders(): void;
    write(chunk: Uint8Array | string, callback?: (error?: Error | null) => void): boolean;
    end(chunk?: Uint8Array | string, callback?: () => void): this;
    end(callback?: () => void): this;
    destroy(error?: Error): this;
    on(event: "close" | "finish" | "drain", listener: (...args: any[]) => void): this;
    off(event: "close" | "finish" | "drain", listener: (...args: any[]) => void): this;
    once(event: "close" | "finish" | "drain", listener: (...args: any[]) => void): this;
  }

  export interface Server {
    listen(port: number, host: string, callback: (...args: any[]) => void): this;
    close(callback?: (error?: Error) => void): this;
    closeAllConnections(): void;
    /** ms an idle keep-alive connection is kept open (Node default 5000). */
    keepAliveTimeout: number;
    address(): AddressInfo | string | null;
    on(event: "error", listener: (error: Error) => void): this;
  }

  export function createServer(
    listener: (req: IncomingMessage, res: ServerResponse) => void,
  ): Server;
}

declare module "node:crypto" {
  export interface Hash {
    update(data: string | Uint8Array): Hash;
    digest(encoding: "hex" | "base64" | "base64url"): string;
  }
  export function createHash(algorithm: string): Hash;
}

declare module "node:fs/promises" {
  export function readdir(path: string, options: { recursive: true }): Promise<string[]>;
  export function readFile(path: string): Promise<Uint8Array>;
}

declare module "node:path" {
  export function resolve(...segments: string[]): string;
  export function join(...segments: string[]): string;
}

declare module "node:url" {
  export function fileURLToPath(url: string | URL): string;
}

/** ES module URL of the current file (Node sets it; the workerd types leave it out). */
interface ImportMeta {
  readonly url: string;
}
