/**
 * Runs the local Storacha service (storacha-server.ts) in its own Node
 * process: `test/global-setup.ts` spawns it with
 * `node --import ./bench/resolve-ts.mjs test/servers/storacha-server-main.ts <gatewayBase>`
 * because the upload-api test context (hundreds of small ESM modules) is
 * imported natively there, not through vitest's transform. The uploaded
 * DAGs' blocks go to the trustless gateway at `<gatewayBase>/__blocks`; the
 * first stdout line is `{ base, fixture }` as JSON. SIGTERM closes it.
 */
import { Server } from "node:http";
import { CarWriter } from "@ipld/car";
import type { CID } from "multiformats/cid";
import { startStorachaServer } from "./storacha-server";

// The maintainers' test context starts its storage nodes and stores with `server.listen(callback)`, which binds
// every interface; in this process every server binds 127.0.0.1 only (their URLs already name 127.0.0.1/localhost).
const listen = Server.prototype.listen;
Server.prototype.listen = function (this: Server, ...args: unknown[]) {
  const onLocal = listen as (this: Server, port: number, host: string, callback?: () => void) => Server;
  if (args.length === 0 || typeof args[0] === "function") return onLocal.call(this, 0, "127.0.0.1", args[0] as (() => void) | undefined);
  return listen.apply(this, args as Parameters<typeof listen>);
} as typeof listen;

const gatewayBase = process.argv[2];
if (!gatewayBase) throw new Error("usage: storacha-server-main.ts <trustless gateway base URL>");

const blocks: { cid: CID; bytes: Uint8Array }[] = [];
const server = await startStorachaServer({ addBlock: (cid, bytes) => void blocks.push({ cid, bytes }) });
// One CARv1 of every block to the gateway's control endpoint.
const { writer, out } = CarWriter.create([blocks[0]!.cid]);
const parts: Uint8Array[] = [];
const collecting = (async () => {
  for await (const part of out) parts.push(part);
})();
for (const block of blocks) await writer.put(block);
await writer.close();
await collecting;
const put = await fetch(`${gatewayBase}/__blocks`, { method: "PUT", body: Buffer.concat(parts) });
if (!put.ok) throw new Error(`PUT ${gatewayBase}/__blocks: ${put.status}`);
process.stdout.write(JSON.stringify({ base: server.base, fixture: server.fixture }) + "\n");
process.on("SIGTERM", () => {
  void server.close().finally(() => process.exit(0));
});
