/**
 * The CLI's replication commands (pin add --backend, pin status with
 * replicas, migrate content|batch, backend ls|test) against the real
 * worker under `wrangler dev` (test/cli/global-setup.ts), whose backends
 * are tenants of the local pinning service (test/servers/psa-server.ts).
 * Asserted: the output and exit codes, and what the remote services then
 * hold (their own control API).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { ipfsKit, type CliResult } from "./cli-process";
import { pseudoRandom, removeTempDirs, tempDir, writeTree } from "./fixtures";

afterAll(removeTempDirs);

const endpoint = inject("endpoint");
const adminToken = inject("adminToken");
const psaBase = inject("psaBase");
const admin = { IPFS_KIT_URL: endpoint, IPFS_KIT_TOKEN: adminToken };
let env: Record<string, string>;

type RemotePin = { requestid: string; status: string; pin: { cid: string; origins: string[] } };
async function remotePins(tenant: string): Promise<RemotePin[]> {
  const r = await fetch(`${psaBase}/_control/${tenant}/pins`);
  expect(r.status).toBe(200);
  return (await r.json()) as RemotePin[];
}
const remoteCids = async (tenant: string) => (await remotePins(tenant)).map((p) => p.pin.cid).sort();

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

type Replication = { aggregate: string; replicas: { backend: string; state: string; wanted: boolean; bytes: number | null; lastError: string | null }[] };
async function replication(cid: string): Promise<Replication> {
  const r = await ipfsKit(["pin", "status", cid, "--json"], { env });
  return JSON.parse(r.stdout).replication as Replication;
}
const wantedStates = (rep: Replication) => rep.replicas.filter((r) => r.wanted).map((r) => `${r.backend}:${r.state}`).sort();

/** Packs and uploads `files` as a folder pinned under `name`, with `pin add` (plus `extra` options); returns its CID. */
async function pinFolder(name: string, files: Record<string, Uint8Array | string>, extra: string[] = []): Promise<string> {
  const dir = writeTree(join(tempDir(), name), files);
  const r = await ipfsKit(["pin", "add", dir, "--name", name, ...extra, "--json"], { env });
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { pin: { cid: string } }).pin.cid;
}

let site: string;
let small: string;
let big: string;
beforeAll(async () => {
  // A fresh account: only this file's pins are selected by filters.
  const minted = await fetch(`${endpoint}/api/v1/tokens`, {
    method: "POST",
    headers: { Authorization: `Bearer ${adminToken}`, "Content-Type": "application/json" },
    body: JSON.stringify({ name: "cli-replication" }),
  });
  expect(minted.status).toBe(201);
  env = { IPFS_KIT_URL: endpoint, IPFS_KIT_TOKEN: ((await minted.json()) as { token: string }).token };
  site = await pinFolder("site", { "index.html": "<h1>replicated</h1>\n", "data.bin": pseudoRandom(20_000, 9) }, ["--backend", "remote"]);
  small = await pinFolder("small", { "a.txt": "small\n" });
  big = await pinFolder("big", { "big.bin": pseudoRandom(300_000, 10) });
});

describe("pin add --backend, pin status with replicas", () => {
  test("the copy on the remote service is stored; pin status prints the aggregate and one line per copy", async () => {
    const rep = await waitFor("site stored on remote", async () => {
      const r = await replication(site);
      return r.aggregate === "stored" ? r : undefined;
    });
    expect(wantedStates(rep)).toEqual(["r2:stored", "remote:stored"]);
    // The remote holds exactly one pin of it, with this gateway (PUBLIC_URL of wrangler.toml) as origin.
    const pins = (await remotePins("remote")).filter((p) => p.pin.cid === site);
    expect(pins.map((p) => [p.status, p.pin.origins])).toEqual([["pinned", ["/dns4/localhost/tcp/8787/http"]]]);
    const r = await ipfsKit(["pin", "status", site], { env });
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toMatch(new RegExp(`^[0-9a-f-]+\\tpinned\\t${site}\\tsite$`));
    expect(lines[1]).toBe(`${site}\taggregate\tstored\tplan r2,remote (min 2, meta.replication)`);
    expect(lines.slice(2).filter((l) => l !== "").map((l) => l.split("\t").slice(0, 4).join(" ")).sort()).toEqual([`${site} replica r2 stored`, `${site} replica remote stored`]);
  });
});

describe("migrate content", () => {
  test("--move: the copy goes to backup, then the one on remote is removed; progress on stderr, the job on stdout", async () => {
    await waitFor("site stored", async () => ((await replication(site)).aggregate === "stored" ? true : undefined));
    const r = await ipfsKit(["migrate", "content", site, "--from", "remote", "--to", "backup", "--move", "--json"], { env });
    expect(r.code, r.stderr).toBe(0);
    const job = JSON.parse(r.stdout);
    expect(job).toMatchObject({ spec: { from: "remote", to: "backup", mode: "move", cids: [site] }, state: "done", selected: 1, copied: 1, removed: 1, failed: 0 });
    const progress = r.stderr.trim().split("\n");
    expect(progress[0]).toMatch(new RegExp(`^${job.id}\\tselecting\\tselected 0\\tcopied 0\\tremoved 0\\tfailed 0$`));
    expect(progress.at(-1)).toBe(`${job.id}\tdone\tselected 1\tcopied 1\tremoved 1\tfailed 0`);
    expect(await remoteCids("backup")).toContain(site);
    expect(await remoteCids("remote")).not.toContain(site);
    expect(wantedStates(await replication(site))).toEqual(["backup:stored", "r2:stored"]);
  });

  test("a backend that refuses its token: the copy fails, the CLI stops waiting and exits 1", async () => {
    const r = await ipfsKit(["migrate", "content", small, "--from", "r2", "--to", "wrongkey", "--json"], { env });
    expect(r.code, r.stderr).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ spec: { from: "r2", to: "wrongkey", mode: "copy", cids: [small] }, state: "running", selected: 1, copied: 0, failed: 1 });
    expect(r.stderr.trim().split("\n").at(-1)).toBe('1 copy on wrongkey failed (see why with: ipfs-kit pin status <cid>); the service retries them on its own schedule (docs/replication.md "Retries")');
    const copy = (await replication(small)).replicas.find((c) => c.backend === "wrongkey")!;
    expect(copy).toMatchObject({ state: "failed", wanted: true });
    expect(copy.lastError).toMatch(/40[13]/);
    expect((await remotePins("wrongkey")).map((p) => p.pin.cid)).not.toContain(small);
  });

  test("a pin without a copy on --from: nothing selected, done at once; bad requests exit 1 with the service's reason", async () => {
    const none = await ipfsKit(["migrate", "content", small, "--from", "remote", "--to", "backup"], { env });
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout).toMatch(/^[0-9a-f-]+\tdone\tselected 0\tcopied 0\tfailed 0\n$/);
    const toR2 = await ipfsKit(["migrate", "content", small, "--from", "remote", "--to", "r2", "--json"], { env });
    expect(toR2.code).toBe(1);
    expect(toR2.stderr).toBe(`ipfs-kit: ${endpoint} answered 400 to /api/v1/migrate: to cannot be r2: R2 holds every pin already\n`);
    expect(JSON.parse(toR2.stdout)).toEqual({ error: { kind: "rejected", message: toR2.stderr.slice("ipfs-kit: ".length, -1) } });
    const unknown = await ipfsKit(["migrate", "content", small, "--from", "nowhere", "--to", "backup"], { env });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe(`ipfs-kit: ${endpoint} answered 400 to /api/v1/migrate: from must name a configured backend (r2, remote, backup, wrongkey)\n`);
  });
});

describe("migrate batch", () => {
  test("--dry-run with --list or --filter: the selection and its count, nothing started", async () => {
    const list = join(tempDir(), "cids.txt");
    writeFileSync(list, `# to archive\n${small}\n\n${big}  # the big one\n${small}\n`);
    const listed = await ipfsKit(["migrate", "batch", "--list", list, "--from", "r2", "--to", "remote", "--dry-run", "--json"], { env });
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual({ dryRun: true, count: 2, roots: [small, big].sort() });
    const filtered = await ipfsKit(["migrate", "batch", "--filter", "size > 100KB", "--from", "r2", "--to", "remote", "--dry-run"], { env });
    expect(filtered.code, filtered.stderr).toBe(0);
    expect(filtered.stdout).toBe(`${big}\n1 pin would be migrated\n`);
    const both = await ipfsKit(["migrate", "batch", "--list", list, "--filter", "size < 100KB", "--from", "r2", "--to", "remote", "--dry-run", "--json"], { env });
    expect(JSON.parse(both.stdout)).toEqual({ dryRun: true, count: 1, roots: [small] });
    expect(await remoteCids("remote")).not.toContain(big);
  });

  test('--filter "size > 100KB": only the big pin is copied to remote, and waited for', async () => {
    const r = await ipfsKit(["migrate", "batch", "--filter", "size > 100KB", "--from", "r2", "--to", "remote"], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^[0-9a-f-]+\tdone\tselected 1\tcopied 1\tfailed 0\n$/);
    const cids = await remoteCids("remote");
    expect(cids).toContain(big);
    expect(cids).not.toContain(small);
    expect(wantedStates(await replication(big))).toEqual(["r2:stored", "remote:stored"]);
    expect(wantedStates(await replication(small))).toEqual(["r2:stored", "wrongkey:failed"]);
  });

  test("usage errors exit 2 before anything is sent; a bad list exits 1 naming the line", async () => {
    const cases: [string[], string][] = [
      [["migrate", "batch", "--all", "--to", "remote"], "--from <backend> and --to <backend> are both required (see them with: ipfs-kit backend ls)"],
      [["migrate", "batch", "--from", "r2", "--to", "remote"], "say which pins: --list <file>, --filter <expr>, or --all"],
      [["migrate", "batch", "--filter", "bytes > 1", "--from", "r2", "--to", "remote"], '--filter: "bytes > 1" is not a filter (examples: "size > 100MB", "size < 1GiB", "size > 1MB and size < 1GB")'],
      [["migrate", "batch", "--filter", "size > 1GB and size < 1MB", "--from", "r2", "--to", "remote"], "--filter: no size is above the lower bound and below the upper one"],
      [["migrate", "content", "not-a-cid", "--from", "r2", "--to", "remote"], '"not-a-cid" is not a valid CID'],
      [["migrate", "content", small, "--from", "remote", "--to", "remote"], "--from and --to must differ"],
    ];
    for (const [args, message] of cases) {
      const r = await ipfsKit(args, { env });
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toBe(`ipfs-kit: ${message} (see: ipfs-kit ${args.slice(0, 2).join(" ")} --help)\n`);
    }
    const list = join(tempDir(), "bad.txt");
    writeFileSync(list, `${small}\nnope\n`);
    const bad = await ipfsKit(["migrate", "batch", "--list", list, "--from", "r2", "--to", "remote", "--json"], { env });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(`ipfs-kit: ${list}:2: "nope" is not a CID\n`);
    expect(JSON.parse(bad.stdout)).toEqual({ error: { kind: "bad-input", message: `${list}:2: "nope" is not a CID` } });
  });
});

describe("pin status of a lost copy", () => {
  test("the remote forgets the pin; after a verification run the aggregate is not stored and pin status exits 1", async () => {
    const forget = (await remotePins("remote")).find((p) => p.pin.cid === big)!;
    // New pins on remote fail from now on, so the repair cannot hide the loss.
    expect((await fetch(`${psaBase}/_control/remote`, { method: "PUT", body: JSON.stringify({ fail: true }) })).status).toBe(200);
    expect((await fetch(`${psaBase}/_control/remote/pins/${forget.requestid}`, { method: "DELETE" })).status).toBe(200);
    const verify = await fetch(`${endpoint}/api/v1/backends/verify`, { method: "POST", headers: { Authorization: `Bearer ${adminToken}` } });
    expect(verify.status).toBe(200);
    let last: CliResult | undefined;
    await waitFor("the loss to show", async () => {
      last = await ipfsKit(["pin", "status", big], { env });
      return last.code === 1 ? true : undefined;
    });
    const replica = last!.stdout.split("\n").find((l) => l.startsWith(`${big}\treplica\tremote\t`))!;
    expect(replica.split("\t")[3]).toMatch(/^(lost|failed)$/);
    expect(last!.stdout).toMatch(new RegExp(`^${big}\\taggregate\\t(lost|failed)\\t`, "m"));
    await fetch(`${psaBase}/_control/remote`, { method: "PUT", body: JSON.stringify({ fail: false }) });
  });
});

describe("backend ls|test (operator token)", () => {
  test("ls: one line per configured backend; --json adds the policy", async () => {
    const r = await ipfsKit(["backend", "ls"], { env: admin });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("r2\tr2\nremote\tpsa\nbackup\tpsa\nwrongkey\tpsa\n");
    const j = JSON.parse((await ipfsKit(["backend", "ls", "--json"], { env: admin })).stdout);
    expect(j.policy.default).toEqual({ backends: ["r2"] });
    expect(j.backends.find((b: { name: string }) => b.name === "remote").settings).toEqual({ endpoint: `${psaBase}/t/remote`, pollMs: 300 });
  });

  test("test: exit 0 after a round trip on the remote service, 1 when it refuses the token, 1 for an unknown name", async () => {
    const ok = await ipfsKit(["backend", "test", "backup", "--json"], { env: admin });
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ name: "backup", type: "psa", reachable: true, authorised: true, roundTrip: true });
    const bad = await ipfsKit(["backend", "test", "wrongkey"], { env: admin });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^wrongkey\tpsa\tFAIL\treachable=true\tauthorised=false\troundTrip=false\t\d+ ms\t.+\n$/);
    const unknown = await ipfsKit(["backend", "test", "nope"], { env: admin });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('ipfs-kit: not found (404 from /api/v1/backends/nope/test): no backend named "nope" is configured\n');
  });

  test("an account token is refused", async () => {
    const r = await ipfsKit(["backend", "ls"], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`ipfs-kit: ${endpoint} refused the token from IPFS_KIT_TOKEN (401: operator token is missing or invalid); check --token or IPFS_KIT_TOKEN (backend commands need the operator token: the service's ADMIN_TOKEN)\n`);
  });
});
