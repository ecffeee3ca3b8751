/**
 * A whole session with every secret ragql holds in play (a client's API key, the provider key, a
 * provider error that quotes it), logged at the most verbose level: no log line contains any of
 * them.
 */
import { describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/access/api-keys.ts';
import {
  AnswerDocument,
  AnswerStreamDocument,
  IngestDocumentsDocument,
  SearchDocument,
} from '../generated/graphql.ts';
import { dataOf, graphqlClient } from '../support/graphql-client.ts';
import { withAuthentication } from '../support/ragql-environment.ts';
import { collect, subscriptionClient } from '../support/subscription-clients.ts';
import { useRagql } from '../support/use-ragql.ts';
import { useOpenAIStandin } from '../support/use-standin.ts';

describe('the logs of a whole session', () => {
  const clientKey = createApiKey();
  const providerKey = 'sk-provider-secret-0123456789abcdef';
  const standin = useOpenAIStandin({ dimensions: 32 });

  const ragql = useRagql((dataDir) => ({
    LOG_LEVEL: 'trace',
    ...withAuthentication(dataDir, { apiKeys: [{ tenant: 'acme', tier: 'pro', hash: clientKey.hash }] }),
    RAGQL_EMBEDDER: 'openai',
    RAGQL_EMBEDDING_MODEL: 'standin-embedding',
    RAGQL_EMBEDDING_DIMENSIONS: '32',
    RAGQL_GENERATOR: 'openai',
    RAGQL_CHAT_MODEL: 'standin-chat',
    OPENAI_API_KEY: providerKey,
    OPENAI_BASE_URL: standin.baseURL,
  }));

  it('never contains a client key, a provider key, or a provider error quoting one', async () => {
    const execute = graphqlClient(ragql.server.graphqlUrl, clientKey.key);
    dataOf(
      await execute(IngestDocumentsDocument, {
        documents: [{ id: 'tides', content: 'The moon pulls the tides.' }],
      }),
    );
    dataOf(await execute(SearchDocument, { query: 'moon tides' }));
    dataOf(await execute(AnswerDocument, { question: 'What pulls the tides?' }));
    // A provider refusal that quotes the key, as OpenAI's do.
    standin.failNext(401, {
      error: { message: `Incorrect API key provided: ${providerKey}`, type: 'invalid_request_error' },
    });
    expect((await execute(AnswerDocument, { question: 'And the sea?' })).errors?.[0]?.extensions?.code).toBe(
      'UPSTREAM_FAILED',
    );
    // Refused callers: a wrong key over HTTP, and over graphql-ws.
    await graphqlClient(ragql.server.graphqlUrl, `${clientKey.key}x`)(SearchDocument, { query: 'moon' });
    const client = subscriptionClient('websocket', ragql.server.graphqlUrl, clientKey.key);
    try {
      await collect(client.subscribe(AnswerStreamDocument, { question: 'What pulls the tides?' }));
    } finally {
      await client.dispose();
    }

    const text = ragql.logs.map((line) => JSON.stringify(line)).join('\n');
    // The refusal was logged, with its cause, but without the key it quoted.
    expect(text).toContain('Incorrect API key provided: [redacted]');
    for (const secret of [clientKey.key, providerKey, 'Bearer ']) expect(text).not.toContain(secret);
  });

  it('logs every operation once, with request id, tenant, name, outcome and latency', () => {
    const operations = ragql.logs.filter((line) => line.msg === 'operation finished');
    const search = operations.find((line) => line.operation === 'Search');
    expect(search).toMatchObject({
      tenant: 'acme',
      type: 'query',
      outcome: 'success',
      requestId: expect.any(String),
      latencyMs: expect.any(Number),
    });
    const subscription = operations.find((line) => line.type === 'subscription');
    expect(subscription).toMatchObject({ tenant: 'acme', operation: 'AnswerStream', outcome: 'success' });
    // Distinct operations, distinct request ids.
    const ids = operations.map((line) => line.requestId);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
