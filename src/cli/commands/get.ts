import { createWriteStream } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { CarIndex } from "../../car/car-index";
import { BlockError } from "../../car/check-block";
import { extractUnixfs } from "../../car/extract";
import { CarInputError, describeFsError } from "../../car/file-stream";
import { openCar } from "../../car/open-car";
import { fileBytes, resolveUnixfsPath, walkUnixfs } from "../../car/unixfs-walk";
import { CliFailure, UsageError } from "../cli-error";
import type { Command } from "../command";
import { carPath, downloadVerifiedCar } from "../fetch-car";
import { parseCid } from "../parse-values";
import { ServiceClient } from "../service-client";
import { resolveService, serviceOptions } from "../service-config";
import { withTempDir } from "../temp-dir";

/** "<cid>[/path]" or "/ipfs/<cid>[/path]" → CID and path segments. */
export function parseContentPath(text: string): { cid: ReturnType<typeof parseCid>; segments: string[] } {
  const parts = text.replace(/^\/ipfs\//, "").split("/").filter((s) => s !== "");
  if (parts.length === 0) throw new UsageError("expected <cid>[/path]");
  for (const s of parts.slice(1)) if (s === "." || s === "..") throw new UsageError(`path segment "${s}" is not allowed`);
  return { cid: parseCid(parts[0]!), segments: parts.slice(1) };
}

export const get: Command = {
  name: "get",
  summary: "download content through the service's gateway, verified block by block",
  usage: "<cid>[/path]",
  minArgs: 1,
  maxArgs: 1,
  options: {
    output: { type: "string", short: "o", value: "path", description: "where to write (default: ./<last path segment or cid>; - for stdout, files only)" },
    "no-verify": { type: "boolean", description: "plain download of a file (GET /ipfs/<cid>/<path>), no verification" },
    ...serviceOptions,
  },
  details:
    "Fetches a CAR (application/vnd.ipld.car, dag-scope=all) and checks every block's hash as it arrives, then writes the file or directory from the verified blocks (directories as with car extract: nothing escapes, symlinks never followed). No token needed. --json: {cid, path, root, type, output, bytes, blocks, verified}.",
  examples: ["ipfs-kit get bafy... -o photo.jpg", "ipfs-kit get bafy.../docs -o ./docs", "ipfs-kit get bafy.../index.html -o - | less", "ipfs-kit get bafy... --no-verify -o file.bin"],
  async run({ args, options, out }) {
    const { cid, segments } = parseContentPath(args[0]!);
    const client = new ServiceClient(await resolveService(options, false));
    const output = (options.output as string | undefined) ?? segments.at(-1) ?? cid.toString();
    if (output === "-" && out.json) throw new UsageError("--json writes its result on stdout: give -o a path");
    if (options["no-verify"]) {
      const response = await client.request(`/ipfs/${cid}${segments.map((s) => `/${encodeURIComponent(s)}`).join("")}`, { auth: false });
      const progress = out.progress("downloading", Number(response.headers.get("Content-Length")) || undefined);
      const counted = Readable.fromWeb(response.body as never).on("data", (chunk: Buffer) => progress.add(chunk.length));
      await writeStream(counted, output);
      progress.end();
      out.result({ cid: cid.toString(), path: segments.join("/"), root: null, type: "file", output, bytes: progress.bytes, blocks: 0, verified: false });
      return 0;
    }
    return withTempDir(async (dir) => {
      const carFile = join(dir, "get.car");
      const handle = await open(carFile, "w+");
      const progress = out.progress("downloading");
      let fetched;
      try {
        fetched = await downloadVerifiedCar(client, carPath(cid, segments), handle, progress);
      } finally {
        await handle.close();
      }
      progress.end();
      const car = await openCar(carFile);
      try {
        const index = await CarIndex.build(car);
        const getBlock = (c: Parameters<typeof index.get>[0]) => index.get(c);
        const root = await resolveUnixfsPath(getBlock, cid, segments);
        const first = await walkUnixfs(getBlock, root).next();
        const entry = first.value!;
        let bytes = 0;
        if (entry.type === "file") {
          const stream = Readable.from(fileBytes(getBlock, entry.cid, entry.node, entry.bytes));
          stream.on("data", (chunk: Uint8Array) => (bytes += chunk.length));
          await writeStream(stream, output);
        } else if (entry.type === "directory") {
          if (output === "-") throw new UsageError(`${args[0]} is a directory: give -o a directory path`);
          bytes = (await extractUnixfs(getBlock, root, output)).bytes;
        } else if (entry.type === "symlink") {
          throw new CliFailure(`${args[0]} is a symlink to ${JSON.stringify(entry.target)}; symlinks are not followed`, "bad-input");
        } else {
          throw new CliFailure(`${args[0]} is not UnixFS (codec 0x${root.code.toString(16)}): nothing to write`, "bad-input");
        }
        out.result({ cid: cid.toString(), path: segments.join("/"), root: root.toString(), type: entry.type, output, bytes, blocks: fetched.blocks, verified: true });
        if (output !== "-") out.info(`${root}: ${bytes} bytes written to ${output} (${fetched.blocks} blocks verified)`);
        return 0;
      } catch (err) {
        if (err instanceof BlockError) throw new CliFailure(`${err.message} (the gateway's CAR is incomplete)`, `block-${err.problem}`);
        if (err instanceof CarInputError) throw new CliFailure(err.message, "bad-input");
        throw err;
      } finally {
        await car.close();
      }
    });
  },
};

async function writeStream(stream: Readable, output: string): Promise<void> {
  if (output === "-") {
    await pipeline(stream, process.stdout, { end: false });
    return;
  }
  try {
    await pipeline(stream, createWriteStream(output, { flags: "wx" }));
  } catch (err) {
    const code = (err as { code?: string }).code ?? "";
    if (/^E[A-Z]+$/.test(code) && code !== "ECONNRESET" && code !== "EPIPE") throw new CliFailure(`cannot write ${output}: ${describeFsError(err)}`, "bad-output");
    throw new CliFailure(`the download of ${output} broke off: ${(err as Error).message}`, "unreachable");
  }
}
