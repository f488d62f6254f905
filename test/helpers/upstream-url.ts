/**
 * Where the test upstream (test/servers/trustless-gateway-server.ts, started
 * by test/global-setup.ts) listens, as seen from tests inside workerd.
 */
import { inject } from "vitest";

/** `http://127.0.0.1:PORT` of the test upstream server. */
export function upstreamBase(): string {
  return inject("upstreamBase");
}

/** Base URL of one upstream personality, e.g. `upstreamUrl("flip-byte-1")`. */
export function upstreamUrl(personality: string): string {
  return `${upstreamBase()}/${personality}`;
}

let tagCounter = 0;

/**
 * The personality with a `~tag` unique to this test file and call: it
 * behaves the same but has its own request log, so test files running at
 * the same time do not see each other's requests.
 */
export function uniquePersonality(personality: string): string {
  tagCounter++;
  return `${personality}~${crypto.randomUUID().slice(0, 8)}${tagCounter}`;
}
