import type { StorachaJobProgress as StorachaJob } from "../../legacy/storacha-job-progress";
import type { Command } from "../command";
import { serviceOptions } from "../service-config";
import { followJob, startJob } from "./follow-job";

/**
 * `migrate storacha`: pins every root of the service's Storacha legacy
 * space into this account and watches their deals, through
 * `POST /api/v1/migrate {"from": "storacha"}` (docs/storacha.md), then
 * follows `GET /api/v1/migrate/{id}` until the job is done or failed.
 */
interface StorachaDryRun {
  dryRun: true;
  source: "storacha";
  space: string;
  roots: string[];
  more: boolean;
}

function progressLine(job: StorachaJob): string {
  const retry = job.lastError !== null && job.state === "listing" ? `\tretrying: ${job.lastError}` : "";
  return `${job.id}\t${job.state}\tlisted ${job.listed}\tcreated ${job.created}\treused ${job.reused}\tpinned ${job.pins.pinned}\tdeals ${job.dealsWatched}\tfailed ${job.failed + job.pins.failed}${retry}`;
}

export const migrateStoracha: Command = {
  name: "migrate storacha",
  summary: "pin every root of the service's Storacha (web3.storage) legacy space here and watch its Filecoin deals",
  usage: "",
  minArgs: 0,
  maxArgs: 0,
  options: {
    "dry-run": { type: "boolean", description: "only list the space's first 100 roots" },
    background: { type: "boolean", description: "return once the job is started" },
    timeout: { type: "string", value: "seconds", description: "how long to wait for the job (default 3600)" },
    ...serviceOptions,
  },
  details:
    "POST /api/v1/migrate {from: \"storacha\"} (the account must be in the service's STORACHA_ACCOUNTS), then GET /api/v1/migrate/{id} until done; progress lines (`<id>\\t<state>\\tlisted n\\tcreated n\\treused n\\tpinned n\\tdeals n\\tfailed n`) go to stderr, the last to stdout. A root already pinned in the account is reused, never pinned twice. --json: the job; with --dry-run {dryRun, source, space, roots, more}. Exit 1 if the job failed (delegation refused) or roots failed, or --timeout passed.",
  examples: ["ipfs-kit migrate storacha --dry-run", "ipfs-kit migrate storacha --json"],
  async run({ options, out }) {
    const { answer, client, timeoutS: timeout } = await startJob<StorachaJob | StorachaDryRun>(options, { from: "storacha" });
    if ("dryRun" in answer) {
      const more = answer.more ? "\n(more in the space: the dry run lists the first 100)" : "";
      out.result(answer, `${answer.roots.join("\n")}${answer.roots.length ? "\n" : ""}${answer.roots.length} root${answer.roots.length === 1 ? "" : "s"} of ${answer.space} would be pinned${more}`);
      return 0;
    }
    if (options.background) {
      out.result(answer, progressLine(answer));
      return 0;
    }
    const job = await followJob(client, answer, out, timeout, progressLine, (j) => j.state === "done" || j.state === "failed");
    out.result(job, progressLine(job));
    if (job.state === "failed") {
      out.info(`the job failed: ${job.lastError ?? "unknown error"}`);
      return 1;
    }
    const failed = job.failed + job.pins.failed;
    if (failed > 0) {
      for (const e of job.errors) out.info(`${e.root}: ${e.error}`);
      out.info(`${failed} root${failed === 1 ? "" : "s"} failed; run the migration again to retry them (pinned roots are reused)`);
      return 1;
    }
    return 0;
  },
};
