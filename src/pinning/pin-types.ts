/** PSA `Status` (ipfs-pinning-service.yaml components.schemas.Status). */
export type PinState = "queued" | "pinning" | "pinned" | "failed";
export const PIN_STATES: readonly PinState[] = ["queued", "pinning", "pinned", "failed"];

/** PSA `TextMatchingStrategy`. */
export type TextMatch = "exact" | "iexact" | "partial" | "ipartial";
export const TEXT_MATCHES: readonly TextMatch[] = ["exact", "iexact", "partial", "ipartial"];

/** A validated PSA `Pin` object (`cid` as the client wrote it). */
export type PinInput = {
  cid: string;
  name?: string;
  origins: string[];
  meta: Record<string, string>;
};

/** One pin as the registry reports it; `created` in ms since the epoch (unique per account). */
export type PinRecord = {
  requestid: string;
  status: PinState;
  created: number;
  pin: PinInput;
  info: Record<string, string>;
};

/** Validated `GET /pins` filters (PSA components.parameters). */
export type PinFilter = {
  /** Root CIDs, normalised to CIDv1 strings. */
  cids?: string[];
  name?: string;
  match: TextMatch;
  status: PinState[];
  before?: number;
  after?: number;
  limit: number;
  meta?: Record<string, string>;
};

/** Per-account limits; unset ones fall back to the wrangler vars. */
export type AccountLimits = {
  maxPins: number;
  maxBytes: number;
  /** A pin whose DAG cannot be had by `created + deadlineMs` fails. */
  deadlineMs: number;
  /** Pins fetched at once. */
  maxConcurrent: number;
  /** Blocks one alarm step may write before it yields (resumable steps). */
  stepBlocks: number;
};

/** Failures the registry reports to the worker (RPC cannot carry HttpError classes). */
export type RegistryFailure = { failure: "not_found" | "insufficient_funds" | "bad_request"; message: string };

export function isFailure(value: unknown): value is RegistryFailure {
  return typeof value === "object" && value !== null && "failure" in value;
}
