/**
 * Where a command's output goes (docs/cli.md "Conventions"): data on stdout,
 * messages and progress on stderr; with `--json` exactly one JSON value on
 * stdout (written by `result`), and nothing else there.
 */
export class Output {
  readonly json: boolean;
  #resultWritten = false;

  constructor(json: boolean) {
    this.json = json;
  }

  /** The command's result: `value` with --json, else `text` (if any) on stdout. */
  result(value: unknown, text?: string): void {
    if (this.#resultWritten) throw new Error("a command writes one result");
    this.#resultWritten = true;
    if (this.json) process.stdout.write(`${JSON.stringify(value)}\n`);
    else if (text !== undefined && text !== "") process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
  }

  /** A data line on stdout while streaming (not with --json, where the result carries it). */
  line(text: string): void {
    if (!this.json) process.stdout.write(`${text}\n`);
  }

  /** A message for the person at the terminal (stderr). */
  info(message: string): void {
    process.stderr.write(`${message}\n`);
  }

  /** A progress bar for `label` over `total` bytes (undefined if unknown); drawn only on a terminal outside CI. */
  progress(label: string, total?: number): Progress {
    return new Progress(label, total, Boolean(process.stderr.isTTY) && !process.env.CI);
  }
}

/** Bytes, rate and ETA on one redrawn stderr line (at most 10 redraws a second); silent when not drawn. */
export class Progress {
  #done = 0;
  #lastDraw = 0;
  readonly #start = performance.now();

  constructor(
    readonly label: string,
    readonly total: number | undefined,
    readonly draw: boolean,
  ) {}

  add(n: number): void {
    this.#done += n;
    if (!this.draw) return;
    const now = performance.now();
    if (now - this.#lastDraw < 100) return;
    this.#lastDraw = now;
    this.#render(now);
  }

  get bytes(): number {
    return this.#done;
  }

  /** Seconds since the start. */
  get seconds(): number {
    return (performance.now() - this.#start) / 1000;
  }

  end(): void {
    if (!this.draw) return;
    this.#render(performance.now());
    process.stderr.write("\n");
  }

  #render(now: number): void {
    const secs = Math.max((now - this.#start) / 1000, 1e-3);
    const rate = this.#done / secs;
    let line = `${this.label} ${formatBytes(this.#done)}`;
    if (this.total) {
      const pct = Math.min(100, (100 * this.#done) / this.total);
      const width = 24;
      const fill = Math.round((pct / 100) * width);
      const eta = rate > 0 ? Math.max(0, (this.total - this.#done) / rate) : 0;
      line = `${this.label} [${"#".repeat(fill)}${"-".repeat(width - fill)}] ${pct.toFixed(0)}% ${formatBytes(this.#done)}/${formatBytes(this.total)} ${formatBytes(rate)}/s ETA ${eta.toFixed(0)}s`;
    } else {
      line += ` ${formatBytes(rate)}/s`;
    }
    process.stderr.write(`\r${line}\x1b[K`);
  }
}

export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}
