/**
 * The fault suite: one ragql server on its own Weaviate node and its own Redis, with the OpenAI
 * stand-in as every provider, through every fault the gateway and the stores must survive. For
 * each, the client gets a typed error or a fallback answer within a bounded time, no subscription
 * hangs, no document is half ingested, and once the fault clears the server serves normally
 * without a restart. Afterwards the process holds no more handles, listeners or memory than
 * before the faults.
 */
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  AnswerStreamDocument,
  DocumentDocument,
  IngestDocumentsDocument,
  SearchDocument,
} from '../generated/graphql.ts';
import { type AnswerStreamEvent, answerStreamEvents } from '../support/answer-stream-events.ts';
import { type PrivateRedis, startPrivateRedis } from '../support/redis-server.ts';
import { collect, subscriptionClient } from '../support/subscription-clients.ts';
import { useRagql } from '../support/use-ragql.ts';
import { useOpenAIStandin } from '../support/use-standin.ts';
import { describeWithWeaviate, uniqueCollectionName } from '../support/weaviate.ts';
import { startWeaviateNode, type WeaviateNode } from '../support/weaviate-node.ts';

/** The longest any faulted request may take to reach its client. */
const boundMs = 8000;

/** A full garbage collection, then the heap in use. */
function heapAfterGc(): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

function resourceCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

describeWithWeaviate('faults', () => {
  let weaviate: WeaviateNode;
  let redis: PrivateRedis;
  let baseline: { heap: number; resources: Record<string, number>; processListeners: number };
  /** While set, the stand-in holds each embeddings request until it resolves. */
  let holdEmbeddings: (() => Promise<void>) | null = null;

  const streamAnswer = async (question: string): Promise<{ events: AnswerStreamEvent[]; ms: number }> => {
    const client = subscriptionClient('websocket', ragql.server.graphqlUrl);
    const started = performance.now();
    try {
      const results = await Promise.race([
        collect(client.subscribe(AnswerStreamDocument, { question })),
        new Promise<never>((_resolve, reject) =>
          setTimeout(() => reject(new Error('the subscription hung')), boundMs),
        ),
      ]);
      return { events: answerStreamEvents(results), ms: performance.now() - started };
    } finally {
      await client.dispose();
    }
  };
  const completedOf = (events: AnswerStreamEvent[]) => {
    const last = events.at(-1);
    if (last?.__typename !== 'AnswerCompleted') throw new Error(`ended with ${last?.__typename}`);
    return last;
  };
  const expectServing = async () => {
    // Keyword only: the stand-in's vectors carry no meaning, so a large document can outrank it there.
    const { search } = (await ragql.execute(SearchDocument, { query: 'tides moon', alpha: 0 })).data ?? {};
    expect(search?.hits[0]?.chunk.document.id).toBe('tides');
    const { events } = await streamAnswer('What pulls the tides?');
    expect(completedOf(events).routing.fallbacks).toEqual([]);
  };

  const standin = useOpenAIStandin({
    beforeEmbeddings: async () => {
      await holdEmbeddings?.();
      return undefined;
    },
  });
  beforeAll(async () => {
    weaviate = await startWeaviateNode();
    redis = await startPrivateRedis();
  }, 120_000);
  afterAll(async () => {
    await redis?.kill();
    await weaviate?.remove();
  });
  const ragql = useRagql(() => ({
    RAGQL_STORE: 'weaviate',
    WEAVIATE_URL: weaviate.httpUrl,
    WEAVIATE_GRPC_URL: weaviate.grpcAddress,
    RAGQL_WEAVIATE_COLLECTION_PREFIX: uniqueCollectionName('Faults'),
    RAGQL_EMBEDDER: 'openai',
    RAGQL_EMBEDDING_MODEL: 'standin-embedding',
    RAGQL_EMBEDDING_DIMENSIONS: '16',
    RAGQL_GENERATOR: 'openai',
    RAGQL_CHAT_MODEL: 'gpt-4o-mini',
    OPENAI_API_KEY: 'sk-faults',
    OPENAI_BASE_URL: standin.baseURL,
    REDIS_URL: redis.url,
    RAGQL_ANSWER_CACHE: 'off',
    RAGQL_CHAT_MAX_ATTEMPTS: '2',
    RAGQL_CHAT_RETRY_DELAY_MS: '10',
    RAGQL_CHAT_FIRST_TOKEN_TIMEOUT_MS: '800',
    RAGQL_CHAT_TIMEOUT_MS: '1500',
    RAGQL_CIRCUIT_THRESHOLD: '100',
  }));
  beforeAll(async () => {
    const ingested = await ragql.execute(IngestDocumentsDocument, {
      documents: [{ id: 'tides', content: 'The moon pulls the tides twice a day. The sea rises and falls.' }],
    });
    expect(ingested.errors).toBeUndefined();
    // Warm every path once, so that the baseline holds what a serving process always holds.
    await expectServing();
    await expectServing();
    baseline = {
      heap: heapAfterGc(),
      resources: resourceCounts(),
      processListeners: process.eventNames().reduce((sum, name) => sum + process.listenerCount(name), 0),
    };
  }, 120_000);

  it.each([
    [
      'the model times out before its first token',
      () => {
        standin.scriptNextChat({ hang: 'before-headers' });
        standin.scriptNextChat({ hang: 'before-headers' });
      },
      /timed out/,
    ],
    [
      'the model keeps failing with HTTP 500',
      () => {
        standin.failNext(500);
        standin.failNext(500);
      },
      /HTTP 500/,
    ],
  ] as const)('falls back to extractive when %s', async (_label, inject, reason) => {
    inject();
    const { events, ms } = await streamAnswer('What pulls the tides?');
    const completed = completedOf(events);
    expect(completed.routing).toMatchObject({
      model: 'extractive',
      fallbacks: [{ from: 'gpt-4o-mini', reason: expect.stringMatching(reason) }],
    });
    expect(completed.text).toMatch(/moon pulls the tides/);
    expect(ms).toBeLessThan(boundMs);
    await expectServing();
  });

  it('waits out a 429 with retry-after and answers from the same model', async () => {
    standin.failNext(429, undefined, { 'retry-after': '1' });
    const { events, ms } = await streamAnswer('What pulls the tides?');
    expect(completedOf(events).routing).toMatchObject({ model: 'gpt-4o-mini', fallbacks: [] });
    expect(ms).toBeGreaterThanOrEqual(1000);
    await expectServing();
  });

  it.each(['reset', 'malformed', 'hang'] as const)(
    'restarts the stream on extractive when the model breaks mid-stream (%s)',
    async (kind) => {
      standin.scriptNextChat({
        reply: 'one two three four five six',
        failAfterTokens: { count: 2, kind },
        tokenDelayMs: 10,
      });
      const { events, ms } = await streamAnswer('What pulls the tides?');
      const kinds = events.map((event) => event.__typename);
      expect(kinds.slice(0, 4)).toEqual(['AnswerSources', 'AnswerToken', 'AnswerToken', 'AnswerRestarted']);
      expect(completedOf(events).routing.fallbacks[0]).toMatchObject({
        from: 'gpt-4o-mini',
        to: 'extractive',
        afterTokens: 2,
      });
      expect(ms).toBeLessThan(boundMs);
      await expectServing();
    },
  );

  it('fails searches and answers fast with UPSTREAM_UNAVAILABLE while Weaviate is down, and serves once it is back', async () => {
    await weaviate.kill('SIGKILL');
    const started = performance.now();
    const search = await ragql.execute(SearchDocument, { query: 'tides' });
    expect(search.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
    const client = subscriptionClient('websocket', ragql.server.graphqlUrl);
    try {
      const outcome = await collect(client.subscribe(AnswerStreamDocument, { question: 'tides?' })).catch(
        (error: unknown) => error,
      );
      expect(JSON.stringify(outcome)).toMatch(/UPSTREAM_UNAVAILABLE/);
    } finally {
      await client.dispose();
    }
    expect(performance.now() - started).toBeLessThan(boundMs);
    await weaviate.restart();
    await expect
      .poll(async () => (await ragql.execute(SearchDocument, { query: 'tides' })).errors, { timeout: 30_000 })
      .toBeUndefined();
    await expectServing();
  }, 90_000);

  it('leaves no document half ingested when Weaviate is killed during an ingestion', async () => {
    const big = {
      id: 'big',
      content: Array.from(
        { length: 3000 },
        (_, index) => `Paragraph ${index} is about rivers and deltas.`,
      ).join('\n\n'),
    };
    // The ingestion's embeddings are held until Weaviate is dead, so that the kill certainly
    // falls inside the ingestion, after its reads and before its writes.
    const arrived = Promise.withResolvers<void>();
    const released = Promise.withResolvers<void>();
    holdEmbeddings = () => {
      arrived.resolve();
      return released.promise;
    };
    let finished = false;
    const ingesting = ragql.execute(IngestDocumentsDocument, { documents: [big] }).finally(() => {
      finished = true;
    });
    try {
      await arrived.promise;
      await weaviate.kill('SIGKILL');
      expect(finished).toBe(false);
    } finally {
      holdEmbeddings = null;
      released.resolve();
    }
    const killed = performance.now();
    const outcome = await ingesting;
    expect(performance.now() - killed).toBeLessThan(boundMs);
    expect(outcome.errors?.[0]?.extensions?.code).toMatch(/UPSTREAM_UNAVAILABLE|UPSTREAM_FAILED/);

    await weaviate.restart();
    await expect
      .poll(async () => (await ragql.execute(SearchDocument, { query: 'tides' })).errors, { timeout: 30_000 })
      .toBeUndefined();
    // Nothing of the refused call was kept.
    expect((await ragql.execute(DocumentDocument, { id: 'big' })).data?.document).toBeNull();
    // Each connection to Weaviate (the store's, the record of generations') trusts a readiness
    // answer for a second: the record's may still say down when searches are back.
    await expect
      .poll(async () => (await ragql.execute(IngestDocumentsDocument, { documents: [big] })).errors, {
        timeout: 30_000,
      })
      .toBeUndefined();
    const whole = (await ragql.execute(DocumentDocument, { id: 'big' })).data?.document;
    expect(whole?.chunks).toHaveLength(whole?.chunkCount ?? -1);
    expect(whole?.chunks.at(-1)?.endOffset).toBe(big.content.length);
    await expectServing();
  }, 90_000);

  it('serves without Redis while it is down (caches and limits in process), and uses it again once back', async () => {
    await redis.kill();
    const started = performance.now();
    const search = await ragql.execute(SearchDocument, { query: 'moon tides' });
    expect(search.errors).toBeUndefined();
    const { events } = await streamAnswer('What does the sea do?');
    expect(completedOf(events).text).not.toBe('');
    expect(performance.now() - started).toBeLessThan(boundMs);
    await redis.restart();
    await expectServing();
  });

  it('holds no more handles, listeners or memory than before the faults', async () => {
    // Sockets of finished requests close once their keep-alive ends.
    await expect
      .poll(
        () => {
          const now = resourceCounts();
          return Object.entries(now).filter(([type, count]) => count > (baseline.resources[type] ?? 0) + 2);
        },
        { timeout: 15_000, interval: 500 },
      )
      .toEqual([]);
    const processListeners = process.eventNames().reduce((sum, name) => sum + process.listenerCount(name), 0);
    expect(processListeners).toBeLessThanOrEqual(baseline.processListeners);
    expect(heapAfterGc()).toBeLessThan(baseline.heap + 40 * 1024 * 1024);
  }, 30_000);
});
