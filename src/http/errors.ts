/**
 * Errors that carry their HTTP meaning. Every failure a request can meet is
 * one of these; `error-response.ts` turns them into responses in one place
 * (the boxo `webError` / helia `error-to-response` pattern).
 *
 * The message is safe to show to the client: it never embeds secrets, and
 * user input is only echoed where the spec asks for it (e.g. an invalid path).
 */
export type ErrorKind =
  | "bad_request" // 400: malformed CID, path, parameter or header
  | "unauthorized" // 401
  | "forbidden" // 403
  | "not_found" // 404: every source said the content is absent
  | "not_acceptable" // 406: the requested representation cannot be produced
  | "conflict" // 409
  | "gone" // 410
  | "precondition_failed" // 412: e.g. Cache-Control: only-if-cached miss
  | "payload_too_large" // 413
  | "range_not_satisfiable" // 416
  | "unavailable_for_legal_reasons" // 451
  | "internal_error" // 500: content the gateway must interpret is defective (e.g. an unparsable _redirects file)
  | "not_implemented" // 501: valid request for something we do not support
  | "bad_gateway" // 502: upstreams failed or lied
  | "gateway_timeout"; // 504: upstreams too slow

const STATUS: Record<ErrorKind, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  not_acceptable: 406,
  conflict: 409,
  gone: 410,
  precondition_failed: 412,
  payload_too_large: 413,
  range_not_satisfiable: 416,
  unavailable_for_legal_reasons: 451,
  internal_error: 500,
  not_implemented: 501,
  bad_gateway: 502,
  gateway_timeout: 504,
};

export class HttpError extends Error {
  readonly kind: ErrorKind;
  /** Extra headers the response must carry (e.g. Retry-After, Content-Range). */
  readonly headers: Record<string, string>;

  constructor(kind: ErrorKind, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = "HttpError";
    this.kind = kind;
    this.headers = headers;
  }

  get status(): number {
    return STATUS[this.kind];
  }
}

export const badRequest = (message: string) => new HttpError("bad_request", message);
export const notFound = (message: string) => new HttpError("not_found", message);
export const notAcceptable = (message: string) => new HttpError("not_acceptable", message);
export const notImplemented = (message: string) => new HttpError("not_implemented", message);
