import { readFile, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { CliFailure, UsageError } from "./cli-error";
import type { OptionValues } from "./command";

export const serviceOptions = {
  endpoint: { type: "string", value: "url", description: "the ipfs-kit-edge service (default: IPFS_KIT_URL, then the config file)" },
  token: { type: "string", value: "token", description: "API token (default: IPFS_KIT_TOKEN, then the config file); never printed" },
} as const;

export interface Service {
  endpoint: string;
  token?: string;
  /** What named the endpoint, for the hint when it cannot be reached (default "--endpoint or IPFS_KIT_URL"). */
  endpointSource?: string;
  /** Where the token came from, for error messages (never the token itself). */
  tokenSource?: string;
}

/** `$XDG_CONFIG_HOME/ipfs-kit/config.json` (XDG Base Directory spec; `~/.config` when unset). */
export function configPath(): string {
  const base = process.env.XDG_CONFIG_HOME && process.env.XDG_CONFIG_HOME.startsWith("/") ? process.env.XDG_CONFIG_HOME : join(homedir(), ".config");
  return join(base, "ipfs-kit", "config.json");
}

/**
 * The service and token: flag, then environment (IPFS_KIT_URL,
 * IPFS_KIT_TOKEN), then the config file `{ "endpoint", "token" }`, which
 * must not be readable by group or others when it holds a token.
 */
export async function resolveService(options: OptionValues, needToken: boolean): Promise<Service> {
  const file = await readConfig();
  const endpoint = (options.endpoint as string | undefined) ?? process.env.IPFS_KIT_URL ?? file?.endpoint;
  if (!endpoint) throw new UsageError(`no service: pass --endpoint <url>, set IPFS_KIT_URL, or put "endpoint" in ${configPath()}`);
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new UsageError(`--endpoint: "${endpoint}" is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError(`--endpoint: ${url.protocol} is not http: or https:`);
  if (url.username || url.password) throw new UsageError("--endpoint: put the token in --token or IPFS_KIT_TOKEN, not in the URL");
  const base = url.toString().replace(/\/+$/, "");
  let token: string | undefined;
  let tokenSource: string | undefined;
  if (typeof options.token === "string") [token, tokenSource] = [options.token, "--token"];
  else if (process.env.IPFS_KIT_TOKEN) [token, tokenSource] = [process.env.IPFS_KIT_TOKEN, "IPFS_KIT_TOKEN"];
  else if (file?.token) [token, tokenSource] = [file.token, configPath()];
  if (needToken && !token) throw new UsageError(`no token: pass --token, set IPFS_KIT_TOKEN, or put "token" in ${configPath()} (mode 0600)`);
  if (token !== undefined && !/^[\x21-\x7e]+$/.test(token)) throw new UsageError(`the token from ${tokenSource} has characters a bearer token cannot have`);
  return { endpoint: base, token, tokenSource };
}

async function readConfig(): Promise<{ endpoint?: string; token?: string } | undefined> {
  const path = configPath();
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") return undefined;
    throw new CliFailure(`cannot read ${path}: ${(err as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CliFailure(`${path} is not valid JSON (expected {"endpoint": "https://…", "token": "…"})`);
  }
  if (value === null || typeof value !== "object") throw new CliFailure(`${path} must hold a JSON object`);
  const config = value as { endpoint?: unknown; token?: unknown };
  if (config.token !== undefined) {
    const mode = (await stat(path)).mode & 0o777;
    if (mode & 0o077) throw new CliFailure(`${path} holds a token but is readable by others (mode ${mode.toString(8)}): run chmod 600 ${path}`);
  }
  return { endpoint: typeof config.endpoint === "string" ? config.endpoint : undefined, token: typeof config.token === "string" ? config.token : undefined };
}
