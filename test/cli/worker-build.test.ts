/**
 * The Worker's split build (scripts/build-worker.mjs, docs/architecture.md
 * "Code splitting"): what wrangler uploads (`wrangler deploy --dry-run`, run
 * by test/cli/global-setup.ts, the same modules its `wrangler dev` serves)
 * is an entry module whose static imports never reach the heavy SDKs; they
 * sit in chunks workerd compiles only when a path first imports them, and
 * such a chunk does load in workerd (MCP through that `wrangler dev`).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, posix } from "node:path";
import { describe, expect, inject, test } from "vitest";

const bundleDir = inject("bundleDir");
const endpoint = inject("endpoint");
const token = inject("token");

/** esbuild's metafile of the build (written next to the modules by the build script). */
interface Meta {
  outputs: Record<string, { bytes: number; inputs: Record<string, unknown>; imports: { path: string; kind: string; external?: boolean }[] }>;
}

const HEAVY = ["@filoz/", "/viem/", "/ox/", "@modelcontextprotocol/", "/zod/", "@scure/bip39", "@storacha/", "@ucanto/"];

function modulesOf(dir: string, prefix = ""): string[] {
  return readdirSync(join(dir, prefix)).flatMap((name) => {
    const rel = prefix ? `${prefix}/${name}` : name;
    return statSync(join(dir, rel)).isDirectory() ? modulesOf(dir, rel) : rel.endsWith(".mjs") ? [rel] : [];
  });
}

describe("the Worker's split build", () => {
  const meta = JSON.parse(readFileSync("dist/worker/meta.json", "utf8")) as Meta;
  const rel = (output: string) => posix.relative("dist/worker", output);
  // Modules reachable from the entry through static imports only: what every isolate compiles at start.
  const startup = new Set<string>();
  const visit = (output: string) => {
    if (startup.has(output)) return;
    startup.add(output);
    for (const i of meta.outputs[output]!.imports) if (i.kind === "import-statement" && !i.external) visit(i.path);
  };
  visit("dist/worker/worker.mjs");

  test("uploads exactly the modules the build wrote, the entry first", () => {
    const uploaded = modulesOf(bundleDir).sort();
    const built = Object.keys(meta.outputs).filter((o) => o.endsWith(".mjs")).map(rel).sort();
    expect(uploaded).toEqual(built);
    expect(uploaded).toContain("worker.mjs");
    expect(built.length).toBeGreaterThan(10);
  });

  test("no heavy SDK is reachable from the entry without a dynamic import, and they are uploaded as chunks", () => {
    const startupInputs = [...startup].flatMap((o) => Object.keys(meta.outputs[o]!.inputs));
    for (const heavy of HEAVY) expect(startupInputs.filter((input) => input.includes(heavy)), heavy).toEqual([]);
    const lazyInputs = Object.entries(meta.outputs).filter(([o]) => !startup.has(o)).flatMap(([, out]) => Object.keys(out.inputs));
    for (const heavy of ["@filoz/synapse-sdk", "@filoz/synapse-core", "/viem/", "@modelcontextprotocol/server", "/zod/", "@storacha/client"]) {
      expect(lazyInputs.some((input) => input.includes(heavy)), heavy).toBe(true);
    }
    // What an isolate compiles before its first request, in bytes of the uploaded files.
    const startupBytes = [...startup].reduce((sum, o) => sum + statSync(join(bundleDir, rel(o))).size, 0);
    const allBytes = modulesOf(bundleDir).reduce((sum, m) => sum + statSync(join(bundleDir, m)).size, 0);
    expect(startupBytes).toBeLessThan(1.5 * 1024 * 1024);
    expect(startupBytes / allBytes).toBeLessThan(0.35);
  });

  test("a lazy chunk loads in workerd: MCP initialize through wrangler dev of the split build", async () => {
    const response = await fetch(`${endpoint}/mcp`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", Accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "build-test", version: "1" } } }),
    });
    expect(response.status).toBe(200);
    const text = await response.text();
    const data = JSON.parse(text.split("\n").find((line) => line.startsWith("data: "))!.slice("data: ".length)) as { id: number; result: { serverInfo: { name: string } } };
    expect(data.id).toBe(1);
    expect(data.result.serverInfo.name).toBe("ipfs-kit-edge");
  });
});
