import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { inject } from "vitest";
import type { CID } from "multiformats/cid";
import { registryStub, type PinRegistry } from "../../src/durable-objects/pin-registry";
import type { RootStatus } from "../../src/replication/replica-types";
import { call, pinJson, putInR2, pseudoRandomBytes, unixfsDag } from "../pinning/helpers";

export const psaBase = (): string => inject("psaBase");

/** Sets a tenant's behaviour on the local pinning service (test/servers/psa-server.ts). */
export async function psaMode(tenant: string, mode: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${psaBase()}/_control/${tenant}`, { method: "PUT", body: JSON.stringify(mode) });
  expect200(res.status);
}

export type PsaLogEntry = { method: string; path: string; status: number; body: { cid?: string; origins?: string[]; meta?: Record<string, string>; name?: string } | undefined };

/** What a tenant received about `cid` (POSTs naming it, GET/DELETE of the given request ids). */
export async function psaLog(tenant: string): Promise<PsaLogEntry[]> {
  return (await (await fetch(`${psaBase()}/_control/${tenant}/log`)).json()) as PsaLogEntry[];
}

export async function psaPins(tenant: string): Promise<{ requestid: string; status: string; pin: { cid: string } }[]> {
  return (await (await fetch(`${psaBase()}/_control/${tenant}/pins`)).json()) as { requestid: string; status: string; pin: { cid: string } }[];
}

function expect200(status: number): void {
  if (status !== 200) throw new Error(`control request answered ${status}`);
}

/** A DAG in R2 pinned through the PSA with `meta`; returns once R2 holds it (status pinned). */
export async function pinInR2(token: string, account: string, seed: number, meta: Record<string, string>, size = 3000): Promise<{ root: CID; requestid: string }> {
  const dag = await unixfsDag(pseudoRandomBytes(size, seed), 1000);
  await putInR2(dag.blocks);
  const created = await pinJson(await call("POST", "/psa/pins", { token, body: { cid: dag.root.toString(), meta } }));
  await runUntil(account, async () => (await registryStub(env, account).getPin(created.requestid))?.status === "pinned", 5_000);
  return { root: dag.root, requestid: created.requestid };
}

/**
 * Waits while the account's alarm runs its due work until `done()` holds or
 * `ms` passed (real time: Retry-After and poll delays are waited for, not
 * skipped).
 */
export async function runUntil(account: string, done: () => Promise<boolean>, ms: number): Promise<void> {
  const stub = registryStub(env, account);
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await done()) return;
    // The registry's own alarm runs the work when it is due (workerd fires it); we only watch.
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!(await done())) {
    const rows = await runInDurableObject(stub, (_i: PinRegistry, state) =>
      state.storage.sql.exec("SELECT r.backend, r.state, r.attempts, r.last_error, r.next, (SELECT group_concat(action || ':' || COALESCE(message, ''), ' | ') FROM replica_log l WHERE l.root = r.root AND l.backend = r.backend) AS log FROM replicas r").toArray());
    throw new Error(`condition not reached within ${ms} ms; replicas: ${JSON.stringify(rows)}; work: ${JSON.stringify(await stub.pendingWork())}`);
  }
}

export async function rootStatus(token: string, cid: CID | string): Promise<RootStatus> {
  const res = await call("GET", `/api/v1/pins/${cid.toString()}`, { token });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET /api/v1/pins/${cid}: ${res.status} ${text}`);
  return JSON.parse(text) as RootStatus;
}

export function replicaOf(status: RootStatus, backend: string) {
  const replica = status.replicas.find((r) => r.backend === backend);
  if (replica === undefined) throw new Error(`no replica on ${backend}: ${status.replicas.map((r) => r.backend).join(",")}`);
  return replica;
}

/** The clock moves on: work of `backend` (and its removal delay) becomes due now. */
export async function makeDue(account: string, backend: string): Promise<void> {
  await runInDurableObject(registryStub(env, account), (_i: PinRegistry, state) => {
    const now = Date.now();
    state.storage.sql.exec("UPDATE work SET due_at = ? WHERE kind = 'replica' AND target LIKE ?", now, `% ${backend}`);
    state.storage.sql.exec("UPDATE replicas SET remove_after = ? WHERE backend = ? AND remove_after IS NOT NULL", now, backend);
    return state.storage.setAlarm(now);
  });
}
