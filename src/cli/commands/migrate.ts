import { readFile } from "node:fs/promises";
import { CliFailure, UsageError } from "../cli-error";
import type { Command, OptionValues } from "../command";
import type { Output } from "../output";
import type { MigrateProgress as MigrateJob } from "../../replication/migrate-progress";
import { parseCid, parseSize } from "../parse-values";
import { serviceOptions } from "../service-config";
import { followJob, startJob } from "./follow-job";

/**
 * `migrate content|batch`: copy or move pins between replication backends
 * through `POST /api/v1/migrate` (docs/replication.md "Migration",
 * src/replication/routes.ts), then follow `GET /api/v1/migrate/{id}` until
 * the job is `done` (or --background, or --timeout).
 */
interface DryRun {
  dryRun: true;
  count: number;
  roots: string[];
}

/** The API takes at most this many CIDs per request (routes.ts: "cids must be a list of 1 to 1000 CIDs"). */
const MAX_CIDS = 1000;

const migrateOptions = {
  from: { type: "string", value: "backend", description: "backend the pins are on now (r2 = every pin)" },
  to: { type: "string", value: "backend", description: "backend to copy them to (not r2)" },
  move: { type: "boolean", description: "also remove the copies on --from once every wanted copy is stored (never from r2)" },
  "dry-run": { type: "boolean", description: "only show which pins would be migrated" },
  background: { type: "boolean", description: "return once the job is started instead of waiting for it to be done" },
  timeout: { type: "string", value: "seconds", description: "how long to wait for the job (default 3600)" },
  ...serviceOptions,
} as const;

/** `size > 100MB`, `size < 1GiB`, both joined by `and` or `,` → the API's filter. */
export function parseSizeFilter(text: string): { sizeAbove?: number; sizeBelow?: number } {
  const filter: { sizeAbove?: number; sizeBelow?: number } = {};
  for (const part of text.split(/\s*(?:,|\band\b)\s*/i).filter((p) => p.trim() !== "")) {
    const m = /^\s*size\s*([<>])\s*(.+?)\s*$/i.exec(part);
    if (!m) throw new UsageError(`--filter: "${part.trim()}" is not a filter (examples: "size > 100MB", "size < 1GiB", "size > 1MB and size < 1GB")`);
    const key = m[1] === ">" ? "sizeAbove" : "sizeBelow";
    if (filter[key] !== undefined) throw new UsageError(`--filter: size ${m[1]} is given twice`);
    filter[key] = parseSize(m[2]!, "--filter");
  }
  if (filter.sizeAbove !== undefined && filter.sizeBelow !== undefined && filter.sizeAbove >= filter.sizeBelow) {
    throw new UsageError("--filter: no size is above the lower bound and below the upper one");
  }
  return filter;
}

function backendNames(options: OptionValues): { from: string; to: string; mode: "copy" | "move" } {
  const from = options.from as string | undefined;
  const to = options.to as string | undefined;
  if (!from || !to) throw new UsageError("--from <backend> and --to <backend> are both required (see them with: ipfs-kit backend ls)");
  if (from === to) throw new UsageError("--from and --to must differ");
  return { from, to, mode: options.move ? "move" : "copy" };
}

/** CIDs of a list file: one per line; blank lines and `#` comments skipped; duplicates once. */
async function readCidList(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new CliFailure(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, "bad-input");
  }
  const cids: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*$/, "").trim();
    if (line === "") return;
    try {
      cids.push(parseCid(line).toV1().toString());
    } catch {
      throw new CliFailure(`${path}:${i + 1}: "${line.slice(0, 100)}" is not a CID`, "bad-input");
    }
  });
  return [...new Set(cids)];
}

function progressLine(job: MigrateJob): string {
  return `${job.id}\t${job.state}\tselected ${job.selected}\tcopied ${job.copied}${job.spec.mode === "move" ? `\tremoved ${job.removed}` : ""}\tfailed ${job.failed}`;
}

/**
 * Every selected copy has settled, some as `failed`: the job will not be
 * `done` until the service's own retries store them (an hour for a refused
 * token, 6 h after 8 attempts, never for a bad configuration), so waiting
 * on is no use.
 */
function settledWithFailures(job: MigrateJob): boolean {
  return job.state === "running" && job.failed > 0 && job.copied + job.failed >= job.selected;
}

/**
 * Sends one migration and, unless dry run or --background, follows it.
 * Exit 1 when copies failed (`failed` counts copies on `to` in state
 * `failed`): the CLI stops once every other copy is stored, the service
 * keeps retrying them.
 */
async function runMigration(body: Record<string, unknown>, options: OptionValues, out: Output): Promise<number> {
  const { answer, client, timeoutS: timeout } = await startJob<MigrateJob | DryRun>(options, body);
  if ("dryRun" in answer) {
    const more = answer.count > answer.roots.length ? `\n(${answer.count - answer.roots.length} more not listed)` : "";
    out.result(answer, `${answer.roots.join("\n")}${answer.roots.length ? "\n" : ""}${answer.count} pin${answer.count === 1 ? "" : "s"} would be migrated${more}`);
    return 0;
  }
  if (options.background) {
    out.result(answer, progressLine(answer));
    return 0;
  }
  // Until done, or settled with failures (waiting on is no use then).
  const done = await followJob(client, answer, out, timeout, progressLine, (job) => job.state === "done" || settledWithFailures(job));
  out.result(done, progressLine(done));
  if (done.state === "done") return 0;
  out.info(`${done.failed} cop${done.failed === 1 ? "y" : "ies"} on ${done.spec.to} failed (see why with: ipfs-kit pin status <cid>); the service retries them on its own schedule (docs/replication.md "Retries")`);
  return 1;
}

export const migrateContent: Command = {
  name: "migrate content",
  summary: "copy (or --move) one pin from a replication backend to another, and wait until done",
  usage: "<cid>",
  minArgs: 1,
  maxArgs: 1,
  options: { ...migrateOptions },
  details:
    "POST /api/v1/migrate {from, to, mode, cids: [cid]}, then GET /api/v1/migrate/{id} until the job is done; progress lines (`<id>\\t<state>\\tselected n\\tcopied n[\\tremoved n]\\tfailed n`) go to stderr, the last one to stdout. Only a pinned root with a copy on --from is selected (every pin for --from r2). --json: the job {id, spec, state, selected, copied, removed, failed, created, updated}; with --dry-run {dryRun, count, roots}. Exit 1 if a copy failed or --timeout passed.",
  examples: ["ipfs-kit migrate content bafy... --from pinata --to archive-s3", "ipfs-kit migrate content bafy... --from pinata --to archive-s3 --move --json"],
  async run({ args, options, out }) {
    const cid = parseCid(args[0]!).toV1().toString();
    return runMigration({ ...backendNames(options), cids: [cid] }, options, out);
  },
};

export const migrateBatch: Command = {
  name: "migrate batch",
  summary: "copy (or --move) many pins between replication backends: a CID list, a size filter, or every pin",
  usage: "",
  minArgs: 0,
  maxArgs: 0,
  options: {
    list: { type: "string", value: "file", description: `CIDs to migrate, one per line (# comments; at most ${MAX_CIDS})` },
    filter: { type: "string", value: "expr", description: 'only pins of this DAG size: "size > 100MB", "size < 1GiB", or both joined by "and"' },
    all: { type: "boolean", description: "every pin with a copy on --from (when neither --list nor --filter)" },
    ...migrateOptions,
  },
  details:
    "POST /api/v1/migrate with cids (from --list) and/or filter (sizeAbove/sizeBelow from --filter; --all sends an empty filter), then follows the job like `migrate content`. --dry-run lists the pins that would be migrated (the first 100) and their count. --json: the job, or {dryRun, count, roots}.",
  examples: [
    "ipfs-kit migrate batch --list cids.txt --from pinata --to archive-s3",
    'ipfs-kit migrate batch --filter "size > 100MB" --from r2 --to archive-s3 --dry-run',
    "ipfs-kit migrate batch --all --from pinata --to archive-s3 --move --background --json",
  ],
  async run({ options, out }) {
    const body: Record<string, unknown> = { ...backendNames(options) };
    const list = options.list as string | undefined;
    const filter = options.filter as string | undefined;
    if (list === undefined && filter === undefined && !options.all) throw new UsageError("say which pins: --list <file>, --filter <expr>, or --all");
    if (options.all && (list !== undefined || filter !== undefined)) throw new UsageError("--all cannot be combined with --list or --filter");
    if (filter !== undefined) body.filter = parseSizeFilter(filter);
    if (options.all) body.filter = {};
    if (list !== undefined) {
      const cids = await readCidList(list);
      if (cids.length === 0) throw new CliFailure(`${list} holds no CID`, "bad-input");
      if (cids.length > MAX_CIDS) throw new CliFailure(`${list} holds ${cids.length} CIDs; the service takes at most ${MAX_CIDS} per migration: split the list`, "bad-input");
      body.cids = cids;
    }
    return runMigration(body, options, out);
  },
};
