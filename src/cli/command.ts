import type { Output } from "./output";

export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
  /** Shown in --help; `<value>` names the argument. */
  description: string;
  value?: string;
}

export type OptionValues = Record<string, string | boolean | string[] | boolean[] | undefined>;

export interface CommandContext {
  args: string[];
  options: OptionValues;
  out: Output;
}

/**
 * One `ipfs-kit` command. `run` writes its result through `out.result` and
 * returns the exit status (0, or 1 when it found problems, e.g. `car verify`).
 */
export interface Command {
  /** Words after `ipfs-kit`, e.g. "car create". */
  name: string;
  summary: string;
  /** Positional arguments as shown in usage, e.g. "<car> <dir>". */
  usage: string;
  minArgs: number;
  maxArgs: number;
  options: Record<string, OptionSpec>;
  /** Longer help text (what it does, the --json shape). */
  details?: string;
  examples: string[];
  run(ctx: CommandContext): Promise<number>;
}
