import { BACKEND_MODULES } from "./backend-types";
import { backendConfigs, BackendConfigError, secretName } from "./backend-config";
import { BackendError, type ReplicationBackend } from "./replication-backend";

const instances = new Map<string, Promise<ReplicationBackend>>();

/**
 * The backend configured as `name`, built by its type's factory (loaded
 * with a dynamic `import()`), one instance per isolate and configuration.
 * Throws BackendError `permanent` for an unknown name, a type missing from
 * this build or a malformed configuration: none gets better by retrying.
 */
export async function loadBackend(env: Env, name: string): Promise<ReplicationBackend> {
  let configs;
  try {
    configs = backendConfigs(env);
  } catch (err) {
    throw new BackendError("permanent", err instanceof BackendConfigError ? err.message : "BACKENDS cannot be read");
  }
  const config = configs.get(name);
  if (config === undefined) throw new BackendError("permanent", `no backend named "${name}" is configured`);
  const key = `${name}\n${JSON.stringify(config)}`;
  let instance = instances.get(key);
  if (instance === undefined) {
    instance = (async () => {
      const module = await BACKEND_MODULES[config.type]();
      const vars = env as unknown as Record<string, unknown>;
      return module.create({
        name,
        settings: config.settings,
        secret: (field) => {
          const value = vars[secretName(name, field)];
          return typeof value === "string" && value !== "" ? value : undefined;
        },
        env,
      });
    })();
    instances.set(key, instance);
    instance.catch(() => instances.delete(key));
  }
  try {
    return await instance;
  } catch (err) {
    if (err instanceof BackendError) throw err;
    throw new BackendError("permanent", err instanceof Error ? err.message : String(err));
  }
}
