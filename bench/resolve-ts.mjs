/**
 * Lets Node run the bench's TypeScript and the test servers it reuses
 * (`test/servers/*.ts`), whose relative imports have no extension (they are
 * written for vitest/esbuild's bundler resolution): a relative import from a
 * `.ts` file that Node cannot find is retried with `.ts`.
 * Loaded with `node --import ./bench/resolve-ts.mjs`.
 */
import { registerHooks } from "node:module";

registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (error) {
      const relative = specifier.startsWith("./") || specifier.startsWith("../");
      if (error?.code !== "ERR_MODULE_NOT_FOUND" || !relative || !context.parentURL?.endsWith(".ts")) throw error;
      return nextResolve(`${specifier}.ts`, context);
    }
  },
});
