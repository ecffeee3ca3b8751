import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/composition/config.ts';
import { loadConfigFile } from '../../src/composition/config-file.ts';
import { createPluginRegistry } from '../../src/composition/load-plugins.ts';
import { RagqlError } from '../../src/errors.ts';
import { definePlugin, pluginApiVersion, z } from '../../src/plugin-api/index.ts';
import { PluginDefinitionError, PluginRegistry } from '../../src/plugin-api/registry.ts';

const echo = definePlugin({
  name: 'echo',
  kind: 'retriever',
  version: '1.0.0',
  description: 'Returns nothing.',
  options: z.object({ depth: z.number().int().default(1) }),
  create: () => ({ retrieve: async () => ({ candidates: [] }) }),
});

/** The default plugin settings, as a server without plugin variables has them. */
const settings = loadConfig({}).plugins;

describe('the plugin registry', () => {
  const folders: string[] = [];
  afterEach(() => {
    for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
  });

  it('refuses a second plugin of the same name, naming where each came from', () => {
    const registry = new PluginRegistry();
    registry.register(echo, 'built-in');
    expect(() => registry.register({ ...echo, kind: 'reranker' }, 'my-plugins/echo.ts')).toThrow(
      'Plugin "echo" (my-plugins/echo.ts) is already registered as a retriever',
    );
  });

  it('refuses an invalid definition, listing every problem', () => {
    const registry = new PluginRegistry();
    const attempt = () =>
      registry.register({ name: 'Bad Name', kind: 'ranker', options: { depth: 1 } }, 'plugins/bad.ts');
    expect(attempt).toThrow(PluginDefinitionError);
    expect(attempt).toThrow(
      'Plugin "Bad Name" (plugins/bad.ts) is invalid: its name must be 1 to 64 lowercase letters, digits and -; its kind must be one of retriever, reranker; it needs a version; it needs a description; its options must be a zod object schema (z.object); it needs a create function.',
    );
  });

  it('takes a plugin written for this plugin API version, and refuses one written for another', () => {
    const registry = new PluginRegistry();
    registry.register({ ...echo, apiVersion: pluginApiVersion }, 'built-in');
    expect(() =>
      registry.register({ ...echo, name: 'future', apiVersion: pluginApiVersion + 1 }, 'plugins/future.ts'),
    ).toThrow(
      `Plugin "future" (plugins/future.ts) is invalid: it was written for plugin API version ${pluginApiVersion + 1}; this server has ${pluginApiVersion}.`,
    );
  });

  it('checks options strictly and fills in defaults', () => {
    const registry = new PluginRegistry();
    registry.register(echo);
    const plugin = registry.get('retriever', 'echo');
    expect(registry.parseOptions(plugin, undefined)).toEqual({ depth: 1 });
    let error: unknown;
    try {
      registry.parseOptions(plugin, { depth: 1.5, extra: true });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(RagqlError);
    expect((error as RagqlError).code).toBe('BAD_USER_INPUT');
    expect((error as RagqlError).details?.problems).toHaveLength(2);
  });

  it('loads each module of the plugins folder, and names a module that exports none', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'ragql-plugins-'));
    folders.push(folder);
    const api = JSON.stringify(join(process.cwd(), 'src/plugin-api/index.ts'));
    writeFileSync(
      join(folder, 'one.ts'),
      `import { definePlugin, z } from ${api};
export default definePlugin({ name: 'one', kind: 'reranker', version: '1', description: 'One.', options: z.object({}),
  create: () => ({ rerank: async (_query, candidates) => ({ candidates: [...candidates] }) }) });`,
    );
    writeFileSync(join(folder, 'notes.md'), 'not a module');
    const registry = await createPluginRegistry({ ...settings, directory: folder });
    expect(registry.list('reranker').map((plugin) => plugin.name)).toEqual(['cross-encoder', 'mmr', 'one']);

    writeFileSync(join(folder, 'two.ts'), 'export const two = 2;');
    await expect(createPluginRegistry({ ...settings, directory: folder })).rejects.toThrow(
      `The plugin module ${join(folder, 'two.ts')} has no default export.`,
    );
  });

  it('registers the plugins of the config file, naming the file when it is wrong', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'ragql-config-'));
    folders.push(folder);
    const root = JSON.stringify(process.cwd());
    const configFile = join(folder, 'ragql.config.ts');
    writeFileSync(
      configFile,
      `import { join } from 'node:path';
const { defineConfig } = await import(join(${root}, 'src/composition/config-file.ts'));
const { definePlugin, z } = await import(join(${root}, 'src/plugin-api/index.ts'));
export default defineConfig({ plugins: [definePlugin({ name: 'from-config', kind: 'retriever', version: '1',
  description: 'Configured.', options: z.object({}), create: () => ({ retrieve: async () => ({ candidates: [] }) }) })] });`,
    );
    const { plugins } = await loadConfigFile(configFile);
    const registry = await createPluginRegistry(settings, { path: configFile, plugins });
    expect(registry.get('retriever', 'from-config').description).toBe('Configured.');

    const broken = join(folder, 'broken.config.ts');
    writeFileSync(
      broken,
      'export default { plugins: "hybrid", apiKeys: [{ hash: "md5:1", tenant: "a", tier: "gold" }] };',
    );
    const problems = await loadConfigFile(broken).catch((error: Error) => error.message);
    expect(problems).toContain(`The config file ${broken} is invalid:`);
    expect(problems).toContain('plugins: ');
    expect(problems).toContain('apiKeys.0.hash: must be sha256:<64 hex digits>');
  });
});
