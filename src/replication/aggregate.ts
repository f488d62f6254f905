import type { AggregateState, ReplicaState } from "./replica-types";

/** Health rank, least healthy first (ipfs-cluster: the worst peer status is the pin's status). */
const RANK: AggregateState[] = ["failed", "lost", "at_risk", "under_replicated", "queued", "replicating", "stored"];

/** The state a wanted copy counts as; copies being removed do not count. */
function counted(state: ReplicaState): AggregateState | null {
  switch (state) {
    case "removing":
    case "removed":
      return null;
    default:
      return state;
  }
}

/**
 * The pessimistic aggregate of a root's copies: the least healthy wanted
 * copy decides; with every copy stored but fewer than `minCopies` (the
 * policy could not be met), `under_replicated`. The pin's own R2 state
 * (PSA status) takes part as the `r2` copy: queued → queued, pinning →
 * replicating, failed → failed.
 */
export function aggregateState(pinState: string, copies: { state: ReplicaState; wanted: boolean }[], minCopies: number): AggregateState {
  const states: AggregateState[] = [];
  if (pinState === "failed") states.push("failed");
  else if (pinState === "queued") states.push("queued");
  else if (pinState === "pinning") states.push("replicating");
  for (const copy of copies) {
    if (!copy.wanted) continue;
    const s = counted(copy.state);
    if (s !== null) states.push(s);
  }
  const stored = copies.filter((c) => c.wanted && c.state === "stored").length;
  if (states.length === 0) return pinState === "pinned" ? "stored" : "queued";
  let worst = states.reduce((a, b) => (RANK.indexOf(a) <= RANK.indexOf(b) ? a : b));
  if (worst === "stored" && stored < minCopies) worst = "under_replicated";
  return worst;
}
