import { setTimeout as sleep } from "node:timers/promises";
import { CliFailure } from "../cli-error";
import type { Output } from "../output";
import type { ServiceClient } from "../service-client";

/** What `followJob` needs of a job: `GET /api/v1/migrate/{id}` answers with one (a migration or a Storacha import). */
export interface FollowedJob {
  id: string;
  state: string;
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
