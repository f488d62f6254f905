/**
 * The one `scheduled()` handler: Cron Triggers (wrangler.toml `[triggers]
 * crons`) are told apart by their expression, each runs its job. A job that
 * throws fails the invocation, so the platform records it and retries.
 */
import { probeUpstreams } from "./probe-upstreams";
import { refreshDenylists } from "../denylist/refresh";
import { collectGarbage, GC_CRON } from "../pinning/gc";
import { PROBE_REGION } from "../gateway/upstream/health";
import { BUDGET_CRON, checkBudget } from "./budget-alert";
import { FILECOIN_WATCH_CRON, runFilecoinWatch } from "./filecoin-watch";
import { verifyReplicas, VERIFY_CRON } from "../replication/verify-cron";

/** Every 5 minutes: probe the upstreams (src/cron/probe-upstreams.ts). */
export const PROBE_CRON = "*/5 * * * *";

/** Every 30 minutes: re-fetch the denylists of DENYLIST_URLS (src/denylist/refresh.ts). */
export const DENYLIST_CRON = "*/30 * * * *";

// Health of this deployment's upstreams is kept per region (colo); a cron
// invocation is not a request and carries no colo, so probes are filed under
// PROBE_REGION, which every colo's isolate view merges in (upstream/health.ts).
export { PROBE_REGION };

export async function runScheduled(controller: ScheduledController, env: Env, _ctx: ExecutionContext): Promise<void> {
  switch (controller.cron) {
    case PROBE_CRON:
      await probeUpstreams(env, PROBE_REGION);
      return;
    case DENYLIST_CRON:
      await refreshDenylists(env);
      return;
    case GC_CRON:
      // Blocks no pin holds any more (src/pinning/gc.ts).
      await collectGarbage(env);
      return;
    case BUDGET_CRON:
      // Projected monthly cost against BUDGET_MONTHLY_USD, alert webhook at most once a month (src/cron/budget-alert.ts).
      await checkBudget(env);
      return;
    case FILECOIN_WATCH_CRON:
      // Every Filecoin copy: alive, proven, funded, renewed (src/cron/filecoin-watch.ts).
      await runFilecoinWatch(env, controller.scheduledTime);
      return;
    case VERIFY_CRON:
      // Stored replicas sampled and checked where they live; lost ones stored again (src/replication/verify-cron.ts).
      await verifyReplicas(env);
      return;
    default:
      // A trigger in wrangler.toml without a job here: a deployment mistake, say so loudly.
      throw new Error(`scheduled: no job for cron "${controller.cron}"`);
  }
}
