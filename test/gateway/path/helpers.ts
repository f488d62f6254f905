/**
 * Shared by the path-gateway tests: a worker whose only upstream is a fresh
 * honest personality (its own request log, its own health record),
 * deterministic file contents, and readers of what the worker asked for.
 */
import { env } from "cloudflare:workers";
import { gatewayHealth } from "../../../src/durable-objects/gateway-health";
import type { OutcomeCounts } from "../../../src/gateway/upstream/health-snapshot";
import { requestLog, uniquePersonality, upstreamUrl, withUpstreams, type WorkerWithUpstreams } from "../../helpers/upstream";
import { pseudoRandomBytes } from "../../helpers/pseudo-random";

export { pseudoRandomBytes };

export interface PathGateway extends WorkerWithUpstreams {
  personality: string;
  /** Path and query of every request the upstream received, in order, without the personality prefix. */
  asked(): Promise<string[]>;
  /** What GatewayHealth (region "local") recorded for this upstream, after settle(). */
  counts(): Promise<OutcomeCounts | undefined>;
}

export function pathGateway(personality = "honest", overrides: Partial<Env> = {}): PathGateway {
  const id = uniquePersonality(personality);
  const worker = withUpstreams([id], overrides);
  return {
    ...worker,
    personality: id,
    async asked() {
      return (await requestLog(id)).map((entry) => entry.url.slice(id.length + 1));
    },
    async counts() {
      await worker.settle();
      const snapshot = await gatewayHealth(env, "local").snapshot();
      return snapshot.upstreams.find((u) => u.upstream === upstreamUrl(id))?.counts;
    },
  };
}

/** The trustless CAR request the worker sends for a resume point (see upstream/trustless-gateway.ts carUrl). */
export function carRequest(root: string, path: string, scope: "block" | "entity" | "all", entityBytes?: string): string {
  const eb = entityBytes === undefined ? "" : `&entity-bytes=${entityBytes}`;
  return `/ipfs/${root}${path}?format=car&dag-scope=${scope}${eb}&car-version=1&car-order=dfs&car-dups=y`;
}


export async function bodyBytes(response: Response): Promise<Uint8Array> {
  return new Uint8Array(await response.arrayBuffer());
}

export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
