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

describe('/metrics with operation names', () => {
  const dataDir = temporaryDataDir();
  let ragql: RagqlInstance;
  const scrape = async () => {
    const response = await fetch(new URL('/metrics', ragql.server.graphqlUrl));
    expect(response.headers.get('content-type')).toContain('text/plain');
    return response.text();
  };

  beforeAll(async () => {
    ragql = await startRagql(dataDir.path, { RAGQL_METRICS_OPERATION_NAMES: 'on' });
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

describe('/metrics by default', () => {
  const dataDir = temporaryDataDir();
  let ragql: RagqlInstance;

  beforeAll(async () => {
    ragql = await startRagql(dataDir.path);
  });
  afterAll(async () => {
    await ragql?.stop();
    dataDir.remove();
  });

  it("labels operations 'hidden': their names are the clients' own words", async () => {
    dataOf(await ragql.execute(SearchDocument, { query: 'moon' }));
    const text = await (await fetch(new URL('/metrics', ragql.server.graphqlUrl))).text();
    expect(
      sample(text, 'ragql_graphql_operations_total', {
        operation: 'hidden',
        type: 'query',
        outcome: 'success',
      }),
    ).toBe(1);
    expect(text).not.toContain('Search');
  });
});

describe('/metrics with RAGQL_METRICS_TOKEN', () => {
  const dataDir = temporaryDataDir();
  const token = 'metrics-token-for-the-scraper';
  let ragql: RagqlInstance;
  const scrape = (authorization?: string) =>
    fetch(new URL('/metrics', ragql.server.graphqlUrl), {
      headers: authorization === undefined ? {} : { authorization },
    });

  beforeAll(async () => {
    ragql = await startRagql(dataDir.path, { RAGQL_METRICS_TOKEN: token });
  });
  afterAll(async () => {
    await ragql?.stop();
    dataDir.remove();
  });

  it('answers 401, with nothing of the metrics, without the token or with another one', async () => {
    for (const authorization of [
      undefined,
      'Bearer not-the-token',
      `Bearer ${token}x`,
      `Basic ${token}`,
      token,
    ]) {
      const response = await scrape(authorization);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect(await response.text()).not.toContain('ragql_');
    }
  });

  it('serves the metrics to a scraper that sends the token as a bearer token', async () => {
    const response = await scrape(`Bearer ${token}`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('ragql_graphql_operations_total');
  });

  it('keeps GraphQL and /healthz as they were', async () => {
    expect((await fetch(new URL('/healthz', ragql.server.graphqlUrl))).status).toBe(200);
    dataOf(await ragql.execute(SearchDocument, { query: 'moon' }));
  });
});
