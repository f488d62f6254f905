/**
 * Cron probe of every configured upstream through the trustless gateway
 * spec's dedicated probe path (trustless-gateway.md, "Appendix: Notes for
 * implementers, Dedicated Probe Paths"): `GET /ipfs/bafkqaaa`, the identity
 * CID of zero bytes, which a trustless gateway answers without retrieving
 * anything:
 * - `?format=raw` with `Accept: application/vnd.ipld.raw` MUST be `200 OK`
 *   with an empty body;
 * - `?format=car` with `Accept: application/vnd.ipld.car` MUST be `200 OK`
 *   with a valid CAR whose header roots are `[bafkqaaa]` (the identity block
 *   MAY be skipped in the data section).
 * The results go to the region's GatewayHealth in one `recordProbe()` call,
 * where they move the circuit (a passing probe closes a half-open one).
 */
import { createDecoder, bytesReader } from "@ipld/car/decoder";
import { CID } from "multiformats/cid";
import { gatewayHealth } from "../durable-objects/gateway-health";
import type { ProbeCheck, ProbeResult } from "../gateway/upstream/health-snapshot";
import { parseUpstreams } from "../gateway/upstream/upstream-list";
import { readBounded } from "../http/read-bounded";

export const PROBE_CID = CID.parse("bafkqaaa");
/** Each check gets this long for its whole response (headers and body). */
export const PROBE_TIMEOUT_MS = 5000;
/** A probe response larger than this is not the tiny answer the spec asks for; stop reading. */
const MAX_PROBE_BODY_BYTES = 64 * 1024;

const ACCEPT = { raw: "application/vnd.ipld.raw", car: "application/vnd.ipld.car" } as const;

export interface ProbeOptions {
  /** Overrides PROBE_TIMEOUT_MS (tests use a short one against a slow upstream). */
  timeoutMs?: number;
}

/**
 * Probe every upstream in `env.UPSTREAMS` (in parallel), record the results in
 * `region`'s GatewayHealth and return them.
 *
 * @example await probeUpstreams(env, "local") // [{ upstream, at, ok, checks: [raw, car] }, ...]
 */
export async function probeUpstreams(env: Env, region: string, options: ProbeOptions = {}): Promise<ProbeResult[]> {
  const timeoutMs = options.timeoutMs ?? PROBE_TIMEOUT_MS;
  const upstreams = parseUpstreams(env.UPSTREAMS);
  const results = await Promise.all(upstreams.map((upstream) => probeUpstream(upstream, timeoutMs)));
  if (results.length > 0) await gatewayHealth(env, region).recordProbe(results);
  return results;
}

async function probeUpstream(upstream: string, timeoutMs: number): Promise<ProbeResult> {
  const at = Date.now();
  const checks = await Promise.all([check(upstream, "raw", timeoutMs), check(upstream, "car", timeoutMs)]);
  return { upstream, at, ok: checks.every((c) => c.ok), checks };
}

async function check(upstream: string, kind: "raw" | "car", timeoutMs: number): Promise<ProbeCheck> {
  const signal = AbortSignal.timeout(timeoutMs);
  const failed = (status: number | null, ttfbMs: number | null, error: string): ProbeCheck => ({
    kind,
    ok: false,
    status,
    ttfbMs,
    error,
  });
  const started = Date.now();
  let response: Response;
  try {
    response = await fetch(`${upstream}/ipfs/${PROBE_CID}?format=${kind}`, {
      headers: { Accept: ACCEPT[kind] },
      signal,
    });
  } catch (err) {
    return failed(null, null, signal.aborted ? `no response within ${timeoutMs} ms` : `request failed: ${messageOf(err)}`);
  }
  const ttfbMs = Date.now() - started;
  const status = response.status;
  if (status !== 200) {
    await response.body?.cancel().catch(() => {});
    return failed(status, ttfbMs, `expected status 200, got ${status}`);
  }
  let body: Uint8Array | undefined;
  try {
    body = await readBounded(response, MAX_PROBE_BODY_BYTES);
  } catch (err) {
    return failed(status, ttfbMs, signal.aborted ? `body not complete within ${timeoutMs} ms` : `reading the body failed: ${messageOf(err)}`);
  }
  if (body === undefined) return failed(status, ttfbMs, `body larger than ${MAX_PROBE_BODY_BYTES} bytes`);
  const problem = kind === "raw" ? emptyBodyProblem(body) : await carProblem(body);
  return problem === null ? { kind, ok: true, status, ttfbMs, error: null } : failed(status, ttfbMs, problem);
}

function emptyBodyProblem(body: Uint8Array): string | null {
  return body.length === 0 ? null : `expected an empty body (bafkqaaa is zero bytes), got ${body.length} bytes`;
}

/** A CARv1 whose roots are exactly [bafkqaaa] and whose blocks, if any, are bafkqaaa with zero bytes. */
async function carProblem(body: Uint8Array): Promise<string | null> {
  try {
    const decoder = createDecoder(bytesReader(body));
    const header = await decoder.header();
    if (header.version !== 1) return `expected a CARv1, got version ${header.version}`;
    if (header.roots.length !== 1 || !header.roots[0]!.equals(PROBE_CID)) {
      return `expected CAR roots [${PROBE_CID}], got [${header.roots.join(", ")}]`;
    }
    for await (const block of decoder.blocks()) {
      if (!block.cid.equals(PROBE_CID) || block.bytes.length !== 0) return `unexpected block ${block.cid} in the CAR`;
    }
    return null;
  } catch (err) {
    return `not a valid CAR: ${messageOf(err)}`;
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
