/**
 * The service commands against a `wrangler dev` of the worker (started by
 * test/cli/global-setup.ts) whose upstream is the local trustless server:
 * pin add/ls/status/rm, get, verify, gateway test/bench, with their --json
 * shapes, exit codes, what the service then holds, and bad tokens,
 * unreachable endpoints, config files and an interrupted upload.
 */
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CID } from "multiformats/cid";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { freePort } from "../../bench/wrangler-dev";
import { CLI, ipfsKit } from "./cli-process";
import { carOf, ipfsCarPack, pseudoRandom, tempDir, writeTree, removeTempDirs } from "./fixtures";
import * as raw from "multiformats/codecs/raw";
import { sha256 } from "multiformats/hashes/sha2";

afterAll(removeTempDirs);

const endpoint = inject("endpoint");
const token = inject("token");
const upstream = inject("upstreamBase");
const env = { IPFS_KIT_URL: endpoint, IPFS_KIT_TOKEN: token };
const dir = tempDir();

interface PinStatus {
  requestid: string;
  status: string;
  created: string;
  pin: { cid: string; name?: string; meta?: Record<string, string> };
  delegates: string[];
  info: Record<string, unknown>;
}

async function pinsOf(cid: string): Promise<PinStatus[]> {
  const r = await fetch(`${endpoint}/psa/pins?cid=${cid}&status=queued,pinning,pinned,failed`, { headers: { Authorization: `Bearer ${token}` } });
  expect(r.status).toBe(200);
  return ((await r.json()) as { results: PinStatus[] }).results;
}

describe("pin add of a directory, then ls, status, get, verify, rm", () => {
  const site = writeTree(join(dir, "site"), { "index.html": "<h1>hello</h1>\n", "img/photo.bin": pseudoRandom(1_500_000, 11), "img/empty": "" });
  let root = "";
  let pin: PinStatus;

  beforeAll(async () => {
    root = await ipfsCarPack(site, join(dir, "site-ref.car"), false);
  });

  test("pin add <dir> packs, uploads and pins; the pin's CID is ipfs-car's", async () => {
    const r = await ipfsKit(["pin", "add", site, "--name", "site", "--meta", "env=test", "--meta", "team=web", "--json"], { env });
    expect(r.code).toBe(0);
    pin = JSON.parse(r.stdout);
    expect(pin).toMatchObject({ status: "pinned", pin: { cid: root, name: "site", meta: { env: "test", team: "web" } } });
    expect(pin.requestid).toMatch(/\S+/);
    expect(r.stderr).toContain(`packed ${site}: ${root}`);
    expect(r.stderr).not.toContain(token);
    // What the service holds: exactly that pin, pinned.
    const held = await pinsOf(root);
    expect(held.map((p) => [p.requestid, p.status, p.pin.name, p.pin.meta])).toEqual([[pin.requestid, "pinned", "site", { env: "test", team: "web" }]]);
  });

  test("pin ls and pin status show it (text and --json)", async () => {
    const ls = await ipfsKit(["pin", "ls", "--name", "site", "--json"], { env });
    expect(ls.code).toBe(0);
    const page = JSON.parse(ls.stdout);
    expect(page.count).toBe(1);
    expect(page.results[0]).toMatchObject({ requestid: pin.requestid, status: "pinned", pin: { cid: root } });
    const text = await ipfsKit(["pin", "ls", "--cid", root, "--status", "all"], { env });
    expect(text.stdout).toBe(`${pin.requestid}\tpinned\t${root}\tsite\n`);
    const byId = await ipfsKit(["pin", "status", pin.requestid, "--json"], { env });
    expect(JSON.parse(byId.stdout).results.map((p: PinStatus) => p.requestid)).toEqual([pin.requestid]);
    const byCid = await ipfsKit(["pin", "status", root], { env });
    expect(byCid.code).toBe(0);
    // The replication API's unified status follows: R2 only (no BACKENDS policy asks for more).
    expect(byCid.stdout).toBe(`${pin.requestid}\tpinned\t${root}\tsite\n${root}\taggregate\tstored\n${root}\treplica\tr2\tstored\t-\t\n`);
  });

  test("get <cid> writes the verified tree; get <cid>/path one file; -o - to stdout", async () => {
    const out = join(dir, "got-site");
    const r = await ipfsKit(["get", root, "-o", out, "--json"], { env: { IPFS_KIT_URL: endpoint } });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ cid: root, path: "", root, type: "directory", output: out, bytes: 1_500_015, verified: true });
    expect(readFileSync(join(out, "img/photo.bin")).equals(readFileSync(join(site, "img/photo.bin")))).toBe(true);
    expect(readFileSync(join(out, "index.html"), "utf8")).toBe("<h1>hello</h1>\n");
    const one = await ipfsKit(["get", `${root}/img/photo.bin`, "-o", join(dir, "photo.bin"), "--json"], { env: { IPFS_KIT_URL: endpoint } });
    expect(one.code).toBe(0);
    expect(JSON.parse(one.stdout)).toMatchObject({ path: "img/photo.bin", type: "file", bytes: 1_500_000, verified: true });
    expect(readFileSync(join(dir, "photo.bin")).equals(readFileSync(join(site, "img/photo.bin")))).toBe(true);
    const stdout = await ipfsKit(["get", `${root}/index.html`, "-o", "-"], { env: { IPFS_KIT_URL: endpoint } });
    expect(stdout.stdout).toBe("<h1>hello</h1>\n");
    const plain = await ipfsKit(["get", `${root}/index.html`, "--no-verify", "-o", join(dir, "plain.html"), "--json"], { env: { IPFS_KIT_URL: endpoint } });
    expect(JSON.parse(plain.stdout)).toMatchObject({ verified: false, bytes: 15 });
    expect(readFileSync(join(dir, "plain.html"), "utf8")).toBe("<h1>hello</h1>\n");
  });

  test("get of a path that does not exist: exit 1, one line", async () => {
    const r = await ipfsKit(["get", `${root}/nope.txt`, "-o", join(dir, "nope")], { env: { IPFS_KIT_URL: endpoint } });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^ipfs-kit: /);
  });

  test("verify <cid> through the service: exit 0 and the report", async () => {
    const r = await ipfsKit(["verify", root, "--json"], { env: { IPFS_KIT_URL: endpoint } });
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ source: endpoint, roots: [root], complete: true, problems: [] });
    expect(report.blocks).toBe(report.reachable);
  });

  test("pin rm <cid> removes it", async () => {
    const r = await ipfsKit(["pin", "rm", root, "--json"], { env });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ removed: [pin.requestid] });
    expect(await pinsOf(root)).toEqual([]);
    const again = await ipfsKit(["pin", "rm", root], { env });
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`ipfs-kit: no pin of ${root} in this account\n`);
  });
});

describe("pin add of a CID the upstream has", () => {
  let cid = "";
  beforeAll(async () => {
    // A 3-block DAG put on the local upstream only: the worker must fetch it to pin it.
    const file = join(dir, "remote.bin");
    writeFileSync(file, pseudoRandom(2_200_000, 21));
    const carFile = join(dir, "remote.car");
    const made = await ipfsKit(["car", "create", file, "-o", carFile]);
    cid = made.stdout.trim();
    const put = await fetch(`${upstream}/__blocks`, { method: "PUT", body: readFileSync(carFile) });
    expect(put.status).toBe(200);
  });

  test("waits until pinned; --json is the final PinStatus", async () => {
    const r = await ipfsKit(["pin", "add", cid, "--name", "remote", "--json"], { env });
    expect(r.code).toBe(0);
    const status = JSON.parse(r.stdout);
    expect(status).toMatchObject({ status: "pinned", pin: { cid, name: "remote" } });
    // dag_size: every block's bytes, as the CAR lists them.
    const listed = JSON.parse((await ipfsKit(["car", "blocks", join(dir, "remote.car"), "--json"])).stdout).blocks as { size: number }[];
    expect(status.info.dag_size).toBe(String(listed.reduce((n, b) => n + b.size, 0)));
    expect((await pinsOf(cid)).map((p) => p.status)).toEqual(["pinned"]);
  });

  test("--background returns at once with the queued status", async () => {
    const bytes = pseudoRandom(1000, 22);
    const block = { cid: CID.createV1(raw.code, await sha256.digest(bytes)), bytes };
    await fetch(`${upstream}/__blocks`, { method: "PUT", body: await carOf([block.cid], [block]) });
    const r = await ipfsKit(["pin", "add", block.cid.toString(), "--background", "--json"], { env });
    expect(r.code).toBe(0);
    const status = JSON.parse(r.stdout);
    expect(["queued", "pinning", "pinned"]).toContain(status.status);
    expect(status.pin.cid).toBe(block.cid.toString());
  });

  test("--timeout: a pin still unsettled when it passes is exit 1 naming it (stderr, or the --json error); the pin stays on the service", async () => {
    // A block no upstream has: the service keeps trying (PIN_DEADLINE_MS is a day), the pin stays queued or pinning.
    const bytes = pseudoRandom(1000, 23);
    const absent = CID.createV1(raw.code, await sha256.digest(bytes)).toString();
    const started = Date.now();
    const r = await ipfsKit(["pin", "add", absent, "--name", "absent", "--timeout", "1"], { env });
    const elapsed = Date.now() - started;
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    const [held] = await pinsOf(absent);
    expect(held).toMatchObject({ pin: { cid: absent, name: "absent" } });
    const lines = r.stderr.split("\n");
    expect(lines[0]).toMatch(new RegExp(`^${held!.requestid}: (queued|pinning) ${absent}$`));
    expect(lines.at(-2)).toMatch(new RegExp(`^ipfs-kit: pin ${held!.requestid} still (queued|pinning) after 1 s; see it with: ipfs-kit pin status ${held!.requestid}$`));
    // The deadline is kept: 1 s and at most one more poll (the delays double from 250 ms: 250, 500, 1000).
    expect(elapsed).toBeGreaterThanOrEqual(1000);
    expect(elapsed).toBeLessThan(8000);
    expect(["queued", "pinning"]).toContain(held!.status);

    const json = await ipfsKit(["pin", "add", absent, "--timeout", "1", "--json"], { env });
    expect(json.code).toBe(1);
    const failure = JSON.parse(json.stdout) as { error: { kind: string; message: string } };
    expect(failure.error.kind).toBe("timeout");
    expect(failure.error.message).toMatch(/^pin \S+ still (queued|pinning) after 1 s; see it with: ipfs-kit pin status \S+$/);
    // Both pins are left to the service (two requests for the CID), then removed here.
    const left = await pinsOf(absent);
    expect(left).toHaveLength(2);
    expect((await ipfsKit(["pin", "rm", absent], { env })).code).toBe(0);
    expect(await pinsOf(absent)).toEqual([]);
  });

  test("a bad argument: neither CID nor path, exit 1", async () => {
    const r = await ipfsKit(["pin", "add", "not-a-cid-nor-file"], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("ipfs-kit: not-a-cid-nor-file is neither a CID nor an existing file or directory\n");
  });
});

describe("verify and gateway test against a lying upstream", () => {
  let cid = "";
  let dagBytes = 0;
  beforeAll(async () => {
    const file = join(dir, "lied.bin");
    writeFileSync(file, pseudoRandom(1_100_000, 31));
    const carFile = join(dir, "lied.car");
    cid = (await ipfsKit(["car", "create", file, "-o", carFile])).stdout.trim();
    // Two 1 MiB-or-less raw leaves and their parent.
    dagBytes = (JSON.parse((await ipfsKit(["car", "blocks", carFile, "--json"])).stdout).blocks as { size: number }[]).reduce((n, b) => n + b.size, 0);
    await fetch(`${upstream}/__blocks`, { method: "PUT", body: readFileSync(carFile) });
  });

  test("verify --gateway <flip-byte upstream>: exit 1, the bad block named", async () => {
    const r = await ipfsKit(["verify", cid, "--gateway", `${upstream}/flip-byte-1`, "--json"]);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.problems[0]).toMatchObject({ kind: "hash-mismatch", section: 2 });
    const honest = await ipfsKit(["verify", cid, "--gateway", `${upstream}/honest`]);
    expect(honest.code).toBe(0);
  });

  test("gateway test: the service and its upstream verify; an extra lying gateway fails the run", async () => {
    const ok = await ipfsKit(["gateway", "test", cid, "--json"], { env: { IPFS_KIT_URL: endpoint } });
    expect(ok.code).toBe(0);
    const result = JSON.parse(ok.stdout);
    expect(result.targets.map((t: { url: string; role: string; verified: boolean; blocks: number }) => [t.url, t.role, t.verified, t.blocks])).toEqual([
      [endpoint, "service", true, 3],
      [`${upstream}/honest`, "upstream", true, 3],
    ]);
    for (const t of result.targets) {
      expect(t.ttfbMs).toBeGreaterThan(0);
      expect(t.bytes).toBe(dagBytes);
    }
    const bad = await ipfsKit(["gateway", "test", cid, "--gateway", `${upstream}/flip-byte-1`], { env: { IPFS_KIT_URL: endpoint } });
    expect(bad.code).toBe(1);
    expect(bad.stdout.split("\n")[2]).toMatch(new RegExp(`^${upstream}/flip-byte-1\\tgateway\\tFAIL\\t`));
  });

  test("gateway bench: n verified fetches, percentiles", async () => {
    const r = await ipfsKit(["gateway", "bench", cid, "--requests", "4", "--concurrency", "2", "--json"], { env: { IPFS_KIT_URL: endpoint } });
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ cid, url: endpoint, requests: 4, failures: 0, bytes: 4 * dagBytes });
    expect(s.ttfbMs.p50).toBeGreaterThan(0);
  });
});

describe("tokens, endpoints and the config file", () => {
  test("a bad token: exit 1, says where the token came from, never prints it", async () => {
    const r = await ipfsKit(["pin", "ls"], { env: { IPFS_KIT_URL: endpoint, IPFS_KIT_TOKEN: "wrong-token-secret" } });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`ipfs-kit: ${endpoint} refused the token from IPFS_KIT_TOKEN (401: UNAUTHORIZED: Access token is missing or invalid); check --token or IPFS_KIT_TOKEN\n`);
    const j = await ipfsKit(["pin", "ls", "--json", "--token", "wrong-token-secret"], { env: { IPFS_KIT_URL: endpoint } });
    expect(JSON.parse(j.stdout).error.kind).toBe("unauthorized");
    expect(j.stdout + j.stderr).not.toContain("wrong-token-secret");
  });

  test("--endpoint and --token may come before the command words", async () => {
    const r = await ipfsKit(["--endpoint", endpoint, "--token", token, "pin", "ls", "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toHaveProperty("results");
  });

  test("no token: a usage error (exit 2)", async () => {
    const r = await ipfsKit(["pin", "ls"], { env: { IPFS_KIT_URL: endpoint, XDG_CONFIG_HOME: join(dir, "no-config") } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no token: pass --token, set IPFS_KIT_TOKEN");
  });

  test("an unreachable endpoint: exit 1, one line", async () => {
    const closed = `http://127.0.0.1:${await freePort()}`; // asked of the kernel, then released: nobody listens
    const r = await ipfsKit(["pin", "ls"], { env: { IPFS_KIT_URL: closed, IPFS_KIT_TOKEN: token } });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`ipfs-kit: cannot reach ${closed}: ECONNREFUSED; check --endpoint or IPFS_KIT_URL\n`);
    // A gateway the user named is --gateway's, not --endpoint's.
    const viaGateway = await ipfsKit(["verify", "bafkqabtimvwgy3yk", "--gateway", closed], { env: { IPFS_KIT_URL: endpoint } });
    expect(viaGateway.code).toBe(1);
    expect(viaGateway.stderr).toBe(`ipfs-kit: cannot reach ${closed}: ECONNREFUSED; check --gateway\n`);
  });

  test("config file: used when nothing else is given, refused when readable by others; flag > env > file", async () => {
    const home = join(dir, "xdg");
    mkdirSync(join(home, "ipfs-kit"), { recursive: true });
    const file = join(home, "ipfs-kit", "config.json");
    writeFileSync(file, JSON.stringify({ endpoint, token }));
    chmodSync(file, 0o600);
    const fromFile = await ipfsKit(["pin", "ls", "--json"], { env: { XDG_CONFIG_HOME: home } });
    expect(fromFile.code).toBe(0);
    expect(JSON.parse(fromFile.stdout)).toHaveProperty("count");
    // env beats file, flag beats env.
    const envWins = await ipfsKit(["pin", "ls"], { env: { XDG_CONFIG_HOME: home, IPFS_KIT_TOKEN: "bad-env-token" } });
    expect(envWins.code).toBe(1);
    expect(envWins.stderr).toContain("refused the token from IPFS_KIT_TOKEN");
    const flagWins = await ipfsKit(["pin", "ls", "--token", token], { env: { XDG_CONFIG_HOME: home, IPFS_KIT_TOKEN: "bad-env-token" } });
    expect(flagWins.code).toBe(0);
    chmodSync(file, 0o644);
    const open = await ipfsKit(["pin", "ls"], { env: { XDG_CONFIG_HOME: home } });
    expect(open.code).toBe(1);
    expect(open.stderr).toBe(`ipfs-kit: ${file} holds a token but is readable by others (mode 644): run chmod 600 ${file}\n`);
  });
});

describe("an interrupted upload", () => {
  test("interrupted (Ctrl-C) mid-upload: exit 130, its temporary CAR removed, nothing pinned; run again: pinned once", async () => {
    const big = join(dir, "big-upload");
    writeTree(big, { "a.bin": pseudoRandom(48 * 1024 * 1024, 41), "b.txt": "b\n" });
    const root = await ipfsCarPack(big, join(dir, "big-ref.car"), false);
    const scratch = join(dir, "scratch");
    mkdirSync(scratch);
    const child = spawn(process.execPath, [CLI, "pin", "add", big, "--name", "big"], { env: { PATH: process.env.PATH ?? "", TMPDIR: scratch, ...env }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    await new Promise<void>((resolve) => {
      child.stderr.on("data", (b: Buffer) => {
        stderr += b.toString();
        if (stderr.includes("uploading to")) setTimeout(resolve, 150);
      });
      child.on("exit", () => resolve());
    });
    child.kill("SIGINT");
    const code = await new Promise((resolve) => child.on("close", (c) => resolve(c)));
    expect(code).toBe(130);
    expect(stderr).toContain("ipfs-kit: interrupted (SIGINT)");
    expect(readdirSync(scratch)).toEqual([]);
    expect(stderr).toContain(`packed ${big}: ${root}`);
    // Give the worker a moment to see the cut connection and abandon the upload.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await pinsOf(root)).toEqual([]);
    const again = await ipfsKit(["pin", "add", big, "--name", "big", "--json"], { env });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ status: "pinned", pin: { cid: root, name: "big" } });
    expect((await pinsOf(root)).map((p) => p.status)).toEqual(["pinned"]);
  });
});
