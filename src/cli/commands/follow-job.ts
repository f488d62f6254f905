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
 * Polls `GET /api/v1/migrate/{id}` until `finished(job)` (`pollUntil`); the
 * job's `progressLine` goes to stderr first and whenever it changes. Throws
 * a `timeout` CliFailure once `timeoutS` seconds have passed: the service
 * carries on with the job.
 */
export async function followJob<J extends FollowedJob>(
  client: ServiceClient,
  job: J,
  out: Output,
  timeoutS: number,
  progressLine: (job: J) => string,
  finished: (job: J) => boolean,
): Promise<J> {
  out.info(progressLine(job));
  return pollUntil(job, {
    next: (j) => client.json<J>(`/api/v1/migrate/${encodeURIComponent(j.id)}`),
    finished,
    line: progressLine,
    out,
    timeoutS,
    timedOut: (j, last) => `migration ${j.id} still ${j.state} after ${timeoutS} s (${last}); the service carries on with it`,
  });
}

/**
 * The CLI's one wait for something the service works on (a migration job,
 * a pin): until `finished(value)`, `next(value)` is asked again every
 * 250 ms doubling to 5 s, and `line(value)` goes to stderr whenever it
 * differs from the previous value's line (the first value's line is the
 * caller's to print or not). Throws a `timeout` CliFailure (exit 1) with
 * `timedOut(value, its line)` once `timeoutS` seconds have passed and the
 * last value is still not finished.
 */
export async function pollUntil<T>(
  value: T,
  poll: { next: (value: T) => Promise<T>; finished: (value: T) => boolean; line: (value: T) => string; out: Output; timeoutS: number; timedOut: (value: T, line: string) => string },
): Promise<T> {
  const deadline = Date.now() + poll.timeoutS * 1000;
  let delay = 250;
  let last = poll.line(value);
  while (!poll.finished(value)) {
    if (Date.now() > deadline) throw new CliFailure(poll.timedOut(value, last), "timeout");
    await sleep(delay);
    delay = Math.min(delay * 2, 5000);
    value = await poll.next(value);
    const line = poll.line(value);
    if (line !== last) poll.out.info(line);
    last = line;
  }
  return value;
}
