import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PluginDefinition } from './plugins/api.ts';

/**
 * The optional config file (`RAGQL_CONFIG_FILE`): a module whose default export is
 * `defineConfig({ ... })`. Code rather than JSON, because it holds plugin definitions; the
 * environment variables stay the place for everything else.
 */
export interface ConfigFile {
  /** Plugins to register beside the built-ins and the plugins folder. */
  plugins?: unknown[];
}

/** Declares a config file's contents; the identity function, there for the types. */
export function defineConfig(config: { plugins?: PluginDefinition[] }): ConfigFile {
  return config;
}

/** Loads the config file; an error names the file and what is wrong with it. */
export async function loadConfigFile(path: string): Promise<ConfigFile> {
  const file = resolve(path);
  let module: { default?: unknown };
  try {
    module = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (error) {
    throw new Error(
      `Cannot load the config file ${file}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const config = module.default;
  if (typeof config !== 'object' || config === null) {
    throw new Error(`The config file ${file} must default-export defineConfig({ ... }).`);
  }
  const { plugins } = config as ConfigFile;
  if (plugins !== undefined && !Array.isArray(plugins)) {
    throw new Error(`The config file ${file}: plugins must be an array of plugin definitions.`);
  }
  return config as ConfigFile;
}
