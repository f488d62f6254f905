import { BackendError, type Json } from "./replication-backend";

/**
 * Typed reads of one backend's settings (its `BACKENDS` entry) and secrets
 * (`BACKEND_<NAME>_<FIELD>`). A missing or malformed value is a `permanent`
 * BackendError naming the setting, never its value when it is a secret.
 */
export class BackendSettings {
  readonly #name: string;
  readonly #settings: { [key: string]: Json };
  readonly #secret: (field: string) => string | undefined;

  constructor(name: string, settings: { [key: string]: Json }, secret: (field: string) => string | undefined) {
    this.#name = name;
    this.#settings = settings;
    this.#secret = secret;
  }

  string(key: string, fallback?: string): string {
    const value = this.#settings[key];
    if (typeof value === "string" && value !== "") return value;
    if (value === undefined && fallback !== undefined) return fallback;
    throw new BackendError("permanent", `backend ${this.#name}: setting "${key}" must be a non-empty string`);
  }

  optionalString(key: string): string | undefined {
    return this.#settings[key] === undefined ? undefined : this.string(key);
  }

  /** A base URL (http or https), without a trailing slash. */
  url(key: string, fallback?: string): string {
    const value = this.string(key, fallback);
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      throw new BackendError("permanent", `backend ${this.#name}: setting "${key}" is not a URL`);
    }
    if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
      throw new BackendError("permanent", `backend ${this.#name}: setting "${key}" must be an http(s) URL`);
    }
    if (parsed.search !== "" || parsed.username !== "" || parsed.password !== "") {
      throw new BackendError("permanent", `backend ${this.#name}: setting "${key}" must not carry a query or credentials (use secrets)`);
    }
    return value.replace(/\/+$/, "");
  }

  integer(key: string, fallback: number, min: number, max: number): number {
    const value = this.#settings[key] ?? fallback;
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
      throw new BackendError("permanent", `backend ${this.#name}: setting "${key}" must be an integer in [${min}, ${max}]`);
    }
    return value;
  }

  secret(field: string): string {
    const value = this.#secret(field);
    if (value === undefined || value === "") {
      const secretName = `BACKEND_${this.#name.toUpperCase().replace(/-/g, "_")}_${field}`;
      throw new BackendError("unauthorized", `backend ${this.#name}: secret ${secretName} is not set`);
    }
    return value;
  }
}
