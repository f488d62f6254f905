/** Drives the local replication-target servers from tests (backend-server-kit.ts): their request log and faults. */
import type { Fault, LoggedRequest } from "../servers/backend-server-kit";

export async function requestsTo(base: string, pathPrefix: string): Promise<LoggedRequest[]> {
  const res = await fetch(`${base}/__log?path=${encodeURIComponent(pathPrefix)}`);
  return (await res.json()) as LoggedRequest[];
}

export async function armFault(base: string, fault: Fault): Promise<void> {
  const res = await fetch(`${base}/__faults`, { method: "POST", body: JSON.stringify(fault) });
  expectStatus(res, 204);
}

export async function clearFaults(base: string): Promise<void> {
  expectStatus(await fetch(`${base}/__faults`, { method: "DELETE" }), 204);
}

function expectStatus(res: Response, status: number): void {
  if (res.status !== status) throw new Error(`control request answered ${res.status}`);
}

/** A StoreContext that records checkpoints; `stopAfter` checkpoints, the deadline passes (as an alarm running out of time). */
export function storeContext(progress?: import("../../src/backends/replication-backend").Json, stopAfter = Infinity) {
  const saved: import("../../src/backends/replication-backend").Json[] = [];
  const ctx = {
    progress,
    deadline: Date.now() + 600_000,
    checkpoint: async (p: import("../../src/backends/replication-backend").Json) => {
      saved.push(structuredClone(p));
      if (saved.length >= stopAfter) ctx.deadline = 0;
    },
  };
  return { ctx, saved };
}

/** The rejection of `promise`, which must reject. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error & { kind?: string; retryAfterMs?: number }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { kind?: string; retryAfterMs?: number };
  }
  throw new Error("expected a rejection");
}
