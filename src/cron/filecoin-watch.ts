/**
 * Cron job: one monitoring run of the Filecoin watch (src/durable-objects/
 * filecoin-watch.ts) at the trigger's scheduled time. The run is bounded;
 * copies it did not reach continue from the object's alarm.
 */
import type { RunSummary } from "../durable-objects/filecoin-watch";

/** At :07 and :37 (between the other jobs): every copy is checked about twice an hour. */
export const FILECOIN_WATCH_CRON = "7,37 * * * *";

/** The single watch object of the deployment. */
export function filecoinWatch(env: Env): DurableObjectStub<import("../durable-objects/filecoin-watch").FilecoinWatch> {
  return env.FILECOIN_WATCH.get(env.FILECOIN_WATCH.idFromName("filecoin-watch"));
}

export async function runFilecoinWatch(env: Env, scheduledTime: number): Promise<RunSummary> {
  return filecoinWatch(env).run(scheduledTime);
}
