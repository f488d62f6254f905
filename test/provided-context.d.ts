/**
 * Values `test/global-setup.ts` provides to the tests (read with `inject()`
 * from "vitest"). Add a key here when global-setup provides a new one.
 */
import "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    /** Base URL of the local trustless-gateway server; upstreams are `${upstreamBase}/${personality}`. */
    upstreamBase: string;
  }
}
