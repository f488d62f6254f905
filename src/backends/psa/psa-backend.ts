import { CID } from "multiformats/cid";
import {
  BackendError,
  type BackendFactory,
  type BackendTestReport,
  type DagIdentity,
  type DagToStore,
  type ReplicaCheck,
  type ReplicaRef,
  type ReplicationBackend,
  type StoreContext,
  type StoreOutcome,
} from "../replication-backend";
import { networkFailure, psaFailure, REQUEST_TIMEOUT_MS } from "./psa-http";
import { gatewayMultiaddr } from "./gateway-multiaddr";

/** PSA `Status` values (ipfs-pinning-service.yaml components.schemas.Status). */
const STATUSES = new Set(["queued", "pinning", "pinned", "failed"]);
/** The identity CID of no bytes: a round trip any service can complete without fetching anything. */
const TEST_CID = "bafkqaaa";

type PsaPinStatus = { requestid: string; status: "queued" | "pinning" | "pinned" | "failed"; pin: { cid: string }; info?: Record<string, unknown> };

/**
 * A remote IPFS Pinning Service API v1 endpoint (Pinata, Filebase, another
 * ipfs-kit-edge's `/psa`...) as a replication backend. The remote fetches
 * the DAG from us: `POST /pins` names this gateway in `origins` (as a
 * multiaddr with `/https` or `/http`); progress is the remote's `requestid`
 * (checkpointed before anything else, so an evicted attempt never pins
 * twice), and `store` answers `pending` until the remote says `pinned`.
 *
 * Tolerated deviations of real services: 403 for a bad token (treated as
 * 401), `delegates` empty or absent (never needed: the remote dials us),
 * `cid`/`status` filters ignored on `GET /pins` (results are filtered
 * here), `info` absent. 429 and 503 + Retry-After become `rate_limited`.
 *
 * Settings: `endpoint` (base URL, the part before `/pins`), optional
 * `pollMs` (how soon to ask again while the remote works, default 30 s),
 * optional `origins` (multiaddrs sent instead of this gateway's; `[]` sends
 * none: a service that dials every origin over libp2p, as Helia's
 * pinning-service-api-server does, fails a pin whose origin it cannot
 * dial, e.g. an `/https` gateway address).
 * Secret: `BACKEND_<NAME>_TOKEN` (the bearer access token).
 */
export class PsaBackend implements ReplicationBackend {
  readonly type = "psa" as const;
  readonly name: string;
  readonly #endpoint: string;
  readonly #token: string | undefined;
  readonly #pollMs: number;
  readonly #origins: string[] | undefined;

  constructor(name: string, endpoint: string, token: string | undefined, pollMs: number, origins?: string[]) {
    this.name = name;
    this.#endpoint = endpoint.replace(/\/+$/, "");
    this.#token = token;
    this.#pollMs = pollMs;
    this.#origins = origins;
  }

  async store(dag: DagToStore, ctx: StoreContext): Promise<StoreOutcome> {
    const root = dag.root.toV1().toString();
    const earlier = (ctx.progress as { requestid?: unknown } | undefined)?.requestid;
    let status: PsaPinStatus | null = null;
    if (typeof earlier === "string") {
      status = await this.#get(earlier, ctx.signal);
      if (status?.status === "failed") status = null;
    }
    status ??= await this.#findLive(root, ctx.signal);
    if (status === null) {
      const origins = this.#origins ?? [gatewayMultiaddr(dag.gatewayUrl)];
      const body: Record<string, unknown> = { cid: root, ...(origins.length > 0 ? { origins } : {}), meta: dag.meta };
      if (dag.name !== undefined) body.name = dag.name;
      status = await parseStatus(this.#request("POST", "/pins", body, ctx.signal, [200, 201, 202]), "POST /pins");
    }
    if (earlier !== status.requestid) await ctx.checkpoint({ requestid: status.requestid });
    const replica: ReplicaRef = { backend: this.name, remoteId: status.requestid, details: { cid: root, endpoint: this.#endpoint } };
    switch (status.status) {
      case "pinned":
        return { state: "stored", replica, bytes: dag.dagSize };
      case "failed":
        throw new BackendError("retryable", `the remote could not pin ${root}: ${infoText(status)}`);
      default:
        return { state: "pending", replica: { ...replica, details: { ...replica.details, remote_status: status.status } }, retryAfterMs: this.#pollMs, next: "check" };
    }
  }

  async check(replica: ReplicaRef, dag: DagIdentity): Promise<ReplicaCheck> {
    const status = await this.#get(replica.remoteId);
    if (status === null) return { state: "lost", message: `the remote has no pin ${replica.remoteId} any more` };
    if (!sameCid(status.pin.cid, dag.root)) return { state: "lost", message: `the remote pin ${replica.remoteId} is of another CID (${status.pin.cid})` };
    switch (status.status) {
      case "pinned":
        return { state: "stored", details: { remote_status: "pinned" } };
      case "failed":
        return { state: "lost", message: `the remote pin failed: ${infoText(status)}` };
      default:
        return { state: "pending", details: { remote_status: status.status } };
    }
  }

  async remove(replica: ReplicaRef): Promise<void> {
    await this.#request("DELETE", `/pins/${encodeURIComponent(replica.remoteId)}`, undefined, undefined, [200, 202, 204, 404]);
  }

  retrievalUrls(): string[] {
    // A PSA names no retrieval URL; its delegates are libp2p peers (and often empty).
    return [];
  }

  async test(): Promise<BackendTestReport> {
    const started = Date.now();
    const report = (reachable: boolean, authorised: boolean, roundTrip: boolean, message?: string): BackendTestReport => ({
      reachable, authorised, roundTrip, latencyMs: Date.now() - started, ...(message === undefined ? {} : { message }),
    });
    // Without its token nothing is asked: reachability is unknown, said as not shown.
    if (this.#token === undefined) return report(false, false, false, `secret BACKEND_${this.name.toUpperCase().replace(/-/g, "_")}_TOKEN is not set`);
    try {
      await this.#request("GET", "/pins?limit=1", undefined, undefined, [200]);
    } catch (err) {
      const e = networkFailure(err, "GET /pins");
      if (e.kind === "unauthorized") return report(true, false, false, e.message);
      return report(e.message.includes("HTTP "), false, false, e.message);
    }
    try {
      const created = await parseStatus(this.#request("POST", "/pins", { cid: TEST_CID, name: "ipfs-kit-edge backend test" }, undefined, [200, 201, 202]), "POST /pins");
      await this.#get(created.requestid);
      await this.#request("DELETE", `/pins/${encodeURIComponent(created.requestid)}`, undefined, undefined, [200, 202, 204, 404]);
      return report(true, true, true);
    } catch (err) {
      return report(true, true, false, networkFailure(err, "round trip").message);
    }
  }

  async #get(requestid: string, signal?: AbortSignal): Promise<PsaPinStatus | null> {
    const res = await this.#request("GET", `/pins/${encodeURIComponent(requestid)}`, undefined, signal, [200, 404]);
    if (res.status === 404) {
      await res.body?.cancel();
      return null;
    }
    return parseStatus(res, "GET /pins/{requestid}");
  }

  /** A live (not failed) pin of `root` the remote already has: our own earlier attempt, or the user's. */
  async #findLive(root: string, signal?: AbortSignal): Promise<PsaPinStatus | null> {
    const res = await this.#request("GET", `/pins?cid=${root}&status=queued,pinning,pinned&limit=10`, undefined, signal, [200]);
    const body = (await readJson(res, "GET /pins")) as { results?: unknown };
    if (!Array.isArray(body.results)) throw new BackendError("retryable", "GET /pins: the answer has no results array");
    const cid = CID.parse(root);
    // Some services ignore the filters: keep only what matches here.
    for (const item of body.results) {
      const status = validStatus(item);
      if (status !== null && status.status !== "failed" && sameCid(status.pin.cid, cid)) return status;
    }
    return null;
  }

  async #request(method: string, path: string, body: unknown, signal: AbortSignal | undefined, ok: number[]): Promise<Response> {
    if (this.#token === undefined) throw new BackendError("unauthorized", `secret BACKEND_${this.name.toUpperCase().replace(/-/g, "_")}_TOKEN is not set`);
    const what = `${method} ${path.split("?")[0]}`;
    const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    const headers: Record<string, string> = { Authorization: `Bearer ${this.#token}`, Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let res: Response;
    try {
      res = await fetch(this.#endpoint + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
      });
    } catch (err) {
      throw networkFailure(err, what);
    }
    if (!ok.includes(res.status)) throw await psaFailure(res, what);
    return res;
  }
}

async function readJson(res: Response, what: string): Promise<unknown> {
  try {
    return await res.json();
  } catch {
    throw new BackendError("retryable", `${what}: the answer is not JSON`);
  }
}

async function parseStatus(res: Response | Promise<Response>, what: string): Promise<PsaPinStatus> {
  const status = validStatus(await readJson(await res, what));
  if (status === null) throw new BackendError("retryable", `${what}: the answer is not a PinStatus`);
  return status;
}

function validStatus(value: unknown): PsaPinStatus | null {
  if (typeof value !== "object" || value === null) return null;
  const v = value as { requestid?: unknown; status?: unknown; pin?: { cid?: unknown } };
  if (typeof v.requestid !== "string" || v.requestid === "" || typeof v.status !== "string" || !STATUSES.has(v.status)) return null;
  if (typeof v.pin !== "object" || v.pin === null || typeof v.pin.cid !== "string") return null;
  return value as PsaPinStatus;
}

function sameCid(text: string, cid: CID): boolean {
  try {
    return CID.parse(text).multihash.bytes.join() === cid.multihash.bytes.join();
  } catch {
    return false;
  }
}

function infoText(status: PsaPinStatus): string {
  const info = status.info ?? {};
  const text = Object.entries(info).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join(", ");
  return text === "" ? "no details given" : text.slice(0, 300);
}

export const create: BackendFactory = ({ name, settings, secret }) => {
  const endpoint = settings.endpoint;
  if (typeof endpoint !== "string" || !/^https?:\/\/[^/]/.test(endpoint)) {
    throw new BackendError("permanent", `backend "${name}": settings.endpoint must be the service's http(s) base URL`);
  }
  const poll = typeof settings.pollMs === "number" && settings.pollMs >= 0 ? settings.pollMs : 30_000;
  const origins = settings.origins;
  if (origins !== undefined && (!Array.isArray(origins) || !origins.every((o) => typeof o === "string" && o.startsWith("/")))) {
    throw new BackendError("permanent", `backend "${name}": settings.origins must be a list of multiaddrs`);
  }
  return new PsaBackend(name, endpoint, secret("token"), poll, origins as string[] | undefined);
};
