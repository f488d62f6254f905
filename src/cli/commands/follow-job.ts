import { setTimeout as sleep } from "node:timers/promises";
import { CliFailure } from "../cli-error";
import type { OptionValues } from "../command";
import type { Output } from "../output";
import { parseInteger } from "../parse-values";
import { ServiceClient } from "../service-client";
import { resolveService } from "../service-config";

/** What `followJob` needs of a job: `GET /api/v1/migrate/{id}` answers with one (a migration or a Storacha import). */
export interface FollowedJob {
  id: string;
  state: string;
}

/**
 * Starts a job: `POST /api/v1/migrate` with `body` (and `dryRun: true`
 * under `--dry-run`). Returns the service's answer (the job, or the dry
 * run's list), the client to follow it with and `--timeout` in seconds
 * (default 3600).
 */
export async function startJob<A>(options: OptionValues, body: Record<string, unknown>): Promise<{ answer: A; client: ServiceClient; timeoutS: number }> {
  const timeoutS = parseInteger((options.timeout as string | undefined) ?? "3600", "--timeout", 1, 30 * 86400);
  const client = new ServiceClient(await resolveService(options, true));
  const answer = await client.json<A>("/api/v1/migrate", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(options["dry-run"] === true ? { ...body, dryRun: true } : body),
  });
  return { answer, client, timeoutS };
}

/**
 * Polls `GET /api/v1/migrate/{id}` until `finished(job)`, every 250 ms
 * doubling to 5 s; the job's `progressLine` goes to stderr first and
 * whenever it changes. Throws a `timeout` CliFailure once `timeoutS`
 * seconds have passed: the service carries on with the job.
 */
export async function followJob<J extends FollowedJob>(
  client: ServiceClient,
  job: J,
  out: Output,
  timeoutS: number,
  progressLine: (job: J) => string,
  finished: (job: J) => boolean,
): Promise<J> {
  const deadline = Date.now() + timeoutS * 1000;
  let delay = 250;
  let last = progressLine(job);
  out.info(last);
  while (!finished(job)) {
    if (Date.now() > deadline) throw new CliFailure(`migration ${job.id} still ${job.state} after ${timeoutS} s (${last}); the service carries on with it`, "timeout");
    await sleep(delay);
    delay = Math.min(delay * 2, 5000);
    job = await client.json<J>(`/api/v1/migrate/${encodeURIComponent(job.id)}`);
    const line = progressLine(job);
    if (line !== last) out.info(line);
    last = line;
  }
  return job;
}
