/**
 * `ragql mcp` over stdio, as a desktop agent starts it: the SDK's own client spawns the CLI, lists
 * the tools and uses them as the tenant it names, whose documents another tenant's never mix with.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, describe, expect, it } from 'vitest';
import { temporaryDataDir } from '../support/ragql-instance.ts';
import { ragqlCli } from '../support/ragql-process.ts';

describe('ragql mcp over stdio', () => {
  const dataDir = temporaryDataDir();
  const clients: Client[] = [];
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    dataDir.remove();
  });

  async function start(tenant: string): Promise<Client> {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [ragqlCli, 'mcp', '--tenant', tenant],
      env: { ...process.env, RAGQL_DATA_DIR: dataDir.path, LOG_LEVEL: 'warn' } as Record<string, string>,
      stderr: 'pipe',
    });
    const client = new Client({ name: 'ragql-test', version: '1.0.0' });
    await client.connect(transport);
    clients.push(client);
    return client;
  }

  it('serves the tools as the tenant it names', async () => {
    const acme = await start('acme');
    expect((await acme.listTools()).tools.map((tool) => tool.name)).toContain('answer');
    const documents = [{ id: 'tides', content: 'The moon pulls the tides twice a day.' }];
    const ingested = await acme.callTool({ name: 'ingest_documents', arguments: { documents } });
    expect(ingested.structuredContent).toMatchObject({ created: 1 });
    const found = await acme.callTool({ name: 'search', arguments: { query: 'moon tides' } });
    expect(found.structuredContent).toMatchObject({ hits: [{ documentId: 'tides' }] });

    const globex = await start('globex');
    const elsewhere = await globex.callTool({ name: 'search', arguments: { query: 'moon tides' } });
    expect(elsewhere.structuredContent).toMatchObject({ hits: [] });
  });
});
