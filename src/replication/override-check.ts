import { backendConfigs } from "../backends/backend-config";
import { badRequest } from "../http/errors";
import { OVERRIDE_META, planFor, replicationPolicy } from "./policy";

/**
 * Refuses (400) a pin whose `meta.replication` names targets this
 * deployment cannot follow (a malformed target, a backend that is not
 * configured, more copies of a type than there are backends), before any
 * state is created: a client asking for a copy it would never get must be
 * told so, not find a plan problem in the status later. Nothing to check
 * when the pin has no override or the operator does not allow overrides
 * (then the key is ordinary meta, docs/replication.md).
 *
 * @example checkReplicationOverride(env, { replication: "r2,pinata" }) // ok, or throws HttpError bad_request
 */
export function checkReplicationOverride(env: Env, meta: Record<string, string>): void {
  const value = meta[OVERRIDE_META];
  if (value === undefined) return;
  const policy = replicationPolicy(env);
  if (!policy.allowMetaOverride) return;
  // Size and account do not matter to an override: only its own targets are planned.
  const plan = planFor(policy, { size: 0, meta, account: "" }, backendConfigs(env));
  if (plan.rule !== `meta.${OVERRIDE_META}` || plan.problems.length > 0) {
    throw badRequest(`meta.${OVERRIDE_META} cannot be followed: ${plan.problems.join("; ")}`);
  }
}
