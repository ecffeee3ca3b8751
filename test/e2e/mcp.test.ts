/**
 * The MCP door over Streamable HTTP, through the official SDK's own client: tool discovery, each
 * tool, ragql's refusals as MCP tool errors carrying its codes, two API keys' tenants (and
 * sessions) kept apart as over GraphQL, and a cancelled answer cancelling its model call.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/access/api-keys.ts';
import { schema } from '../../src/schema/index.ts';
import { withAuthentication, withStandinChat } from '../support/ragql-environment.ts';
import { useRagql } from '../support/use-ragql.ts';
import { useOpenAIStandin } from '../support/use-standin.ts';

const acme = createApiKey();
const globex = createApiKey();
const thrifty = createApiKey();

describe('the MCP server', () => {
  const standin = useOpenAIStandin();
  const ragql = useRagql((dataDir) => ({
    ...withAuthentication(dataDir, {
      apiKeys: [
        { tenant: 'acme', tier: 'pro', hash: acme.hash },
        { tenant: 'globex', tier: 'pro', hash: globex.hash },
        { tenant: 'thrifty', tier: 'free', hash: thrifty.hash },
      ],
    }),
    ...withStandinChat(standin),
    // Only this site's pages may call from a browser (clients that are not browsers send no Origin).
    RAGQL_CORS_ORIGINS: 'https://app.example',
  }));
  const clients: Client[] = [];
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
  });

  async function connect(key: string | null): Promise<Client> {
    const url = new URL('/mcp', ragql.server.graphqlUrl);
    const transport = new StreamableHTTPClientTransport(url, {
      requestInit: key ? { headers: { authorization: `Bearer ${key}` } } : {},
    });
    const client = new Client({ name: 'ragql-test', version: '1.0.0' });
    await client.connect(transport);
    clients.push(client);
    return client;
  }

  const call = async (client: Client, name: string, args: Record<string, unknown>) =>
    (await client.callTool({ name, arguments: args })) as {
      isError?: boolean;
      structuredContent?: Record<string, unknown>;
      content: { type: string; text: string }[];
    };

  it('lists its tools, with their input schemas', async () => {
    const { tools } = await (await connect(acme.key)).listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual([
      'answer',
      'delete_document',
      'get_document',
      'ingest_documents',
      'list_documents',
      'search',
    ]);
    expect(tools.find((tool) => tool.name === 'search')?.inputSchema.required).toEqual(['query']);
  });

  it("takes each tool's arguments as its GraphQL field's: the same names, enums and input objects", async () => {
    const { tools } = await (await connect(acme.key)).listTools();
    const inputOf = (name: string) =>
      tools.find((tool) => tool.name === name)?.inputSchema as {
        properties: Record<string, { enum?: string[]; anyOf?: { enum?: string[]; properties?: object }[] }>;
        required?: string[];
      };
    const argsOf = (root: 'Query' | 'Mutation', field: string) =>
      (root === 'Query' ? schema.getQueryType() : schema.getMutationType())
        ?.getFields()
        [field]?.args.map((arg) => arg.name)
        .sort();
    expect(Object.keys(inputOf('search').properties).sort()).toEqual(argsOf('Query', 'search'));
    expect(Object.keys(inputOf('answer').properties).sort()).toEqual(argsOf('Query', 'answer'));
    expect(Object.keys(inputOf('ingest_documents').properties)).toEqual(['documents']);
    expect(JSON.stringify(inputOf('search').properties.fusion)).toContain('"RANKED","RELATIVE_SCORE"');
    expect(JSON.stringify(inputOf('search').properties.reranker)).toContain('"options"');
    expect(inputOf('answer').required).toEqual(['question']);
  });

  it('searches with a retriever and a reranker chosen by name, and refuses what GraphQL refuses', async () => {
    const client = await connect(acme.key);
    await call(client, 'ingest_documents', {
      documents: [
        { id: 'quay', content: 'Boats moor at the north quay.' },
        { id: 'dock', content: 'Boats are repaired in the dry dock.' },
      ],
    });
    const found = await call(client, 'search', {
      query: 'boats',
      fusion: 'RANKED',
      retriever: { name: 'hybrid' },
      reranker: { name: 'mmr' },
    });
    expect(found.isError).toBeFalsy();
    expect(
      ((found.structuredContent?.hits ?? []) as { documentId: string }[]).map((hit) => hit.documentId).sort(),
    ).toEqual(['dock', 'quay']);
    const unknownPlugin = await call(client, 'search', {
      query: 'boats',
      reranker: { name: 'no-such-reranker' },
    });
    expect(unknownPlugin.structuredContent).toMatchObject({ code: 'BAD_USER_INPUT' });
    const tooMany = await call(client, 'list_documents', { first: 101 });
    expect(tooMany.structuredContent).toEqual({
      code: 'BAD_USER_INPUT',
      message: 'first must be from 1 to 100; got 101',
    });
    for (const id of ['quay', 'dock']) await call(client, 'delete_document', { id });
  });

  it("refuses a call that costs more than the caller's tier allows, as GraphQL does", async () => {
    const client = await connect(thrifty.key);
    const modest = await call(client, 'search', { query: 'boats' });
    expect(modest.isError).toBeFalsy();
    const costly = await call(client, 'search', {
      query: 'boats',
      limit: 200,
      reranker: { name: 'mmr', candidates: 1000 },
    });
    expect(costly.structuredContent).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(costly.content[0]?.text).toMatch(/The free tier allows a cost of 600\.$/);
  });

  it('counts every tool call in /metrics, by tool and outcome', async () => {
    const client = await connect(acme.key);
    await call(client, 'list_documents', {});
    await call(client, 'search', { query: '   ' });
    const metrics = await (await fetch(new URL('/metrics', ragql.server.graphqlUrl))).text();
    const count = (tool: string, outcome: string) =>
      Number(
        new RegExp(`ragql_mcp_tool_calls_total\\{tool="${tool}",outcome="${outcome}"\\} (\\d+)`).exec(
          metrics,
        )?.[1] ?? 0,
      );
    expect(count('list_documents', 'success')).toBeGreaterThan(0);
    expect(count('search', 'error')).toBeGreaterThan(0);
    expect(metrics).toContain(
      'ragql_mcp_tool_call_duration_seconds_bucket{le="0.005",tool="list_documents",outcome="success"}',
    );
  });

  it("ingests, searches, answers, reads, lists and deletes the caller's documents", async () => {
    const client = await connect(acme.key);
    const documents = [{ id: 'tides', title: 'Tides', content: 'The moon pulls the tides twice a day.' }];
    const ingested = await call(client, 'ingest_documents', { documents });
    expect(ingested.structuredContent).toMatchObject({
      created: 1,
      documents: [{ id: 'tides', status: 'CREATED' }],
    });

    const found = await call(client, 'search', { query: 'moon tides' });
    expect(found.structuredContent?.hits).toMatchObject([{ documentId: 'tides', chunkId: 'tides#0' }]);

    const answered = await call(client, 'answer', { question: 'What pulls the tides?' });
    expect(answered.structuredContent?.text).toEqual(expect.stringContaining('[1]'));
    expect(answered.structuredContent?.citations).toMatchObject([{ marker: 1, documentId: 'tides' }]);

    const read = await call(client, 'get_document', { id: 'tides' });
    expect(read.structuredContent).toMatchObject({
      document: { id: 'tides', title: 'Tides', chunks: [{ id: 'tides#0' }] },
    });
    expect((await call(client, 'list_documents', {})).structuredContent).toEqual({
      documents: [{ id: 'tides', title: 'Tides' }],
    });
    expect((await call(client, 'delete_document', { id: 'tides' })).structuredContent).toEqual({
      deleted: true,
    });
    expect((await call(client, 'get_document', { id: 'tides' })).structuredContent).toEqual({
      document: null,
    });
  });

  it("takes a document as large as GraphQL does, past the SDK's own 4 MiB", async () => {
    const sentence = 'The moon pulls the tides twice a day, and the harbour freezes in winter. ';
    const content = sentence.repeat(Math.ceil((4.5 * 1024 * 1024) / sentence.length));
    const ingested = await call(await connect(acme.key), 'ingest_documents', {
      documents: [{ id: 'large', content }],
    });
    expect(ingested.isError).toBeFalsy();
    expect(ingested.structuredContent).toMatchObject({ created: 1 });
  }, 60_000);

  it("keeps one key's tenant from another's documents", async () => {
    const owner = await connect(acme.key);
    await call(owner, 'ingest_documents', {
      documents: [{ id: 'harbour', content: 'The harbour freezes in winter.' }],
    });
    const other = await connect(globex.key);
    expect((await call(other, 'search', { query: 'harbour freezes' })).structuredContent).toMatchObject({
      hits: [],
    });
    expect((await call(other, 'get_document', { id: 'harbour' })).structuredContent).toEqual({
      document: null,
    });
  });

  it('cancels a long answer, and with it the model call, when the client cancels the tool call', async () => {
    const client = await connect(acme.key);
    await call(client, 'ingest_documents', {
      documents: [{ id: 'sea', content: 'The sea rises and falls.' }],
    });
    standin.scriptNextChat({
      tokens: Array.from({ length: 50 }, (_, index) => `word${index} `),
      tokenDelayMs: 100,
    });
    const before = standin.chatStreams.length;
    const cancel = new AbortController();
    const answering = client.callTool(
      { name: 'answer', arguments: { question: 'When does the sea rise?' } },
      undefined,
      {
        signal: cancel.signal,
      },
    );
    await expect
      .poll(() => standin.chatStreams[before]?.tokensSent ?? 0, { timeout: 5000 })
      .toBeGreaterThan(0);
    cancel.abort();
    await expect(answering).rejects.toThrow();
    const stream = standin.chatStreams[before];
    await stream?.closed;
    expect(stream?.closedEarly).toBe(true);
    expect(stream?.tokensSent).toBeLessThan(50);
  });

  it('does not let another key use a session', async () => {
    const url = new URL('/mcp', ragql.server.graphqlUrl);
    const transport = new StreamableHTTPClientTransport(url, {
      requestInit: { headers: { authorization: `Bearer ${acme.key}` } },
    });
    const client = new Client({ name: 'ragql-test', version: '1.0.0' });
    await client.connect(transport);
    clients.push(client);
    expect(transport.sessionId).toEqual(expect.any(String));
    const hijack = await fetch(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${globex.key}`,
        'mcp-session-id': transport.sessionId ?? '',
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 99,
        method: 'tools/call',
        params: { name: 'list_documents', arguments: {} },
      }),
    });
    expect(hijack.status).toBe(404);
  });

  it("answers bad input with a tool error carrying ragql's code", async () => {
    const result = await call(await connect(acme.key), 'search', { query: '   ' });
    expect(result.isError).toBe(true);
    expect(result.content[0]?.text).toMatch(/^BAD_USER_INPUT: /);
    expect(result.structuredContent).toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('refuses a call a browser page on a site not listed makes', async () => {
    const response = await fetch(new URL('/mcp', ragql.server.graphqlUrl), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${acme.key}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        origin: 'https://elsewhere.example',
        'sec-fetch-site': 'cross-site',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(response.status).toBe(403);
  });

  it('refuses a client without an API key', async () => {
    await expect(connect(null)).rejects.toThrow(/401|API key/);
  });
});
