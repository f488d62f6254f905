/**
 * What the test upstream saw, per personality, so tests can assert how the
 * worker used its upstreams (which were asked, what, and who was aborted).
 * Entries are live: a response still streaming shows its progress so far.
 */
export interface RequestLogEntry {
  personality: string;
  method: string;
  /** Path and query, as received. */
  url: string;
  accept: string | null;
  /** 0 until the response headers are sent. */
  status: number;
  /** Body bytes handed to the socket so far (the last ones may still be in its buffer). */
  bytesSent: number;
  /** The client went away before the response ended. */
  aborted: boolean;
  /** The exchange is over (ended, aborted, or the server cut it). */
  closed: boolean;
}

export class RequestLog {
  #entries: RequestLogEntry[] = [];

  start(personality: string, method: string, url: string, accept: string | null): RequestLogEntry {
    const entry: RequestLogEntry = { personality, method, url, accept, status: 0, bytesSent: 0, aborted: false, closed: false };
    this.#entries.push(entry);
    return entry;
  }

  entries(personality?: string): RequestLogEntry[] {
    const selected = personality === undefined ? this.#entries : this.#entries.filter((entry) => entry.personality === personality);
    return selected.map((entry) => ({ ...entry }));
  }

  /** Forgets the entries of one personality, or all of them. */
  reset(personality?: string): void {
    this.#entries = personality === undefined ? [] : this.#entries.filter((entry) => entry.personality !== personality);
  }
}
