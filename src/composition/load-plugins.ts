import { readdir } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { builtinPlugins } from '../../plugins/builtins.ts';
import { importDefaultExport } from '../module-default-export.ts';
import { PluginDefinitionError, PluginRegistry } from '../plugin-api/registry.ts';
import type { PluginSettings } from './config.ts';

/**
 * Module files a plugin folder may hold. Node strips the types of TypeScript ones, as it does
 * ragql's own, and takes a file outside any package for an ES module by its import/export syntax.
 */
const moduleExtensions = new Set(['.js', '.mjs', '.ts', '.mts']);

/**
 * The registry of a server: the built-ins, then the config file's plugins, then each module of
 * the plugins folder (its default export: one plugin, or an array of them), in file-name order.
 * Any module that fails to load or exports an invalid plugin stops the start with an error
 * naming the file.
 */
export async function createPluginRegistry(
  settings: PluginSettings,
  configFile?: { path: string; plugins: readonly unknown[] },
): Promise<PluginRegistry> {
  const registry = new PluginRegistry();
  for (const plugin of builtinPlugins(settings)) registry.register(plugin, 'built-in');
  for (const plugin of configFile?.plugins ?? []) registry.register(plugin, resolve(configFile?.path ?? ''));
  if (settings.directory) await registerFolder(registry, resolve(settings.directory));
  return registry;
}

async function registerFolder(registry: PluginRegistry, directory: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch (error) {
    throw new PluginDefinitionError(`Cannot read the plugins folder ${directory}: ${messageOf(error)}`);
  }
  const files = names
    .filter(
      (name) => moduleExtensions.has(extname(name)) && !name.endsWith('.d.ts') && !name.includes('.test.'),
    )
    .sort();
  for (const name of files) {
    const file = join(directory, name);
    const exported = await importDefaultExport(
      file,
      (reason) => new PluginDefinitionError(`Cannot load the plugin module ${file}: ${reason}`),
    );
    if (exported === undefined) {
      throw new PluginDefinitionError(`The plugin module ${file} has no default export.`);
    }
    const plugins = Array.isArray(exported) ? exported : [exported];
    for (const plugin of plugins) registry.register(plugin, file);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
