import { type ChildProcess, execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../src/access/api-keys.ts';
import { temporaryDataDir } from '../support/ragql-instance.ts';
import { ragqlCli, spawnRagql } from '../support/ragql-process.ts';

const run = promisify(execFile);

function ragql(args: string[], environment: Record<string, string>, cwd?: string) {
  return run(process.execPath, [ragqlCli, ...args], { env: { ...process.env, ...environment }, cwd });
}

describe('the ragql command', () => {
  const workspace = temporaryDataDir();
  const environment = { RAGQL_DATA_DIR: join(workspace.path, 'data'), LOG_LEVEL: 'silent' };
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
    workspace.remove();
  });

  it('prints the schema that is checked in', async () => {
    const { stdout } = await ragql(['schema'], {});
    expect(stdout).toBe(readFileSync(join(import.meta.dirname, '../../schema.graphql'), 'utf8'));
    expect(stdout).toContain('ingestDocuments(documents: [DocumentInput!]!): IngestResult!');
  });

  it('runs its TypeScript sources on Node alone, worker threads included, with no loader', async () => {
    // `node src/cli.ts` strips the types itself; an ingestion starts the chunking and write threads.
    const docs = join(workspace.path, 'stripped');
    mkdirSync(docs);
    writeFileSync(join(docs, 'moon.md'), '# Moon\n\nThe moon pulls the tides.\n');
    const cli = join(import.meta.dirname, '../../src/cli.ts');
    const environment = {
      ...process.env,
      RAGQL_DATA_DIR: join(workspace.path, 'stripped-data'),
      LOG_LEVEL: 'silent',
    };
    const { stdout } = await run(process.execPath, [cli, 'ingest', docs], { env: environment });
    expect(stdout).toContain('Ingested 1 file: 1 created, 0 updated, 0 unchanged.');
  });

  it('creates an API key, printing it once with the config entry that holds only its hash', async () => {
    const { stdout } = await ragql(
      ['keys', 'create', '--tenant', 'acme', '--tier', 'pro', '--name', 'ci'],
      {},
    );
    const key = /API key \(shown only now; ragql keeps its hash\): (rq_[\w-]{43})\n/.exec(stdout)?.[1] ?? '';
    const entry = JSON.parse(/\n {2}(\{.*\}),\n$/.exec(stdout)?.[1] ?? 'null');
    expect(entry).toEqual({ name: 'ci', tenant: 'acme', tier: 'pro', hash: hashApiKey(key) });
    expect(stdout.split(key)).toHaveLength(2);
    await expect(ragql(['keys', 'create', '--tenant', 'not a tenant'], {})).rejects.toMatchObject({
      code: 2,
    });
  });

  it('ingests a folder of files, then finds them unchanged the second time', async () => {
    const docs = join(workspace.path, 'docs');
    mkdirSync(join(docs, 'nested'), { recursive: true });
    writeFileSync(
      join(docs, 'tides.md'),
      '# Tides\n\nTides are caused by the gravity of the moon and the sun.\n',
    );
    writeFileSync(
      join(docs, 'nested', 'page.html'),
      '<html><title>Volcanoes</title><p>Magma rises through vents.</p></html>',
    );
    writeFileSync(join(docs, 'notes.txt'), 'Plain text notes about glaciers carving valleys.');
    writeFileSync(join(docs, 'image.png'), 'not a document');

    const first = await ragql(['ingest', docs], environment, workspace.path);
    expect(first.stdout).toContain('Ingested 3 files: 3 created, 0 updated, 0 unchanged.');
    const second = await ragql(['ingest', docs], environment, workspace.path);
    expect(second.stdout).toContain('Ingested 3 files: 0 created, 0 updated, 3 unchanged.');
  });

  it('answers a question from the ingested files with a cited source', async () => {
    const { stdout } = await ragql(['ask', 'What causes tides?'], environment, workspace.path);
    expect(stdout).toContain('Tides are caused by the gravity of the moon and the sun. [1]');
    expect(stdout).toMatch(/^\[1\] Tides \(docs\/tides\.md\)$/m);
  });

  it('stops with a message naming a bad variable and what it allows', async () => {
    const failure = await ragql(['serve'], { ...environment, RAGQL_EMBEDDER: 'magic' }).catch(
      (error) => error,
    );
    expect(failure.code).toBe(1);
    expect(failure.stderr).toMatch(/RAGQL_EMBEDDER: .*"none".*"openai".*"cohere"/);
    expect(failure.stderr).not.toMatch(/\n\s+at /);
  });

  it('serves GraphQL until it is told to stop', async () => {
    const server = await spawnRagql(environment, workspace.path);
    children.push(server.child);
    const { url } = server;
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ search(query: "glaciers") { hits { chunk { document { id } } } } }' }),
    });
    const body = (await response.json()) as {
      data: { search: { hits: { chunk: { document: { id: string } } }[] } };
    };
    expect(body.data.search.hits[0]?.chunk.document.id).toBe('docs/notes.txt');
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });
});
