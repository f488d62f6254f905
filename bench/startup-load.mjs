/**
 * Child of bench/startup.ts: in a fresh V8 (this Node process), compiles,
 * links and evaluates a Worker's entry module and every module it imports
 * statically, as an isolate does before its first request, and prints the
 * milliseconds that took as JSON. `cloudflare:workers` is a stand-in
 * exporting empty base classes (the entry only extends them at start);
 * a Node built-in the bundle imports is Node's own.
 * Usage: node --experimental-vm-modules bench/startup-load.mjs <entry.mjs|.js>
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import vm from "node:vm";

const require = createRequire(import.meta.url);
const entry = resolve(process.argv[2]);
const context = vm.createContext({ ...globalThis, console, crypto, TextEncoder, TextDecoder, URL, Response, Request, Headers, ReadableStream, WritableStream, TransformStream, navigator: { userAgent: "Cloudflare-Workers" } });
const modules = new Map();
let bytes = 0;
let compileMs = 0;

function load(path) {
  let module = modules.get(path);
  if (module) return module;
  const source = readFileSync(path, "utf8");
  bytes += Buffer.byteLength(source);
  const t = performance.now();
  module = new vm.SourceTextModule(source, { identifier: path, context, importModuleDynamically: () => { throw new Error("no dynamic import at start-up"); } });
  compileMs += performance.now() - t;
  modules.set(path, module);
  return module;
}

const workersStub = new vm.SyntheticModule(["DurableObject", "WorkerEntrypoint", "WorkflowEntrypoint", "env"], function () {
  for (const name of ["DurableObject", "WorkerEntrypoint", "WorkflowEntrypoint"]) this.setExport(name, class {});
  this.setExport("env", {});
}, { context });

const start = performance.now();
const root = load(entry);
await root.link((specifier, referencing) => {
  if (specifier.startsWith("cloudflare:")) return workersStub;
  if (specifier.endsWith(".wasm")) return new vm.SyntheticModule(["default"], function () { this.setExport("default", null); }, { context });
  // A Node built-in (wrangler's single file leaves `fs`, `stream`, `crypto` to workerd's Node compatibility): Node's own.
  if (!specifier.startsWith(".") && !specifier.startsWith("/")) {
    const builtin = require(specifier);
    const names = Object.keys(builtin).filter((name) => name !== "default");
    return new vm.SyntheticModule(["default", ...names], function () {
      this.setExport("default", builtin);
      for (const name of names) this.setExport(name, builtin[name]);
    }, { context });
  }
  return load(resolve(dirname(referencing.identifier), specifier));
});
await root.evaluate();
const totalMs = performance.now() - start;
console.log(JSON.stringify({ modules: modules.size, bytes, compileMs, totalMs }));
