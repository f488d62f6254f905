#!/usr/bin/env node
/**
 * `ipfs-kit`: the command line of ipfs-kit-edge (docs/cli.md). Parses the
 * command words and options, runs the command, maps failures to exit
 * statuses (0 ok, 1 failure, 2 usage) with one line on stderr (and one
 * JSON value on stdout with --json).
 */
import { parseArgs } from "node:util";
import { CarInputError } from "../car/file-stream";
import { CliFailure, UsageError } from "./cli-error";
import { COMMANDS } from "./commands";
import type { Command, OptionSpec } from "./command";
import { commandHelp, mainHelp } from "./help";
import { Output } from "./output";

const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  json: { type: "boolean", description: "print exactly one JSON value on stdout (shapes in docs/cli.md)" },
  help: { type: "boolean", short: "h", description: "show help" },
};

async function main(argv: string[]): Promise<number> {
  const json = argv.includes("--json");
  const out = new Output(json);
  let command: Command | undefined;
  try {
    const words = commandWords(argv);
    command = findCommand(words);
    if (!command) {
      if (argv.length === 0 || argv.includes("--help") || argv.includes("-h") || argv[0] === "help") {
        process.stdout.write(mainHelp(COMMANDS));
        return argv.length === 0 ? 2 : 0;
      }
      if (argv.includes("--version")) {
        process.stdout.write("ipfs-kit 0.1.0\n");
        return 0;
      }
      const group = COMMANDS.filter((c) => c.name.startsWith(`${words[0]} `));
      if (group.length > 0 && (argv.includes("--help") || argv.includes("-h") || words.length === 1)) {
        process.stdout.write(mainHelp(group));
        return words.length === 1 && !argv.includes("--help") && !argv.includes("-h") ? 2 : 0;
      }
      throw new UsageError(`unknown command "${words.slice(0, 2).join(" ")}"`);
    }
    const rest = removeWords(argv, command.name.split(" "));
    const options = { ...GLOBAL_OPTIONS, ...command.options };
    let parsed: { values: Record<string, unknown>; positionals: string[] };
    try {
      parsed = parseArgs({ args: rest, options: options as never, allowPositionals: true, strict: true }) as never;
    } catch (err) {
      throw new UsageError((err as Error).message.split("\n")[0]!.replace(/\. To specify a positional argument.*$/, ""));
    }
    if (parsed.values.help) {
      process.stdout.write(commandHelp(command, GLOBAL_OPTIONS));
      return 0;
    }
    const args = parsed.positionals;
    if (args.length < command.minArgs) throw new UsageError(`missing argument: ipfs-kit ${command.name} ${command.usage}`);
    if (args.length > command.maxArgs) throw new UsageError(`too many arguments: ipfs-kit ${command.name} ${command.usage}`);
    return await command.run({ args, options: parsed.values as never, out });
  } catch (caught) {
    const err = caught instanceof CarInputError ? new CliFailure(caught.message, "bad-input") : caught;
    const usage = err instanceof UsageError;
    const failure = err instanceof CliFailure;
    const message = usage || failure ? (err as Error).message : `unexpected error: ${(err as Error)?.stack ?? String(err)}`;
    const hint = usage ? ` (see: ipfs-kit ${command ? `${command.name} ` : ""}--help)` : "";
    process.stderr.write(`ipfs-kit: ${message}${hint}\n`);
    if (json) process.stdout.write(`${JSON.stringify({ error: { kind: usage ? "usage" : failure ? err.kind : "internal", message: (err as Error).message } })}\n`);
    return usage ? 2 : 1;
  }
}

/** The non-option arguments, skipping the values of options that take one (`--endpoint URL pin ls`). */
function commandWords(argv: string[]): string[] {
  const takesValue = new Set<string>();
  for (const c of COMMANDS) {
    for (const [name, o] of Object.entries(c.options)) {
      if (o.type !== "string") continue;
      takesValue.add(`--${name}`);
      if (o.short) takesValue.add(`-${o.short}`);
    }
  }
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith("-") && a !== "-") {
      if (!a.includes("=") && takesValue.has(a)) i++;
      continue;
    }
    words.push(a);
  }
  return words;
}

/** The longest command whose words appear, in order, at the start of the non-option words. */
function findCommand(words: string[]): Command | undefined {
  let best: Command | undefined;
  for (const c of COMMANDS) {
    const parts = c.name.split(" ");
    if (parts.every((p, i) => words[i] === p) && (!best || parts.length > best.name.split(" ").length)) best = c;
  }
  return best;
}

/** argv without the command's words (their first occurrences as non-options). */
function removeWords(argv: string[], words: string[]): string[] {
  const rest = [...argv];
  for (const w of words) {
    const i = rest.findIndex((a) => a === w);
    if (i >= 0) rest.splice(i, 1);
  }
  return rest;
}

process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  // A closed pipe (`ipfs-kit car blocks x.car | head`) is the reader's choice, not a failure.
  if (err.code === "EPIPE") process.exit(0);
  throw err;
});

const code = await main(process.argv.slice(2));
// Open file handles or idle watchdogs must not keep a finished command alive.
process.exit(code);
