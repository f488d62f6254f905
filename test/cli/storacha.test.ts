/**
 * `ipfs-kit migrate storacha` against the real worker under `wrangler dev`
 * (test/cli/global-setup.ts), whose Storacha space is the local upload-api
 * test context (test/servers/storacha-server.ts). Asserted: the dry run's
 * roots, the job's final line and JSON, the pins then in the account with
 * their bytes through the gateway, and that a second run pins nothing again.
 */
import { beforeAll, describe, expect, inject, test } from "vitest";
import { ipfsKit } from "./cli-process";
import { pseudoRandom } from "./fixtures";

const endpoint = inject("endpoint");
const adminToken = inject("adminToken");
const fixture = inject("storachaFixture");
const roots = fixture.uploads.map((u) => u.root).sort();
let env: Record<string, string>;
let token: string;

beforeAll(async () => {
  const minted = await fetch(`${endpoint}/api/v1/tokens`, {
    method: "POST",
    headers: { Authorization: `Bearer ${adminToken}`, "Content-Type": "application/json" },
    body: JSON.stringify({ name: "cli-storacha" }),
  });
  expect(minted.status).toBe(201);
  token = ((await minted.json()) as { token: string }).token;
  env = { IPFS_KIT_URL: endpoint, IPFS_KIT_TOKEN: token };
});

describe("migrate storacha", () => {
  test("--dry-run lists the space's roots; the migration pins them all with their bytes and watches their deals; a second run reuses them", async () => {
    const dry = await ipfsKit(["migrate", "storacha", "--dry-run", "--json"], { env });
    expect(dry.code, dry.stderr).toBe(0);
    const preview = JSON.parse(dry.stdout) as { roots: string[]; space: string; more: boolean };
    expect(preview.roots.sort()).toEqual(roots);
    expect(preview).toMatchObject({ space: fixture.space, more: false });
    const text = await ipfsKit(["migrate", "storacha", "--dry-run"], { env });
    expect(text.stdout.endsWith(`\n3 roots of ${fixture.space} would be pinned\n`)).toBe(true);

    const run = await ipfsKit(["migrate", "storacha", "--json", "--timeout", "100"], { env });
    expect(run.code, run.stderr).toBe(0);
    const job = JSON.parse(run.stdout) as { id: string; state: string; listed: number; created: number; reused: number; pins: { pinned: number }; dealsWatched: number; failed: number };
    expect(job).toMatchObject({ state: "done", listed: 3, created: 3, reused: 0, pins: { pinned: 3 }, dealsWatched: 3, failed: 0 });
    expect(run.stderr).toContain(`${job.id}\tdone\tlisted 3\tcreated 3\treused 0\tpinned 3\tdeals 3\tfailed 0`);

    const pins = (await (await fetch(`${endpoint}/psa/pins?limit=100`, { headers: { Authorization: `Bearer ${token}` } })).json()) as { count: number; results: { pin: { cid: string } }[] };
    expect(pins.results.map((p) => p.pin.cid).sort()).toEqual(roots);
    for (const upload of fixture.uploads) {
      const r = await fetch(`${endpoint}/ipfs/${upload.root}`);
      expect(r.status).toBe(200);
      expect(Buffer.from(await r.arrayBuffer()).equals(Buffer.from(pseudoRandom(upload.size, upload.seed)))).toBe(true);
    }

    const again = await ipfsKit(["migrate", "storacha"], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^storacha-[0-9a-f-]{36}\tdone\tlisted 3\tcreated 0\treused 3\tpinned 3\tdeals 3\tfailed 0\n$/);
    const after = (await (await fetch(`${endpoint}/psa/pins?limit=100`, { headers: { Authorization: `Bearer ${token}` } })).json()) as { count: number };
    expect(after.count).toBe(3);
  });
});
