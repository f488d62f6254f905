import type { Command, OptionSpec } from "./command";

export function mainHelp(commands: Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  return [
    "ipfs-kit: pin, fetch and verify IPFS content with an ipfs-kit-edge service; build and check CAR files locally.",
    "",
    "Usage: ipfs-kit <command> [options]   (ipfs-kit <command> --help for its options and examples)",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    "",
    "Service: --endpoint <url> or IPFS_KIT_URL; token from --token, IPFS_KIT_TOKEN or",
    "$XDG_CONFIG_HOME/ipfs-kit/config.json (mode 0600), in that order.",
    "Every command takes --json (one JSON value on stdout). Exit status: 0 ok, 1 failure, 2 usage error.",
    "",
    "Examples:",
    "  ipfs-kit car create ./site -o site.car",
    "  ipfs-kit car verify site.car",
    "  ipfs-kit pin add ./site --name site",
    "  ipfs-kit get bafy.../index.html -o index.html",
    "",
  ].join("\n");
}

export function commandHelp(command: Command, globals: Record<string, OptionSpec>): string {
  const options = { ...command.options, ...globals };
  const rows = Object.entries(options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : "    "}--${name}${o.type === "string" ? ` <${o.value ?? "value"}>` : ""}${o.multiple ? "..." : ""}`;
    return [flag, o.description] as const;
  });
  const width = Math.max(...rows.map(([f]) => f.length)) + 2;
  return [
    `ipfs-kit ${command.name}: ${command.summary}`,
    "",
    `Usage: ipfs-kit ${command.name}${command.usage ? ` ${command.usage}` : ""} [options]`,
    ...(command.details ? ["", wrap(command.details)] : []),
    "",
    "Options:",
    ...rows.map(([f, d]) => `  ${f.padEnd(width)}${d}`),
    "",
    "Examples:",
    ...command.examples.map((e) => `  ${e}`),
    "",
  ].join("\n");
}

function wrap(text: string, width = 78): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line && line.length + word.length + 1 > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join("\n");
}
