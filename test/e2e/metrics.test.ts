/**
 * /metrics: Prometheus text with ragql's counters, after real operations over HTTP and WebSocket.
 */
import { createClient } from 'graphql-ws';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/access/api-keys.ts';
import { defaultTiers } from '../../src/access/tiers.ts';
import { AnswerStreamDocument, IngestDocumentsDocument, SearchDocument } from '../generated/graphql.ts';
import { answerStreamEvents } from '../support/answer-stream-events.ts';
import { dataOf, graphqlClient } from '../support/graphql-client.ts';
import { withAuthentication } from '../support/ragql-environment.ts';
import { collect, subscriptionClient } from '../support/subscription-clients.ts';
import { useRagql } from '../support/use-ragql.ts';
import { useOpenAIStandin } from '../support/use-standin.ts';

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
  const scrape = async () => {
    const response = await fetch(new URL('/metrics', ragql.server.graphqlUrl));
    expect(response.headers.get('content-type')).toContain('text/plain');
    return response.text();
  };

  const ragql = useRagql({ RAGQL_METRICS_OPERATION_NAMES: 'on' });
  beforeAll(async () => {
    dataOf(
      await ragql.execute(IngestDocumentsDocument, {
        documents: [{ id: 'tides', content: 'The moon pulls the tides.' }],
      }),
    );
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

/** Five searches of 200 hits each: over the cost the test's `open` tier allows. */
const costlySearches = Array.from(
  { length: 5 },
  (_, index) => `s${index}: search(query: "moon", limit: 200) { hits { score chunk { content } } }`,
).join(' ');

describe('/metrics for operations refused or failed', () => {
  const open = createApiKey();
  const tiny = createApiKey();
  const standin = useOpenAIStandin();
  const operations = async (labels: Record<string, string>) => {
    const text = await (await fetch(new URL('/metrics', ragql.server.graphqlUrl))).text();
    return sample(text, 'ragql_graphql_operations_total', labels);
  };
  /** POSTs a GraphQL document as written, valid or not. */
  const post = async (query: string, apiKey = open.key) => {
    const response = await fetch(ragql.server.graphqlUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json',
        authorization: `Bearer ${apiKey}`,
      },
      body: JSON.stringify({ query }),
    });
    return { status: response.status, ...((await response.json()) as { errors?: unknown[] }) };
  };

  const ragql = useRagql((dataDir) => ({
    RAGQL_METRICS_OPERATION_NAMES: 'on',
    ...withAuthentication(dataDir, {
      tiers: {
        // No fallback to the extractive model: a model failure ends the stream in AnswerFailed.
        open: { ...defaultTiers.enterprise, maxQueryCost: 600, fallbacks: [] },
        tiny: { requestsPerMinute: 1, tokensPerDay: 1000, concurrentStreams: 1 },
      },
      apiKeys: [
        { tenant: 'acme', tier: 'open', hash: open.hash },
        { tenant: 'acme', tier: 'tiny', hash: tiny.hash },
      ],
    }),
    RAGQL_ANSWER_CACHE: 'off',
    RAGQL_CHAT_MAX_ATTEMPTS: '1',
    RAGQL_GENERATOR: 'openai',
    RAGQL_CHAT_MODEL: 'gpt-4o-mini',
    OPENAI_BASE_URL: standin.baseURL,
  }));
  beforeAll(async () => {
    dataOf(
      await graphqlClient(ragql.server.graphqlUrl, open.key)(IngestDocumentsDocument, {
        documents: [{ id: 'tides', content: 'The moon pulls the tides.' }],
      }),
    );
  });

  it('counts as refused every operation stopped before it ran, whatever stopped it', async () => {
    // Twice each: Yoga caches a document's parse and validation results, and the second must count too.
    for (let attempt = 0; attempt < 2; attempt++) {
      expect((await post('query Unparsable { search(')).status).toBe(400);
      expect((await post('query Invalid { noSuchField }')).status).toBe(400);
      expect((await post(`query Costly { ${costlySearches} }`)).status).toBe(400);
      expect((await post('query Anonymous { serverInfo { version } }', 'rq_no-such-key')).status).toBe(401);
    }
    expect((await post('query Limited { serverInfo { version } }', tiny.key)).status).toBe(200);
    expect((await post('query Limited { serverInfo { version } }', tiny.key)).status).toBe(429);

    expect(await operations({ operation: 'anonymous', type: 'unknown', outcome: 'refused' })).toBe(4);
    expect(await operations({ operation: 'Invalid', type: 'query', outcome: 'refused' })).toBe(2);
    expect(await operations({ operation: 'Costly', type: 'query', outcome: 'refused' })).toBe(2);
    expect(await operations({ operation: 'Limited', type: 'query', outcome: 'success' })).toBe(1);
    expect(await operations({ operation: 'Limited', type: 'query', outcome: 'refused' })).toBe(1);
    expect(await operations({ operation: 'Costly', type: 'query', outcome: 'error' })).toBeNull();
  });

  it('counts a parse failure over WebSocket as refused too', async () => {
    const before = (await operations({ operation: 'anonymous', type: 'unknown', outcome: 'refused' })) ?? 0;
    const client = createClient({
      url: ragql.server.graphqlUrl.replace(/^http/, 'ws'),
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${open.key}` },
    });
    try {
      await expect(
        collect(client.iterate({ query: 'subscription Unparsable { answerStream(' })),
      ).rejects.toEqual([expect.objectContaining({ extensions: { code: 'GRAPHQL_PARSE_FAILED' } })]);
    } finally {
      await client.dispose();
    }
    expect(await operations({ operation: 'anonymous', type: 'unknown', outcome: 'refused' })).toBe(
      before + 1,
    );
  });

  it('counts a subscription whose answer ends in AnswerFailed as an error', async () => {
    standin.failNext(500);
    const client = subscriptionClient('websocket', ragql.server.graphqlUrl, open.key);
    try {
      const events = answerStreamEvents(
        await collect(client.subscribe(AnswerStreamDocument, { question: 'What pulls the tides?' })),
      );
      expect(events.at(-1)?.__typename).toBe('AnswerFailed');
    } finally {
      await client.dispose();
    }
    expect(await operations({ operation: 'AnswerStream', type: 'subscription', outcome: 'error' })).toBe(1);
    expect(
      await operations({ operation: 'AnswerStream', type: 'subscription', outcome: 'success' }),
    ).toBeNull();
  });
});

describe('/metrics by default', () => {
  const ragql = useRagql();

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
  const token = 'metrics-token-for-the-scraper';
  const scrape = (authorization?: string) =>
    fetch(new URL('/metrics', ragql.server.graphqlUrl), {
      headers: authorization === undefined ? {} : { authorization },
    });

  const ragql = useRagql({ RAGQL_METRICS_TOKEN: token });

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
