/**
 * Streaming parser of compact denylists (IPIP-383 "Compact Denylist Format",
 * "File syntax"): an optional YAML header ended by `---`, then one block item
 * per line. Memory is bounded by the longest line (2 MiB, "Lines should not
 * be longer than 2MiB") plus the header (1 MiB): the list itself is never
 * held, each entry is handed to a sink as it is read — plain `//` double-hash
 * entries as their 32 digest bytes only.
 */
import { parseRule, parseStatus, type DenyRule, type DenyStatus } from "./rule";

export const MAX_HEADER_BYTES = 1 << 20; // "Header": 1 MiB maximum size
export const MAX_LINE_BYTES = 2 << 20; // "File syntax": 2 MiB per line

export interface ListHeader {
  version: number;
  name?: string;
  description?: string;
  author?: string;
  /** Global hints ("hints" map), applied to every item unless the item overrides them. */
  hints: Record<string, string>;
  /** The list's status for blocked items, from the `gateway_status`/`status` hint (default 410). */
  status: DenyStatus;
}

export interface DenylistSink {
  /** A plain deny `//` item (no hint, not negated): only its digest is kept. */
  hash(digest: Uint8Array, line: number): void;
  /** Any other item: clear-text rules, allow rules, items with hints. */
  rule(rule: DenyRule, line: number): void;
}

export interface ParseStats {
  header: ListHeader;
  lines: number;
  hashes: number;
  rules: number;
  /** Lines that are not valid block items (skipped, per "Continue processing the list, discarding unrecognized rules"). */
  malformed: number;
  /** Valid items this implementation cannot apply (e.g. a blake3 double-hash); skipped. */
  unsupported: number;
  /** The first few reasons, for the operator. */
  errors: string[];
}

/** The list as a whole cannot be used (unsupported version, a line over 2 MiB, bad header). */
export class DenylistFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DenylistFormatError";
  }
}

const MAX_REPORTED_ERRORS = 5;

/**
 * Reads a denylist body and feeds its items to `sink`.
 *
 * @example
 * const stats = await parseDenylist(response.body, { hash: (d) => digests.push(d), rule: (r) => rules.push(r) });
 */
export async function parseDenylist(body: ReadableStream<Uint8Array>, sink: DenylistSink): Promise<ParseStats> {
  const stats: ParseStats = {
    header: { version: 1, hints: {}, status: 410 },
    lines: 0,
    hashes: 0,
    rules: 0,
    malformed: 0,
    unsupported: 0,
    errors: [],
  };
  // "Header": buffer lines until `---` (a header) or until it is clear there is none.
  let headerLines: string[] | undefined = [];
  let headerBytes = 0;

  const item = (line: string, lineNo: number) => {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    const parsed = parseRule(trimmed);
    if ("error" in parsed) {
      if (parsed.error === "malformed") stats.malformed++;
      else stats.unsupported++;
      if (stats.errors.length < MAX_REPORTED_ERRORS) stats.errors.push(`line ${lineNo}: ${parsed.reason}`);
      return;
    }
    if (parsed.target.kind === "hash" && !parsed.negated && parsed.status === undefined) {
      stats.hashes++;
      sink.hash(parsed.target.digest, lineNo);
    } else {
      stats.rules++;
      sink.rule(parsed, lineNo);
    }
  };

  const flushAsItems = () => {
    headerLines?.forEach((l, i) => item(l, i + 1));
    headerLines = undefined;
  };

  for await (const line of lines(body)) {
    stats.lines++;
    if (headerLines) {
      if (line.replace(/\r$/, "") === "---") {
        stats.header = parseHeader(headerLines);
        headerLines = undefined;
        continue;
      }
      headerLines.push(line);
      headerBytes += line.length + 1;
      // A block item cannot start a YAML header, and a header is at most 1 MiB:
      // either way there is no header and the buffered lines are items.
      const looksLikeItem = /^\s*[/!+-]/.test(line) && !/^\s*-\s/.test(line); // `- x` is a YAML list entry
      if (looksLikeItem || headerBytes > MAX_HEADER_BYTES) flushAsItems();
      continue;
    }
    item(line, stats.lines);
  }
  flushAsItems(); // no `---` at all: every line was an item
  return stats;
}

/** Splits a byte stream into lines (without `\n`), refusing any longer than MAX_LINE_BYTES. */
async function* lines(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let carry = "";
  let lineNo = 0;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      const text = done ? decoder.decode() : decoder.decode(value, { stream: true });
      let start = 0;
      let nl = text.indexOf("\n");
      while (nl !== -1) {
        const line = carry + text.slice(start, nl);
        carry = "";
        lineNo++;
        yield line;
        start = nl + 1;
        nl = text.indexOf("\n", start);
      }
      carry += text.slice(start);
      if (carry.length > MAX_LINE_BYTES) throw new DenylistFormatError(`line ${lineNo + 1} is longer than 2 MiB`);
      if (done) break;
    }
    if (carry !== "") yield carry;
  } finally {
    reader.releaseLock();
  }
}

/**
 * The YAML header, read as the flat `key: value` map the spec uses plus the
 * one nested map `hints:`. Unknown fields are ignored ("Implementations
 * SHOULD ignore unknown header fields"); an unsupported `version` rejects the
 * list ("Implementations SHOULD reject parsing denylist versions that they do
 * not support").
 */
export function parseHeader(lines: string[]): ListHeader {
  const header: ListHeader = { version: 1, hints: {}, status: 410 };
  let inHints = false;
  for (const raw of lines) {
    const line = raw.replace(/\r$/, "");
    if (line.trim() === "" || line.trim().startsWith("#")) continue;
    const m = /^(\s*)([A-Za-z0-9_.-]+)\s*:\s*(.*)$/.exec(line);
    if (!m) continue;
    const [, indent, key, rawValue] = m as unknown as [string, string, string, string];
    const value = unquote(rawValue.replace(/\s+#.*$/, "").trim());
    if (indent === "") {
      inHints = key === "hints" && value === "";
      if (key === "version") {
        if (value !== "1") throw new DenylistFormatError(`unsupported denylist version "${value.slice(0, 20)}"`);
      } else if (key === "name" || key === "description" || key === "author") {
        header[key] = value;
      }
    } else if (inHints) {
      header.hints[key] = value;
    }
  }
  const hinted = header.hints.gateway_status ?? header.hints.status;
  if (hinted !== undefined) header.status = parseStatus(hinted) ?? 410;
  return header;
}

function unquote(v: string): string {
  return /^(["']).*\1$/.test(v) ? v.slice(1, -1) : v;
}
