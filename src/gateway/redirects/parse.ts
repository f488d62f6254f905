/**
 * Parser of the `_redirects` file (https://specs.ipfs.tech/http-gateways/web-redirects-file/, "File Format").
 *
 * The file is untrusted input from whoever published the DAG: it is parsed
 * in bounded time and memory (64 KiB cap, "Max File Size"), and any defect is
 * a `RedirectsFileError` whose message starts with `could not parse _redirects:`
 * (the wording the gateway conformance suite asserts). Per "Error Handling" the
 * gateway answers such errors with a 500.
 */

/** "Max File Size": the file size MUST NOT exceed 64 KiB. */
export const MAX_REDIRECTS_FILE_BYTES = 64 * 1024;

/** "Status": the codes the spec lists; 301 is the default. */
export const REDIRECT_STATUSES = [200, 301, 302, 303, 307, 308, 404, 410, 451] as const;
export type RedirectStatus = (typeof REDIRECT_STATUSES)[number];

/** One segment of a `from` pattern. */
export type FromSegment =
  | { kind: "literal"; value: string } // compared percent-decoded
  | { kind: "placeholder"; name: string } // `:name`, matches one segment
  | { kind: "splat" }; // trailing `*`, matches the rest (0+ segments)

export interface RedirectRule {
  /** The `from` field as written. */
  from: string;
  /** The `to` field as written (path or absolute URL, may hold `:name` / `:splat`). */
  to: string;
  status: RedirectStatus;
  /** `from` split into segments; a splat can only be last. */
  segments: FromSegment[];
  /** 1-based line number in the file, for messages. */
  line: number;
}

/**
 * A `_redirects` file that cannot be used. The gateway must answer 500 with
 * this message ("Error Handling"); the message never echoes more than a short
 * excerpt of the offending line.
 */
export class RedirectsFileError extends Error {
  constructor(detail: string) {
    super(`could not parse _redirects: ${detail}`);
    this.name = "RedirectsFileError";
  }
}

const STATUS_SET: ReadonlySet<number> = new Set(REDIRECT_STATUSES);
const PLACEHOLDER = /^:([A-Za-z_][A-Za-z0-9_]*)$/;

/**
 * Parse a `_redirects` file into its rules, in file order ("Order": the first
 * matching rule wins).
 *
 * @example
 * const rules = parseRedirects("/posts/* /articles/:splat 301\n");
 * matchRedirect(rules, "/posts/2022/hi"); // { to: "/articles/2022/hi", status: 301, ... }
 */
export function parseRedirects(file: string | Uint8Array): RedirectRule[] {
  const bytes = typeof file === "string" ? utf8Length(file) : file.byteLength;
  if (bytes > MAX_REDIRECTS_FILE_BYTES) {
    throw new RedirectsFileError(`redirects file size cannot exceed ${MAX_REDIRECTS_FILE_BYTES} bytes`);
  }
  const text = typeof file === "string" ? file : decodeUtf8(file);

  const rules: RedirectRule[] = [];
  // "Line Termination": `\n` or `\r\n`; the last line needs no terminator.
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    // "Whitespace Characters": leading/trailing spaces and tabs are ignored.
    const line = (lines[i] as string).replace(/\r$/, "").replace(/^[ \t]+|[ \t]+$/g, "");
    if (line === "" || line.startsWith("#")) continue; // blank line, "Comments"
    rules.push(parseLine(line, i + 1));
  }
  return rules;
}

function parseLine(line: string, lineNo: number): RedirectRule {
  const at = `line ${lineNo}`;
  const fields = line.split(/[ \t]+/);
  if (fields.length < 2) throw new RedirectsFileError(`${at}: missing destination path: "${excerpt(line)}"`);
  if (fields.length > 3) throw new RedirectsFileError(`${at}: must match format "from to [status]": "${excerpt(line)}"`);
  const [from, to, statusField] = fields as [string, string, string | undefined];

  if (!from.startsWith("/")) throw new RedirectsFileError(`${at}: "from" must be a path starting with "/": "${excerpt(from)}"`);
  if (!isValidTarget(to)) {
    throw new RedirectsFileError(`${at}: "to" must be a path starting with "/" or an http(s) URL: "${excerpt(to)}"`);
  }
  return { from, to, status: parseStatus(statusField, at), segments: parseFrom(from, at), line: lineNo };
}

function parseStatus(field: string | undefined, at: string): RedirectStatus {
  if (field === undefined) return 301; // "Status": 301 is the default
  // "No Forced Redirects": rules only apply to paths absent from the DAG, so
  // Netlify's `!` (shadowing) cannot be honoured and is rejected.
  if (field.endsWith("!")) throw new RedirectsFileError(`${at}: forced redirects (or "shadowing") are not supported`);
  if (!/^[0-9]{1,3}$/.test(field)) throw new RedirectsFileError(`${at}: status "${excerpt(field)}" is not a number`);
  const code = Number(field);
  if (!STATUS_SET.has(code)) throw new RedirectsFileError(`${at}: status code ${code} is not supported`);
  return code as RedirectStatus;
}

function parseFrom(from: string, at: string): FromSegment[] {
  const parts = splitPath(from);
  const seen = new Set<string>();
  const segments: FromSegment[] = [];
  parts.forEach((part, i) => {
    // "Catch-All Splat": only a single trailing `*` is a splat.
    if (part === "*" && i === parts.length - 1) {
      segments.push({ kind: "splat" });
      return;
    }
    const placeholder = PLACEHOLDER.exec(part);
    if (placeholder) {
      const name = placeholder[1] as string;
      // "Placeholders": MUST error when a name is used more than once in `from`.
      if (name === "splat" || seen.has(name)) {
        throw new RedirectsFileError(`${at}: placeholder ":${name}" is used more than once in "from"`);
      }
      seen.add(name);
      segments.push({ kind: "placeholder", name });
      return;
    }
    segments.push({ kind: "literal", value: safeDecode(part) });
  });
  return segments;
}

/** Segments of a path without the empty ones made by leading/trailing/double slashes. */
export function splitPath(path: string): string[] {
  return path.split("/").filter((s) => s !== "");
}

/** Percent-decode one segment; a malformed escape is compared literally. */
export function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function isValidTarget(to: string): boolean {
  if (to.startsWith("/")) return !to.startsWith("//"); // `//host` would leave the origin
  try {
    const url = new URL(to);
    return url.protocol === "https:" || url.protocol === "http:";
  } catch {
    return false;
  }
}

function excerpt(s: string): string {
  return s.length > 64 ? `${s.slice(0, 64)}…` : s;
}

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
    if (n > MAX_REDIRECTS_FILE_BYTES) return n; // enough to know it is too large
  }
  return n;
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new RedirectsFileError("file is not valid UTF-8");
  }
}
