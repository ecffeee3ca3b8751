/**
 * A plugins folder outside ragql's repository, as an integrator keeps one: a .ts and a .js plugin
 * importing ragql's plugin API by absolute path (as docs/plugins.md says), the .ts one with a
 * helper of its own, loaded by `ragql serve` in its own process and used by a search each.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { temporaryDataDir } from '../support/ragql-instance.ts';
import { type RagqlProcess, spawnRagql } from '../support/ragql-process.ts';

const pluginApi = join(import.meta.dirname, '../../src/plugin-api/index.ts');

const typescriptPlugin = `
import { type Candidate, definePlugin, z } from ${JSON.stringify(pluginApi)};
import { keywordOnly } from './lib/keyword-only.ts';

export default definePlugin({
  name: 'outside-typescript',
  kind: 'retriever',
  version: '1.0.0',
  description: 'Keyword hits over a minimum score.',
  options: z.object({ minScore: z.number().default(0) }),
  create: (context, options) => ({
    async retrieve(query) {
      const hits: Candidate[] = await context.search(keywordOnly(query.text, query.limit));
      return { candidates: hits.filter((hit) => (hit.keywordScore ?? 0) >= options.minScore) };
    },
  }),
});
`;

const typescriptHelper = `
import type { StoreSearchQuery } from ${JSON.stringify(pluginApi)};

export function keywordOnly(text: string, limit: number): StoreSearchQuery {
  return { text, limit, alpha: 0 };
}
`;

const javascriptPlugin = `
import { definePlugin, z } from ${JSON.stringify(pluginApi)};

export default definePlugin({
  name: 'outside-javascript',
  kind: 'retriever',
  version: '1.0.0',
  description: 'Keyword hits, tagged.',
  options: z.object({}),
  create: (context) => ({
    async retrieve(query) {
      const hits = await context.search({ text: query.text, limit: query.limit, alpha: 0 });
      return { candidates: hits, details: { language: 'javascript' } };
    },
  }),
});
`;

describe('plugins in a folder outside the repository', () => {
  // No package.json anywhere above it: Node tells each file's format by its syntax.
  const folder = mkdtempSync(join(tmpdir(), 'ragql-outside-plugins-'));
  const dataDir = temporaryDataDir();
  let ragql: RagqlProcess;
  const post = async (query: string, variables?: Record<string, unknown>) => {
    const response = await fetch(ragql.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
  };

  beforeAll(async () => {
    mkdirSync(join(folder, 'lib'));
    writeFileSync(join(folder, 'typescript-plugin.ts'), typescriptPlugin);
    writeFileSync(join(folder, 'lib', 'keyword-only.ts'), typescriptHelper);
    writeFileSync(join(folder, 'javascript-plugin.js'), javascriptPlugin);
    ragql = await spawnRagql({ RAGQL_DATA_DIR: dataDir.path, RAGQL_PLUGINS_DIR: folder });
  });
  afterAll(async () => {
    ragql?.child.kill('SIGTERM');
    await ragql?.exited;
    dataDir.remove();
    rmSync(folder, { recursive: true, force: true });
  });

  it('starts with both plugins registered and serves a search through each', async () => {
    const ingested = await post(
      'mutation Ingest($documents: [DocumentInput!]!) { ingestDocuments(documents: $documents) { created } }',
      {
        documents: [
          { id: 'tides', content: 'The moon pulls the tides.' },
          { id: 'glaciers', content: 'Glaciers carve valleys.' },
        ],
      },
    );
    expect(ingested).toEqual({ data: { ingestDocuments: { created: 2 } } });
    const search = (retriever: Record<string, unknown>) =>
      post(
        'query Search($retriever: RetrieverRef) { search(query: "moon tides", retriever: $retriever) { hits { chunk { document { id } } } trace { plugin details } } }',
        { retriever },
      );
    for (const [retriever, details] of [
      [{ name: 'outside-typescript', options: { minScore: 0 } }, null],
      [{ name: 'outside-javascript' }, { language: 'javascript' }],
    ] as const) {
      const result = await search(retriever);
      expect(result.errors).toBeUndefined();
      expect(result.data?.search).toEqual({
        hits: [{ chunk: { document: { id: 'tides' } } }],
        trace: [{ plugin: retriever.name, details }],
      });
    }
    // The TypeScript plugin's options reach it: a floor above every score keeps nothing.
    const floored = await search({ name: 'outside-typescript', options: { minScore: 1 } });
    expect(floored.data?.search).toMatchObject({ hits: [] });
  });
});

describe('a TypeScript config file outside the repository', () => {
  const folder = mkdtempSync(join(tmpdir(), 'ragql-outside-config-'));
  const dataDir = temporaryDataDir();
  let ragql: RagqlProcess;

  beforeAll(async () => {
    // As docs/plugins.md writes it: the config file imports a plugin from a folder beside it.
    mkdirSync(join(folder, 'my-plugins'));
    writeFileSync(join(folder, 'my-plugins', 'javascript-plugin.js'), javascriptPlugin);
    writeFileSync(
      join(folder, 'ragql.config.ts'),
      `import { defineConfig } from ${JSON.stringify(join(import.meta.dirname, '../../src/composition/config-file.ts'))};
import plugin from './my-plugins/javascript-plugin.js';

export default defineConfig({ plugins: [plugin] });
`,
    );
    ragql = await spawnRagql({
      RAGQL_DATA_DIR: dataDir.path,
      RAGQL_CONFIG_FILE: join(folder, 'ragql.config.ts'),
    });
  });
  afterAll(async () => {
    ragql?.child.kill('SIGTERM');
    await ragql?.exited;
    dataDir.remove();
    rmSync(folder, { recursive: true, force: true });
  });

  it('starts with the plugin it registers', async () => {
    const response = await fetch(ragql.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ plugins(kind: RETRIEVER) { name } }' }),
    });
    const body = (await response.json()) as { data: { plugins: { name: string }[] } };
    expect(body.data.plugins.map((plugin) => plugin.name)).toContain('outside-javascript');
  });
});
