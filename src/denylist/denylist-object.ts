/**
 * Denylist: the one object that holds every configured denylist and the
 * operator's own entries (docs/denylist.md). The cron refresh streams each
 * list into it (`refreshList`); isolates copy a compact snapshot from it at
 * most every ~30 s (`snapshot`), so no request waits on it except an
 * isolate's very first one.
 *
 * Storage (SQLite, migrations below):
 * - `lists`: one row per list URL: position in DENYLIST_URLS, current
 *   `generation`, header, validators (ETag / Last-Modified), counts, last error.
 * - `hash_chunks`: the list's plain `//` digests, 32 bytes each, sorted and
 *   de-duplicated, 32 768 per row (1 MiB); `first` is the chunk's first digest.
 * - `rules`: every other item of a list (clear-text, allow, hinted), as text.
 * - `operator_entries`: entries added through the admin API.
 * - `meta`: `version`, bumped on every change.
 * A refresh writes a new generation beside the current one and switches the
 * list to it in one small transaction; a failed refresh leaves the previous
 * generation in force and records the error.
 */
import { DurableObject } from "cloudflare:workers";
import { migrate } from "../durable-objects/sql-migrations";
import { compareDigests, DIGEST_BYTES, HashSetBuilder, readU32 } from "./hash-set-builder";
import { DenylistFormatError, parseDenylist, type ParseStats } from "./parse";
import { hexToBytes, parseRule, type DenyStatus } from "./rule";
import type { DenylistSnapshot, SnapshotList, SnapshotRule } from "./snapshot";

/** Limits of one list (docs/denylist.md, "Limits"). */
export const MAX_LIST_BYTES = 512 * 1024 * 1024;
export const MAX_HASH_ENTRIES = 1_500_000;
export const MAX_RULES = 100_000;
export const FETCH_TIMEOUT_MS = 120_000;
export const OPERATOR_LIST = "operator";
const MAX_OPERATOR_ENTRIES = 10_000;

const MIGRATIONS: readonly string[] = [
  /* 1 */ `
  CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL);
  INSERT INTO meta (key, value) VALUES ('version', 1);
  CREATE TABLE lists (
    url TEXT PRIMARY KEY NOT NULL,
    position INTEGER NOT NULL,
    generation INTEGER NOT NULL,
    name TEXT,
    status INTEGER NOT NULL CHECK (status IN (410, 451)),
    etag TEXT,
    last_modified TEXT,
    hashes INTEGER NOT NULL,
    rules INTEGER NOT NULL,
    malformed INTEGER NOT NULL,
    unsupported INTEGER NOT NULL,
    errors TEXT NOT NULL,
    refreshed_at INTEGER,
    checked_at INTEGER,
    last_error TEXT,
    last_error_at INTEGER
  );
  CREATE TABLE hash_chunks (
    url TEXT NOT NULL,
    generation INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    first BLOB NOT NULL,
    hashes BLOB NOT NULL,
    PRIMARY KEY (url, generation, seq)
  );
  CREATE INDEX hash_chunks_first ON hash_chunks (url, generation, first);
  CREATE TABLE rules (
    url TEXT NOT NULL,
    generation INTEGER NOT NULL,
    line INTEGER NOT NULL,
    rule TEXT NOT NULL,
    status INTEGER,
    PRIMARY KEY (url, generation, line)
  );
  CREATE TABLE operator_entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    entry TEXT NOT NULL,
    status INTEGER NOT NULL CHECK (status IN (410, 451)),
    created_at INTEGER NOT NULL
  );`,
];

export interface RefreshResult {
  url: string;
  outcome: "updated" | "unchanged" | "failed";
  hashes?: number;
  rules?: number;
  malformed?: number;
  unsupported?: number;
  error?: string;
}

export interface ListStatus {
  url: string;
  position: number;
  name: string | null;
  status: DenyStatus;
  hashes: number;
  rules: number;
  malformed: number;
  unsupported: number;
  errors: string[];
  refreshedAt: number | null;
  checkedAt: number | null;
  lastError: string | null;
  lastErrorAt: number | null;
}

export interface OperatorEntry {
  id: number;
  entry: string;
  status: DenyStatus;
  createdAt: number;
}

type ListRow = {
  url: string;
  position: number;
  generation: number;
  name: string | null;
  status: number;
  etag: string | null;
  last_modified: string | null;
  hashes: number;
  rules: number;
  malformed: number;
  unsupported: number;
  errors: string;
  refreshed_at: number | null;
  checked_at: number | null;
  last_error: string | null;
  last_error_at: number | null;
};

/** The global Denylist object's stub. */
export function denylistObject(env: Env): DurableObjectStub<Denylist> {
  return (env.DENYLIST as unknown as DurableObjectNamespace<Denylist>).getByName("global");
}

export class Denylist extends DurableObject<Env> {
  readonly #sql: SqlStorage;
  #snapshot: DenylistSnapshot | undefined;
  readonly #refreshing = new Set<string>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    void ctx.blockConcurrencyWhile(async () => migrate(ctx.storage, MIGRATIONS));
  }

  /** The current version; isolates poll this (cheap) before asking for a snapshot. */
  version(): number {
    return this.#version();
  }

  /**
   * The snapshot, or `{ version, unchanged: true }` when the caller already
   * has `since`. Built once per version and kept in memory.
   */
  snapshot(since = -1): DenylistSnapshot | { version: number; unchanged: true } {
    const version = this.#version();
    if (since === version) return { version, unchanged: true };
    if (this.#snapshot?.version !== version) this.#snapshot = this.#buildSnapshot(version);
    return this.#snapshot;
  }

  /**
   * Fetches one list and makes it current (docs/denylist.md, "Refresh").
   * Conditional GET with the stored validators; any failure (network, HTTP
   * status, format, limits) keeps the previous version and is recorded.
   */
  async refreshList(url: string, position: number): Promise<RefreshResult> {
    const now = Date.now();
    const prev = this.#sql.exec<ListRow>("SELECT * FROM lists WHERE url = ?", url).toArray()[0];
    const headers = new Headers({ Accept: "text/plain, */*" });
    if (prev?.etag) headers.set("If-None-Match", prev.etag);
    if (prev?.last_modified) headers.set("If-Modified-Since", prev.last_modified);

    let response: Response;
    try {
      response = await fetch(url, { headers, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    } catch (err) {
      return this.#failed(url, position, now, `fetch failed: ${message(err)}`);
    }
    if (response.status === 304 && prev) {
      await response.body?.cancel();
      this.#sql.exec("UPDATE lists SET checked_at = ?, position = ? WHERE url = ?", now, position, url);
      if (prev.position !== position) this.#bump();
      return { url, outcome: "unchanged" };
    }
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      return this.#failed(url, position, now, `HTTP ${response.status}`);
    }

    if (this.#refreshing.has(url)) {
      await response.body.cancel();
      return { url, outcome: "failed", error: "a refresh of this list is already running" };
    }
    this.#refreshing.add(url);
    try {
      return await this.#replace(url, position, now, prev, response, response.body);
    } finally {
      this.#refreshing.delete(url);
    }
  }

  async #replace(
    url: string,
    position: number,
    now: number,
    prev: ListRow | undefined,
    response: Response,
    body: ReadableStream<Uint8Array>,
  ): Promise<RefreshResult> {
    const generation = (prev?.generation ?? 0) + 1;
    this.#sql.exec("DELETE FROM hash_chunks WHERE url = ? AND generation = ?", url, generation); // leftovers of a crash
    this.#sql.exec("DELETE FROM rules WHERE url = ? AND generation = ?", url, generation);

    const hashes = new HashSetBuilder(MAX_HASH_ENTRIES);
    let stats: ParseStats;
    let tooMany: string | undefined;
    let ruleCount = 0;
    try {
      stats = await parseDenylist(byteLimited(body, MAX_LIST_BYTES), {
        hash: (digest) => {
          if (!hashes.add(digest)) tooMany ??= `more than ${MAX_HASH_ENTRIES} double-hash entries`;
        },
        rule: (rule, line) => {
          if (ruleCount >= MAX_RULES) {
            tooMany ??= `more than ${MAX_RULES} rules`;
            return;
          }
          this.#sql.exec(
            "INSERT INTO rules (url, generation, line, rule, status) VALUES (?, ?, ?, ?, ?)",
            url,
            generation,
            line,
            rule.text,
            rule.status ?? null,
          );
          ruleCount++;
        },
      });
      if (tooMany) throw new DenylistFormatError(tooMany);
    } catch (err) {
      this.#sql.exec("DELETE FROM rules WHERE url = ? AND generation = ?", url, generation);
      return this.#failed(url, position, now, err instanceof DenylistFormatError ? err.message : `read failed: ${message(err)}`);
    }
    let seq = 0;
    for (const chunk of hashes.sortedChunks()) {
      this.#sql.exec(
        "INSERT INTO hash_chunks (url, generation, seq, first, hashes) VALUES (?, ?, ?, ?, ?)",
        url,
        generation,
        seq++,
        chunk.slice(0, DIGEST_BYTES).buffer,
        chunk.slice().buffer,
      );
    }
    const stored = this.#sql
      .exec<{ n: number }>("SELECT coalesce(sum(length(hashes)), 0) / 32 AS n FROM hash_chunks WHERE url = ? AND generation = ?", url, generation)
      .one().n;

    // The switch: one transaction makes the new generation current and drops the old one.
    this.ctx.storage.transactionSync(() => {
      this.#sql.exec(
        `INSERT INTO lists (url, position, generation, name, status, etag, last_modified, hashes, rules, malformed, unsupported, errors, refreshed_at, checked_at, last_error, last_error_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)
         ON CONFLICT (url) DO UPDATE SET position = excluded.position, generation = excluded.generation, name = excluded.name,
           status = excluded.status, etag = excluded.etag, last_modified = excluded.last_modified, hashes = excluded.hashes,
           rules = excluded.rules, malformed = excluded.malformed, unsupported = excluded.unsupported, errors = excluded.errors,
           refreshed_at = excluded.refreshed_at, checked_at = excluded.checked_at, last_error = NULL, last_error_at = NULL`,
        url,
        position,
        generation,
        stats.header.name ?? null,
        stats.header.status,
        response.headers.get("ETag"),
        response.headers.get("Last-Modified"),
        stored,
        stats.rules,
        stats.malformed,
        stats.unsupported,
        JSON.stringify(stats.errors),
        now,
        now,
      );
      this.#sql.exec("DELETE FROM hash_chunks WHERE url = ? AND generation <> ?", url, generation);
      this.#sql.exec("DELETE FROM rules WHERE url = ? AND generation <> ?", url, generation);
      this.#bump();
    });
    return { url, outcome: "updated", hashes: stored, rules: stats.rules, malformed: stats.malformed, unsupported: stats.unsupported };
  }

  /** Forgets every list not in `urls` (DENYLIST_URLS changed). */
  retainLists(urls: string[]): number {
    const keep = new Set(urls);
    const gone = this.#sql
      .exec<{ url: string }>("SELECT url FROM lists")
      .toArray()
      .filter((r) => !keep.has(r.url));
    if (gone.length === 0) return 0;
    this.ctx.storage.transactionSync(() => {
      for (const { url } of gone) {
        this.#sql.exec("DELETE FROM lists WHERE url = ?", url);
        this.#sql.exec("DELETE FROM hash_chunks WHERE url = ?", url);
        this.#sql.exec("DELETE FROM rules WHERE url = ?", url);
      }
      this.#bump();
    });
    return gone.length;
  }

  /** Which of these sha256 digests (hex) are plain `//` entries of a current list: an exact 32-byte check. */
  has(digestsHex: string[]): string[] {
    const lists = this.#sql.exec<{ url: string; generation: number }>("SELECT url, generation FROM lists").toArray();
    return digestsHex.filter((hex) => {
      if (!/^[0-9a-f]{64}$/.test(hex)) return false;
      const digest = hexToBytes(hex);
      return lists.some(({ url, generation }) => {
        const row = this.#sql
          .exec<{ hashes: ArrayBuffer }>(
            "SELECT hashes FROM hash_chunks WHERE url = ? AND generation = ? AND first <= ? ORDER BY first DESC LIMIT 1",
            url,
            generation,
            digest.buffer,
          )
          .toArray()[0];
        return row !== undefined && chunkHas(new Uint8Array(row.hashes), digest);
      });
    });
  }

  listStatus(): ListStatus[] {
    return this.#sql
      .exec<ListRow>("SELECT * FROM lists ORDER BY position")
      .toArray()
      .map((r) => ({
        url: r.url,
        position: r.position,
        name: r.name,
        status: r.status as DenyStatus,
        hashes: r.hashes,
        rules: r.rules,
        malformed: r.malformed,
        unsupported: r.unsupported,
        errors: JSON.parse(r.errors) as string[],
        refreshedAt: r.refreshed_at,
        checkedAt: r.checked_at,
        lastError: r.last_error,
        lastErrorAt: r.last_error_at,
      }));
  }

  /** Adds an operator entry (already validated with `parseRule` by the admin API; checked again here). */
  addEntry(entry: string, status: DenyStatus): OperatorEntry | { error: string } {
    const parsed = parseRule(entry);
    if ("error" in parsed) return { error: parsed.reason };
    const count = this.#sql.exec<{ n: number }>("SELECT count(*) AS n FROM operator_entries").one().n;
    if (count >= MAX_OPERATOR_ENTRIES) return { error: `at most ${MAX_OPERATOR_ENTRIES} operator entries` };
    const createdAt = Date.now();
    const row = this.#sql
      .exec<{ id: number }>(
        "INSERT INTO operator_entries (entry, status, created_at) VALUES (?, ?, ?) RETURNING id",
        parsed.text,
        status,
        createdAt,
      )
      .one();
    this.#bump();
    return { id: row.id, entry: parsed.text, status, createdAt };
  }

  listEntries(): OperatorEntry[] {
    return this.#sql
      .exec<{ id: number; entry: string; status: number; created_at: number }>("SELECT * FROM operator_entries ORDER BY id")
      .toArray()
      .map((r) => ({ id: r.id, entry: r.entry, status: r.status as DenyStatus, createdAt: r.created_at }));
  }

  deleteEntry(id: number): boolean {
    const deleted = this.#sql.exec("DELETE FROM operator_entries WHERE id = ?", id).rowsWritten > 0;
    if (deleted) this.#bump();
    return deleted;
  }

  #failed(url: string, position: number, now: number, error: string): RefreshResult {
    // A list that never loaded still gets a row, so the operator sees the error.
    this.#sql.exec(
      `INSERT INTO lists (url, position, generation, status, hashes, rules, malformed, unsupported, errors, last_error, last_error_at)
       VALUES (?, ?, 0, 410, 0, 0, 0, 0, '[]', ?, ?)
       ON CONFLICT (url) DO UPDATE SET last_error = excluded.last_error, last_error_at = excluded.last_error_at`,
      url,
      position,
      error,
      now,
    );
    return { url, outcome: "failed", error };
  }

  #version(): number {
    return this.#sql.exec<{ value: number }>("SELECT value FROM meta WHERE key = 'version'").one().value;
  }

  #bump(): void {
    this.#sql.exec("UPDATE meta SET value = value + 1 WHERE key = 'version'");
  }

  #buildSnapshot(version: number): DenylistSnapshot {
    const lists: SnapshotList[] = [];
    const rules: SnapshotRule[] = [];
    // Lists that never loaded (generation 0, only an error) contribute nothing.
    const rows = this.#sql.exec<ListRow>("SELECT * FROM lists WHERE generation > 0 ORDER BY position, url").toArray();
    for (const list of rows) {
      const index = lists.length;
      const keys = new Uint32Array(list.hashes * 2);
      let k = 0;
      for (const chunk of this.#sql.exec<{ hashes: ArrayBuffer }>(
        "SELECT hashes FROM hash_chunks WHERE url = ? AND generation = ? ORDER BY seq",
        list.url,
        list.generation,
      )) {
        const bytes = new Uint8Array(chunk.hashes);
        for (let off = 0; off + DIGEST_BYTES <= bytes.length && k < keys.length; off += DIGEST_BYTES) {
          keys[k++] = readU32(bytes, off);
          keys[k++] = readU32(bytes, off + 4);
        }
      }
      lists.push({ id: list.url, status: list.status as DenyStatus, keys: k === keys.length ? keys : keys.slice(0, k) });
      for (const r of this.#sql.exec<{ line: number; rule: string; status: number | null }>(
        "SELECT line, rule, status FROM rules WHERE url = ? AND generation = ? ORDER BY line",
        list.url,
        list.generation,
      )) {
        rules.push({ list: index, line: r.line, text: r.rule, status: r.status as DenyStatus | null });
      }
    }
    // The operator's entries come last: they override every list.
    const operator = lists.length;
    lists.push({ id: OPERATOR_LIST, status: 410, keys: new Uint32Array(0) });
    for (const e of this.listEntries()) rules.push({ list: operator, line: e.id, text: e.entry, status: e.status });
    return { version, lists, rules };
  }
}

/** Binary search of one sorted chunk. */
function chunkHas(chunk: Uint8Array, digest: Uint8Array): boolean {
  let low = 0;
  let high = chunk.length / DIGEST_BYTES - 1;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    const c = compareDigests(chunk, mid * DIGEST_BYTES, digest, 0);
    if (c === 0) return true;
    if (c < 0) low = mid + 1;
    else high = mid - 1;
  }
  return false;
}

/**
 * The body, erroring once more than `max` bytes went through (a list larger
 * than any real one). Pull-based, so a source error reaches the reader and
 * nothing else (no internal pipe promise left to reject).
 */
function byteLimited(body: ReadableStream<Uint8Array>, max: number): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let seen = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) return controller.close();
      seen += value.byteLength;
      if (seen > max) {
        await reader.cancel();
        controller.error(new DenylistFormatError(`list larger than ${max} bytes`));
      } else controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

function message(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 200);
}

