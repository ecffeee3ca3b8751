/**
 * /metrics: Prometheus text with ragql's counters, after real operations over HTTP and WebSocket.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnswerStreamDocument, IngestDocumentsDocument, SearchDocument } from '../generated/graphql.ts';
import { dataOf } from '../support/graphql-client.ts';
import { type RagqlInstance, startRagql, temporaryDataDir } from '../support/ragql-instance.ts';
import { collect, subscriptionClient } from '../support/subscription-clients.ts';

/** The value of one sample, by metric name and exact labels, from Prometheus's text format. */
function sample(text: string, name: string, labels: Record<string, string>): number | null {
  const wanted = Object.entries(labels)
    .map(([key, value]) => `${key}="${value}"`)
    .sort();
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = (match[2] ?? '').split(',').sort();
    if (JSON.stringify(present) === JSON.stringify(wanted)) return Number(match[3]);
  }
  return null;
}

describe('/metrics', () => {
  const dataDir = temporaryDataDir();
  let ragql: RagqlInstance;
  const scrape = async () => {
    const response = await fetch(new URL('/metrics', ragql.server.graphqlUrl));
    expect(response.headers.get('content-type')).toContain('text/plain');
    return response.text();
  };

  beforeAll(async () => {
    ragql = await startRagql(dataDir.path);
    dataOf(
      await ragql.execute(IngestDocumentsDocument, {
        documents: [{ id: 'tides', content: 'The moon pulls the tides.' }],
      }),
    );
  });
  afterAll(async () => {
    await ragql?.stop();
    dataDir.remove();
  });

  it('counts operations by name, type and outcome, with their durations', async () => {
    dataOf(await ragql.execute(SearchDocument, { query: 'moon' }));
    dataOf(await ragql.execute(SearchDocument, { query: 'tides' }));
    expect(
      (await ragql.execute(SearchDocument, { query: 'moon', limit: -1 })).errors?.[0]?.extensions?.code,
    ).toBe('BAD_USER_INPUT');
    const text = await scrape();
    expect(
      sample(text, 'ragql_graphql_operations_total', {
        operation: 'Search',
        type: 'query',
        outcome: 'success',
      }),
    ).toBe(2);
    expect(
      sample(text, 'ragql_graphql_operations_total', {
        operation: 'Search',
        type: 'query',
        outcome: 'error',
      }),
    ).toBe(1);
    expect(
      sample(text, 'ragql_graphql_operations_total', {
        operation: 'IngestDocuments',
        type: 'mutation',
        outcome: 'success',
      }),
    ).toBe(1);
    expect(
      sample(text, 'ragql_graphql_operation_duration_seconds_count', {
        operation: 'Search',
        type: 'query',
        outcome: 'success',
      }),
    ).toBe(2);
    expect(text).toContain('ragql_process_resident_memory_bytes');
  });

  it('tracks subscriptions while they stream and counts them when they end', async () => {
    const client = subscriptionClient('websocket', ragql.server.graphqlUrl);
    try {
      await collect(client.subscribe(AnswerStreamDocument, { question: 'What pulls the tides?' }));
    } finally {
      await client.dispose();
    }
    const text = await scrape();
    expect(
      sample(text, 'ragql_graphql_operations_total', {
        operation: 'AnswerStream',
        type: 'subscription',
        outcome: 'success',
      }),
    ).toBe(1);
    expect(/^ragql_active_subscriptions (\S+)$/m.exec(text)?.[1]).toBe('0');
  });
});
