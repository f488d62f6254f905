/** A command line that cannot be run as written: exit status 2, with a hint to `--help`. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Something that failed (input, service, network): exit status 1, one line naming what and what to do. */
export class CliFailure extends Error {
  constructor(
    message: string,
    /** Machine-readable kind for `--json` (`{"error":{"kind","message"}}`). */
    readonly kind = "failure",
  ) {
    super(message);
    this.name = "CliFailure";
  }
}
