import { backendFetch, errorBodyText, errorForStatus } from "../backend-http";
import { BackendError } from "../replication-backend";
import { streamPrefix } from "../stream-prefix";

/**
 * The documented HTTP endpoints of the Hugging Face Hub that a dataset repo
 * needs, called with plain `fetch` (no SDK: `@huggingface/hub` would hold
 * large blobs in memory and Xet needs run-time WebAssembly, which workerd
 * forbids). Shapes follow huggingface.js (`packages/hub/src/lib/commit.ts`,
 * `paths-info.ts`, `types/api/api-commit.ts`) and the git-lfs batch API
 * (https://github.com/git-lfs/git-lfs/blob/main/docs/api/batch.md).
 * The token goes in `Authorization: Bearer` to the Hub only, never to the
 * storage URLs the LFS batch hands out (they are pre-signed).
 */
export interface HubRepo {
  /** `https://huggingface.co` */
  hubUrl: string;
  /** `user/dataset` */
  repo: string;
  revision: string;
}

export interface LfsAction {
  href: string;
  header?: Record<string, string>;
}

export interface LfsBatchObject {
  oid: string;
  size: number;
  actions?: { upload?: LfsAction; verify?: LfsAction };
  error?: { code: number; message: string };
}

export interface PathInfo {
  path: string;
  type: string;
  size: number;
  oid?: string;
  lfs?: { oid: string; size: number; pointerSize?: number };
}

export type CommitOperation =
  | { key: "lfsFile"; value: { path: string; algo: "sha256"; oid: string; size: number } }
  | { key: "file"; value: { path: string; content: string; encoding: "base64" } }
  | { key: "deletedFile"; value: { path: string } };

export class HubApi {
  readonly #where: HubRepo;
  readonly #token: () => string;

  constructor(where: HubRepo, token: () => string) {
    this.#where = where;
    this.#token = token;
  }

  get repo(): string {
    return this.#where.repo;
  }

  /** `https://huggingface.co/datasets/{repo}/resolve/{revision}/{path}`: where a file can be downloaded. */
  resolveUrl(path: string): string {
    return `${this.#where.hubUrl}/datasets/${this.#where.repo}/resolve/${encodeURIComponent(this.#where.revision)}/${encodePath(path)}`;
  }

  /** `POST /api/datasets/{repo}/preupload/{rev}`: whether a file goes through LFS (and is not ignored). */
  async preupload(path: string, size: number, sample: Uint8Array): Promise<{ uploadMode: string; shouldIgnore: boolean }> {
    const answer = await this.#json<{ files?: { path: string; uploadMode?: string; shouldIgnore?: boolean }[] }>(
      "Hub preupload",
      `${this.#api()}/preupload/${encodeURIComponent(this.#where.revision)}`,
      { files: [{ path, size, sample: base64(sample) }] },
    );
    const file = answer.files?.find((f) => f.path === path);
    if (file === undefined) throw new BackendError("retryable", "Hub preupload: the file is not in the answer");
    return { uploadMode: file.uploadMode ?? "lfs", shouldIgnore: file.shouldIgnore === true };
  }

  /** `POST {repo}.git/info/lfs/objects/batch` (upload, basic or multipart transfer). */
  async lfsBatch(oid: string, size: number): Promise<{ transfer: string; object: LfsBatchObject }> {
    const url = `${this.#where.hubUrl}/datasets/${this.#where.repo}.git/info/lfs/objects/batch`;
    const response = await backendFetch("Hub LFS batch", url, {
      method: "POST",
      headers: { ...this.#auth(), Accept: "application/vnd.git-lfs+json", "Content-Type": "application/vnd.git-lfs+json" },
      body: JSON.stringify({
        operation: "upload",
        transfers: ["basic", "multipart"],
        hash_algo: "sha_256",
        ref: { name: this.#where.revision },
        objects: [{ oid, size }],
      }),
    });
    const answer = await this.#read<{ transfer?: string; objects?: LfsBatchObject[] }>("Hub LFS batch", response);
    const object = answer.objects?.find((o) => o.oid === oid);
    if (object === undefined) throw new BackendError("retryable", "Hub LFS batch: the object is not in the answer");
    if (object.error !== undefined) {
      const { code, message } = object.error;
      const kind = code === 401 || code === 403 ? "unauthorized" : code >= 400 && code < 500 && code !== 429 ? "permanent" : "retryable";
      throw new BackendError(kind, `Hub LFS batch: ${code} ${message.slice(0, 200)}`);
    }
    return { transfer: answer.transfer ?? "basic", object };
  }

  /** `POST /api/datasets/{repo}/commit/{rev}` with NDJSON lines: a header, then the operations. */
  async commit(summary: string, description: string, operations: CommitOperation[]): Promise<{ commitOid: string; commitUrl?: string }> {
    const url = `${this.#api()}/commit/${encodeURIComponent(this.#where.revision)}`;
    const lines = [{ key: "header", value: { summary, description } }, ...operations].map((line) => JSON.stringify(line)).join("\n");
    const response = await backendFetch("Hub commit", url, {
      method: "POST",
      headers: { ...this.#auth(), "Content-Type": "application/x-ndjson" },
      body: lines,
    });
    const answer = await this.#read<{ commitOid?: string; commitUrl?: string }>("Hub commit", response);
    if (typeof answer.commitOid !== "string") throw new BackendError("retryable", "Hub commit: no commitOid in the answer");
    return { commitOid: answer.commitOid, commitUrl: answer.commitUrl };
  }

  /** `POST /api/datasets/{repo}/paths-info/{rev}`: the file at `path` (its LFS oid and size), or undefined when absent. */
  async pathInfo(path: string): Promise<PathInfo | undefined> {
    const answer = await this.#json<PathInfo[]>("Hub paths-info", `${this.#api()}/paths-info/${encodeURIComponent(this.#where.revision)}`, {
      paths: [path],
      expand: false,
    });
    if (!Array.isArray(answer)) throw new BackendError("retryable", "Hub paths-info: the answer is not a list");
    return answer.find((info) => info.path === path && info.type === "file");
  }

  /**
   * The first `length` bytes of a file through `resolve` with `Range`. An
   * LFS file redirects to storage: the redirect is followed by hand, without
   * the token (the storage URL is pre-signed; the token must not leave the Hub).
   */
  async readPrefix(path: string, length: number): Promise<Uint8Array | undefined> {
    const range = { Range: `bytes=0-${length - 1}` };
    let response = await backendFetch("Hub resolve", this.resolveUrl(path), { headers: { ...this.#auth(), ...range }, redirect: "manual" });
    for (let hops = 0; hops < 3 && response.status >= 300 && response.status < 400; hops++) {
      const location = response.headers.get("Location");
      await response.body?.cancel();
      if (location === null) throw new BackendError("retryable", "Hub resolve: a redirect without Location");
      response = await backendFetch("Hub resolve (storage)", new URL(location, this.resolveUrl(path)).toString(), { headers: range, redirect: "manual" });
    }
    if (response.status === 404) return undefined;
    if (!response.ok) throw errorForStatus("Hub resolve", response, await errorBodyText(response));
    return streamPrefix(response.body!, length);
  }

  #api(): string {
    return `${this.#where.hubUrl}/api/datasets/${this.#where.repo}`;
  }

  #auth(): Record<string, string> {
    return { Authorization: `Bearer ${this.#token()}` };
  }

  async #json<T>(what: string, url: string, body: unknown): Promise<T> {
    const response = await backendFetch(what, url, {
      method: "POST",
      headers: { ...this.#auth(), Accept: "application/json", "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    return this.#read<T>(what, response);
  }

  async #read<T>(what: string, response: Response): Promise<T> {
    if (!response.ok) throw errorForStatus(what, response, hubErrorMessage(response, await errorBodyText(response)));
    try {
      return (await response.json()) as T;
    } catch {
      throw new BackendError("retryable", `${what}: the answer is not JSON`);
    }
  }
}

/** The Hub's error text: `X-Error-Message`, else the body's `{"error": ...}`, else the body. */
function hubErrorMessage(response: Response, body: string): string {
  const header = response.headers.get("X-Error-Message");
  if (header !== null) return header.slice(0, 200);
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    if (typeof parsed.error === "string") return parsed.error.slice(0, 200);
  } catch {
    // not JSON
  }
  return body;
}

export function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

export function base64(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}
