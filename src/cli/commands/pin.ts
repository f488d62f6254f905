import { open, stat } from "node:fs/promises";
import { join } from "node:path";
import { CliFailure, UsageError } from "../cli-error";
import type { Command, OptionValues } from "../command";
import type { Output } from "../output";
import { looksLikeCid, parseInteger } from "../parse-values";
import { ServiceClient } from "../service-client";
import { withTempDir } from "../temp-dir";
import { resolveService, serviceOptions } from "../service-config";
import { createCarFile, packOptions, readPackOptions } from "./car-create";
import { pollUntil } from "./follow-job";
import { fileByteStream } from "../../car/file-stream";
import { replicaLines, rootStatus } from "./replication";

/** A PSA PinStatus (ipfs-pinning-service.yaml). */
export interface PinStatus {
  requestid: string;
  status: "queued" | "pinning" | "pinned" | "failed";
  created: string;
  pin: { cid: string; name?: string; origins?: string[]; meta?: Record<string, string> };
  delegates: string[];
  info?: Record<string, unknown>;
}

const ALL_STATUSES = "queued,pinning,pinned,failed";

function pinLine(p: PinStatus): string {
  return `${p.requestid}\t${p.status}\t${p.pin.cid}\t${p.pin.name ?? ""}`;
}

function readMeta(values: OptionValues): Record<string, string> | undefined {
  const list = (values.meta as string[] | undefined) ?? [];
  if (list.length === 0) return undefined;
  const meta: Record<string, string> = {};
  for (const kv of list) {
    const i = kv.indexOf("=");
    if (i <= 0) throw new UsageError(`--meta: expected key=value, got "${kv}"`);
    meta[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return meta;
}

/**
 * Polls a pin until it is pinned or failed (as `ipfs pin remote add` waits), at most `timeoutS` seconds
 * (`pollUntil`: a line `<requestid>: <status>` on each change of status).
 */
function waitForPin(client: ServiceClient, status: PinStatus, out: Output, timeoutS: number): Promise<PinStatus> {
  return pollUntil(status, {
    next: (s) => client.json<PinStatus>(`/psa/pins/${encodeURIComponent(s.requestid)}`),
    finished: (s) => s.status !== "queued" && s.status !== "pinning",
    line: (s) => `${s.requestid}: ${s.status}`,
    out,
    timeoutS,
    timedOut: (s) => `pin ${s.requestid} still ${s.status} after ${timeoutS} s; see it with: ipfs-kit pin status ${s.requestid}`,
  });
}

export const pinAdd: Command = {
  name: "pin add",
  summary: "pin a CID, or pack and upload a file or directory and pin it",
  usage: "<cid|file|dir>",
  minArgs: 1,
  maxArgs: 1,
  options: {
    name: { type: "string", value: "name", description: "name of the pin" },
    meta: { type: "string", multiple: true, value: "key=value", description: "pin metadata (repeatable)" },
    background: { type: "boolean", description: "return once the pin is queued instead of waiting for pinned/failed" },
    backend: { type: "string", value: "a,b", description: "replicate to these backends instead of the policy's (sets meta.replication)" },
    timeout: { type: "string", value: "seconds", description: "how long to wait for pinned (default 3600)" },
    ...serviceOptions,
    ...packOptions,
  },
  details:
    "A CID goes through the Pinning Service API (POST /psa/pins). A path is packed into a CAR exactly as `ipfs-kit car create` does (same options) and uploaded to POST /api/v1/upload, which verifies and pins it; an interrupted upload leaves nothing pinned and can simply be run again. Waits until pinned or failed unless --background (exit 1 if failed). --json: the PSA PinStatus {requestid, status, created, pin: {cid, name, meta, origins}, delegates, info}.",
  examples: ["ipfs-kit pin add bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi --name docs", "ipfs-kit pin add ./site --name site --meta env=prod", "ipfs-kit pin add bafy... --background --json"],
  async run({ args, options, out }) {
    const target = args[0]!;
    const client = new ServiceClient(await resolveService(options, true));
    const name = options.name as string | undefined;
    let meta = readMeta(options);
    // The replication policy's per-pin override (issue 9: `meta.replication`, a comma-separated target list).
    if (options.backend !== undefined) meta = { ...meta, replication: String(options.backend) };
    const timeoutS = options.timeout === undefined ? 3600 : parseInteger(String(options.timeout), "--timeout", 1, 864000);
    const isPath = await stat(target).then(
      () => true,
      () => false,
    );
    let status: PinStatus;
    if (!isPath) {
      if (!looksLikeCid(target)) throw new CliFailure(`${target} is neither a CID nor an existing file or directory`, "bad-input");
      status = await client.json<PinStatus>("/psa/pins", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ cid: target, ...(name !== undefined ? { name } : {}), ...(meta ? { meta } : {}) }),
      });
      out.info(`${status.requestid}: ${status.status} ${status.pin.cid}`);
    } else {
      status = await uploadPath(client, target, name, options, out);
      if (meta) {
        // Uploads take a name only; the PSA replace call adds the metadata (the new pin is pinned at once: its DAG is held).
        status = await client.json<PinStatus>(`/psa/pins/${encodeURIComponent(status.requestid)}`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ cid: status.pin.cid, ...(name !== undefined ? { name } : {}), meta }),
        });
      }
    }
    if (!options.background) status = await waitForPin(client, status, out, timeoutS);
    out.result(status, pinLine(status));
    if (status.status === "failed") {
      out.info(`pin ${status.requestid} failed${status.info?.failure_reason ? `: ${String(status.info.failure_reason)}` : ""}`);
      return 1;
    }
    return 0;
  },
};

interface UploadAnswer {
  cid: string;
  requestid: string;
  dag_size: number;
  pins: { cid: string; requestid: string }[];
}

async function uploadPath(client: ServiceClient, path: string, name: string | undefined, options: OptionValues, out: Output): Promise<PinStatus> {
  return withTempDir(async (dir) => {
    const file = join(dir, "upload.car");
    const made = await createCarFile(path, file, readPackOptions(options), out);
    out.info(`packed ${path}: ${made.root} (${made.carBytes} bytes of CAR); uploading to ${client.service.endpoint}`);
    const handle = await open(file, "r");
    try {
      const progress = out.progress("uploading", made.carBytes);
      const body = fileByteStream(handle).pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            progress.add(chunk.length);
            controller.enqueue(chunk);
          },
        }),
      );
      const answer = await client.json<UploadAnswer>(`/api/v1/upload${name !== undefined ? `?name=${encodeURIComponent(name)}` : ""}`, {
        method: "POST",
        headers: { "Content-Type": "application/vnd.ipld.car", "Content-Length": String(made.carBytes) },
        body,
      });
      progress.end();
      if (answer.cid !== made.root.toString()) throw new CliFailure(`the service pinned ${answer.cid}, not the packed root ${made.root}`, "bad-response");
      return await client.json<PinStatus>(`/psa/pins/${encodeURIComponent(answer.requestid)}`);
    } finally {
      await handle.close();
    }
  });
}

export const pinLs: Command = {
  name: "pin ls",
  summary: "list pins (pinned ones unless --status)",
  usage: "",
  minArgs: 0,
  maxArgs: 0,
  options: {
    status: { type: "string", value: "s1,s2|all", description: "queued, pinning, pinned, failed, or all (default pinned)" },
    name: { type: "string", value: "name", description: "only pins with this exact name" },
    cid: { type: "string", value: "cid[,cid]", description: "only pins of these CIDs (up to 10)" },
    limit: { type: "string", value: "n", description: "at most n pins, newest first (default 1000)" },
    ...serviceOptions,
  },
  details: "One line per pin: `<requestid>\\t<status>\\t<cid>\\t<name>`. --json: {count, results: [PinStatus]} (count: all matches, results: at most --limit).",
  examples: ["ipfs-kit pin ls", "ipfs-kit pin ls --status all --name site", "ipfs-kit pin ls --status failed --json"],
  async run({ options, out }) {
    const client = new ServiceClient(await resolveService(options, true));
    const query = new URLSearchParams();
    const status = options.status as string | undefined;
    if (status !== undefined) {
      const list = status === "all" ? ALL_STATUSES : status;
      for (const s of list.split(",")) if (!ALL_STATUSES.split(",").includes(s)) throw new UsageError(`--status: "${s}" is not one of ${ALL_STATUSES} or all`);
      query.set("status", list);
    }
    if (options.name !== undefined) query.set("name", String(options.name));
    if (options.cid !== undefined) query.set("cid", String(options.cid));
    query.set("limit", String(options.limit === undefined ? 1000 : parseInteger(String(options.limit), "--limit", 1, 1000)));
    const page = await client.json<{ count: number; results: PinStatus[] }>(`/psa/pins?${query}`);
    out.result({ count: page.count, results: page.results }, page.results.map(pinLine).join("\n"));
    if (page.count > page.results.length) out.info(`${page.results.length} of ${page.count} pins shown (--limit)`);
    return 0;
  },
};

/** The pins a argument names: a request id, or every pin of a CID (any status). */
async function pinsOf(client: ServiceClient, target: string): Promise<PinStatus[]> {
  if (looksLikeCid(target)) {
    const page = await client.json<{ count: number; results: PinStatus[] }>(`/psa/pins?cid=${encodeURIComponent(target)}&status=${ALL_STATUSES}&limit=1000`);
    if (page.results.length === 0) throw new CliFailure(`no pin of ${target} in this account`, "not-found");
    return page.results;
  }
  return [await client.json<PinStatus>(`/psa/pins/${encodeURIComponent(target)}`)];
}

export const pinStatus: Command = {
  name: "pin status",
  summary: "show a pin by request id, or every pin of a CID",
  usage: "<requestid|cid>",
  minArgs: 1,
  maxArgs: 1,
  options: { ...serviceOptions },
  details:
    "One line per pin as in pin ls; where the service has the replication API, then `<cid>\\taggregate\\t<state>` and one `<cid>\\treplica\\t<backend>\\t<state>\\t<bytes>\\t<last error>` line per copy. Exit 1 if a pin failed or the aggregate is failed or lost. --json: {results: [PinStatus], replication: {cid, aggregate, pins, dagSize, carSize, plan, replicas: [...]} | null}.",
  examples: ["ipfs-kit pin status 0b1c...", "ipfs-kit pin status bafy... --json"],
  async run({ args, options, out }) {
    const client = new ServiceClient(await resolveService(options, true));
    const pins = await pinsOf(client, args[0]!);
    // Every replica of the pinned root, where the service has the replication API (null otherwise).
    const replication = await rootStatus(client, pins[0]!.pin.cid);
    out.result({ results: pins, replication }, [...pins.map(pinLine), ...(replication ? replicaLines(replication) : [])].join("\n"));
    for (const p of pins) if (p.info && Object.keys(p.info).length > 0) out.info(`${p.requestid}: ${JSON.stringify(p.info)}`);
    const unhealthy = replication !== null && (replication.aggregate === "failed" || replication.aggregate === "lost");
    return pins.some((p) => p.status === "failed") || unhealthy ? 1 : 0;
  },
};

export const pinRm: Command = {
  name: "pin rm",
  summary: "remove a pin by request id, or every pin of a CID",
  usage: "<requestid|cid>",
  minArgs: 1,
  maxArgs: 1,
  options: { ...serviceOptions },
  details: "--json: {removed: [requestid]}.",
  examples: ["ipfs-kit pin rm 0b1c...", "ipfs-kit pin rm bafy..."],
  async run({ args, options, out }) {
    const client = new ServiceClient(await resolveService(options, true));
    const pins = await pinsOf(client, args[0]!);
    const removed: string[] = [];
    for (const p of pins) {
      await client.request(`/psa/pins/${encodeURIComponent(p.requestid)}`, { method: "DELETE" });
      removed.push(p.requestid);
    }
    out.result({ removed }, removed.join("\n"));
    return 0;
  },
};
