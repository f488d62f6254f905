import { CliFailure } from "../cli-error";
import type { Command } from "../command";
import { ServiceClient } from "../service-client";
import { resolveService, serviceOptions } from "../service-config";

/**
 * The replication API (docs/replication.md, src/replication/routes.ts):
 * `GET /api/v1/pins/{cid}` (unified status: R2 plus every replica, a
 * pessimistic aggregate), `GET /api/v1/backends` and
 * `POST /api/v1/backends/{name}/test` (operator token).
 */
export interface RootStatus {
  cid: string;
  aggregate: string;
  pins: { requestid: string; status: string; name: string | null; created: string }[];
  dagSize: number | null;
  carSize: number | null;
  plan: { backends: string[]; minCopies: number; rule: string; problems: string[] } | null;
  replicas: { backend: string; state: string; bytes: number | null; lastError: string | null; remoteId: string | null; storedAt: string | null; checkedAt: string | null; details: Record<string, unknown> }[];
}

/**
 * The unified status of `cid`, or null when the service has no replication
 * API (an older deployment: 404 on the route) or no pin of it.
 */
export async function rootStatus(client: ServiceClient, cid: string): Promise<RootStatus | null> {
  try {
    return await client.json<RootStatus>(`/api/v1/pins/${encodeURIComponent(cid)}`);
  } catch (err) {
    if (err instanceof CliFailure && err.kind === "not-found") return null;
    throw err;
  }
}

export function replicaLines(status: RootStatus): string[] {
  return [
    `${status.cid}\taggregate\t${status.aggregate}${status.plan ? `\tplan ${status.plan.backends.join(",")} (min ${status.plan.minCopies}, ${status.plan.rule})` : ""}`,
    ...status.replicas.map((r) => `${status.cid}\treplica\t${r.backend}\t${r.state}\t${r.bytes ?? "-"}\t${r.lastError ?? ""}`),
  ];
}

/** The backend routes take the operator token only: a refused account token is told so. */
async function asOperator<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof CliFailure && err.kind === "unauthorized") throw new CliFailure(`${err.message} (backend commands need the operator token: the service's ADMIN_TOKEN)`, err.kind);
    throw err;
  }
}

export const backendLs: Command = {
  name: "backend ls",
  summary: "list the replication backends the service is configured with, and its policy (operator token)",
  usage: "",
  minArgs: 0,
  maxArgs: 0,
  options: { ...serviceOptions },
  details: "GET /api/v1/backends. One line per backend: `<name>\\t<type>`. --json: {backends: [{name, type, settings}], policy}.",
  examples: ["IPFS_KIT_TOKEN=$ADMIN_TOKEN ipfs-kit backend ls", "ipfs-kit backend ls --json | jq .policy"],
  async run({ options, out }) {
    const client = new ServiceClient(await resolveService(options, true));
    const answer = await asOperator(() => client.json<{ backends: { name: string; type: string; settings: unknown }[]; policy: unknown }>("/api/v1/backends"));
    out.result(answer, answer.backends.map((b) => `${b.name}\t${b.type}`).join("\n"));
    return 0;
  },
};

export const backendTest: Command = {
  name: "backend test",
  summary: "test a replication backend from the service: reachable, authorised, a small round trip (operator token)",
  usage: "<name>",
  minArgs: 1,
  maxArgs: 1,
  options: { ...serviceOptions },
  details: "POST /api/v1/backends/{name}/test. Exit 1 unless reachable, authorised and the round trip worked. --json: {name, type, reachable, authorised, roundTrip, latencyMs, message?}.",
  examples: ["IPFS_KIT_TOKEN=$ADMIN_TOKEN ipfs-kit backend test s3-archive"],
  async run({ args, options, out }) {
    const client = new ServiceClient(await resolveService(options, true));
    const r = await asOperator(() =>
      client.json<{ name: string; type: string; reachable: boolean; authorised: boolean; roundTrip: boolean; latencyMs: number; message?: string }>(
        `/api/v1/backends/${encodeURIComponent(args[0]!)}/test`,
        { method: "POST" },
      ),
    );
    const ok = r.reachable && r.authorised && r.roundTrip;
    out.result(r, `${r.name}\t${r.type}\t${ok ? "ok" : "FAIL"}\treachable=${r.reachable}\tauthorised=${r.authorised}\troundTrip=${r.roundTrip}\t${r.latencyMs} ms${r.message ? `\t${r.message}` : ""}`);
    return ok ? 0 : 1;
  },
};
