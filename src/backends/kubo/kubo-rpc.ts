import { backendFetch, DEFAULT_RATE_LIMIT_MS, errorBodyText, errorForStatus, retryAfterMs } from "../backend-http";
import { BackendError } from "../replication-backend";

/**
 * Kubo's RPC API (https://docs.ipfs.tech/reference/kubo/rpc/): every call is
 * a `POST /api/v0/<command>?arg=...` (GET answers 405); a failed command
 * answers HTTP 500 (400/404/403 for some kinds) with
 * `{"Message": "...", "Code": <cmds.ErrorType>, "Type": "error"}`.
 */
export interface KuboErrorBody {
  Message: string;
  Code: number;
  Type: "error";
}

/**
 * `cmds.ErrorType` of go-ipfs-cmds (`error.go`: ErrNormal 0, ErrClient 1,
 * ErrImplementation 2, ErrRateLimited 3, ErrForbidden 4, ErrBlocked 5) →
 * our kinds. ErrNormal is what Kubo uses for most failures, transient or
 * not: retryable, the engine's attempts bound it.
 */
export function kuboErrorKind(body: KuboErrorBody, status: number): BackendError["kind"] {
  // A block over Kubo's 1 MiB limit will be refused again: the DAG cannot go to this node.
  if (/block is over 1MiB/.test(body.Message)) return "permanent";
  switch (body.Code) {
    case 1: // invalid argument
    case 5: // content blocked (the node's denylist)
      return "permanent";
    case 3:
      return "rate_limited";
    case 4:
      return "unauthorized";
    default:
      if (status === 401 || status === 403) return "unauthorized";
      if (status === 429) return "rate_limited";
      return status >= 400 && status < 500 && status !== 408 ? "permanent" : "retryable";
  }
}

/** A Kubo command that failed with Kubo's error body; `message` is Kubo's own. */
export class KuboCommandError extends BackendError {
  readonly kuboMessage: string;

  constructor(command: string, body: KuboErrorBody, status: number, retryAfterMs?: number) {
    super(kuboErrorKind(body, status), `Kubo ${command}: ${body.Message.slice(0, 300)}`, retryAfterMs);
    this.kuboMessage = body.Message;
  }
}

export class KuboRpc {
  readonly #base: string;
  readonly #authorization: () => string;

  /** `base`: the RPC address (`http(s)://host:5001`); `authorization`: the `Authorization` header value. */
  constructor(base: string, authorization: () => string) {
    this.#base = base;
    this.#authorization = authorization;
  }

  /** POSTs a command; resolves the 2xx response, throws a `BackendError` (a `KuboCommandError` when Kubo said why). */
  async call(
    command: string,
    params: [string, string][],
    init: { body?: ReadableStream<Uint8Array>; contentType?: string; signal?: AbortSignal } = {},
  ): Promise<Response> {
    const url = `${this.#base}/api/v0/${command}?${new URLSearchParams(params).toString()}`;
    const headers: Record<string, string> = { Authorization: this.#authorization() };
    if (init.contentType !== undefined) headers["Content-Type"] = init.contentType;
    const response = await backendFetch(`Kubo ${command}`, url, { method: "POST", headers, body: init.body ?? null, signal: init.signal });
    if (response.ok) return response;
    const text = await errorBodyText(response, 2000);
    const body = parseErrorBody(text);
    if (body === undefined) throw errorForStatus(`Kubo ${command}`, response, text.slice(0, 200));
    const kind = kuboErrorKind(body, response.status);
    const wait = kind === "rate_limited" ? (retryAfterMs(response.headers.get("Retry-After")) ?? DEFAULT_RATE_LIMIT_MS) : undefined;
    throw new KuboCommandError(command, body, response.status, wait);
  }

  /** A command whose answer is one JSON object. */
  async json<T>(command: string, params: [string, string][]): Promise<T> {
    const response = await this.call(command, params);
    try {
      return (await response.json()) as T;
    } catch {
      throw new BackendError("retryable", `Kubo ${command}: the answer is not JSON`);
    }
  }
}

export function parseErrorBody(text: string): KuboErrorBody | undefined {
  try {
    const body = JSON.parse(text) as Partial<KuboErrorBody>;
    if (typeof body.Message === "string" && body.Type === "error") return { Message: body.Message, Code: Number(body.Code ?? 0), Type: "error" };
  } catch {
    // Not Kubo's error body (a proxy's page, a 403 from the auth layer).
  }
  return undefined;
}

/**
 * The `Authorization` header for Kubo's `API.Authorizations` secret, given
 * in Kubo's own `AuthSecret` form (https://github.com/ipfs/kubo/blob/master/docs/config.md#apiauthorizations):
 * `bearer:<token>` → `Bearer <token>`; `basic:<user>:<password>` → `Basic base64(user:password)`;
 * no prefix means bearer.
 */
export function authorizationHeader(authSecret: string): string {
  if (authSecret.startsWith("basic:")) return `Basic ${btoa(authSecret.slice("basic:".length))}`;
  if (authSecret.startsWith("bearer:")) return `Bearer ${authSecret.slice("bearer:".length)}`;
  return `Bearer ${authSecret}`;
}
