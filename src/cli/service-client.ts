import { CliFailure } from "./cli-error";
import type { Service } from "./service-config";

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array | ReadableStream<Uint8Array>;
  /** Send the bearer token (default true). */
  auth?: boolean;
  /** Statuses that are not failures (default: 2xx). */
  accept?: (status: number) => boolean;
  signal?: AbortSignal;
}

/**
 * HTTP to an ipfs-kit-edge service. Every failure becomes one line naming
 * what failed and what to do: an unreachable endpoint, a refused token
 * (401/403), or the service's own error (the PSA `{error:{reason,details}}`
 * body, or the gateway's text). The token is only ever in the
 * Authorization header, never in a message.
 */
export class ServiceClient {
  constructor(readonly service: Service) {}

  url(path: string): string {
    return `${this.service.endpoint}${path}`;
  }

  async request(path: string, options: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.auth !== false && this.service.token) headers.Authorization = `Bearer ${this.service.token}`;
    let response: Response;
    try {
      response = await fetch(this.url(path), {
        method: options.method ?? "GET",
        headers,
        body: options.body as RequestInit["body"],
        signal: options.signal,
        ...(options.body instanceof ReadableStream ? { duplex: "half" } : {}),
      } as RequestInit);
    } catch (err) {
      throw new CliFailure(`cannot reach ${this.service.endpoint}: ${networkCause(err)}; check ${this.service.endpointSource ?? "--endpoint or IPFS_KIT_URL"}`, "unreachable");
    }
    const ok = options.accept ? options.accept(response.status) : response.ok;
    if (!ok) throw await responseFailure(response, this.service);
    return response;
  }

  async json<T>(path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.request(path, { ...options, headers: { Accept: "application/json", ...options.headers } });
    try {
      return (await response.json()) as T;
    } catch {
      throw new CliFailure(`${this.service.endpoint}${path.split("?")[0]} answered ${response.status} with a body that is not JSON`, "bad-response");
    }
  }
}

export async function responseFailure(response: Response, service: Service): Promise<CliFailure> {
  const text = await response.text().catch(() => "");
  let detail = text.trim().split("\n")[0]!.slice(0, 300);
  try {
    const body = JSON.parse(text) as { error?: { reason?: string; details?: string; message?: string } | string };
    if (typeof body.error === "object" && body.error) detail = [body.error.reason, body.error.details ?? body.error.message].filter(Boolean).join(": ");
    else if (typeof body.error === "string") detail = body.error;
  } catch {
    // not JSON: the first line of the text
  }
  const path = new URL(response.url || service.endpoint).pathname;
  if (response.status === 401 || response.status === 403) {
    return new CliFailure(`${service.endpoint} refused the token${service.tokenSource ? ` from ${service.tokenSource}` : ""} (${response.status}${detail ? `: ${detail}` : ""}); check --token or IPFS_KIT_TOKEN`, "unauthorized");
  }
  if (response.status === 404) return new CliFailure(`not found (404 from ${path})${detail ? `: ${detail}` : ""}`, "not-found");
  return new CliFailure(`${service.endpoint} answered ${response.status} to ${path}${detail ? `: ${detail}` : ""}`, response.status >= 500 ? "service-error" : "rejected");
}

function networkCause(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message ?? String(err);
}
