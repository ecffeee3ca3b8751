/**
 * A plugin's model calls go through the same gateway as answers: the caller's tier chooses the
 * model, its token budget pays (reserved before the call), the tenant's usage and the token
 * metrics count them; plugins nest at most `maxPluginDepth` deep and make at most
 * `maxPluginModelCalls` calls per request.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/access/api-keys.ts';
import { maxPluginDepth, maxPluginModelCalls } from '../../src/rag/retrieval.ts';
import {
  AnswerDocument,
  IngestDocumentsDocument,
  PluginSearchDocument,
  UsageDocument,
} from '../generated/graphql.ts';
import { dataOf, graphqlClient } from '../support/graphql-client.ts';
import { withAuthentication, withStandinChat } from '../support/ragql-environment.ts';
import { useRagql } from '../support/use-ragql.ts';
import { useOpenAIStandin } from '../support/use-standin.ts';

const documents = Array.from({ length: 12 }, (_, index) => ({
  id: `tides-${index}`,
  content: `The moon pulls the tides, note ${index}. The harbour freezes in winter.`,
}));

/** contextual-compression around contextual-compression ... around `hybrid`, `levels` deep. */
function nestedCompression(levels: number): { name: string; options?: Record<string, unknown> } {
  let retriever: { name: string; options?: Record<string, unknown> } = { name: 'hybrid' };
  for (let level = 1; level < levels; level++) {
    retriever = {
      name: 'contextual-compression',
      options: { base: retriever.name, ...(retriever.options ? { baseOptions: retriever.options } : {}) },
    };
  }
  return retriever;
}

describe('plugin model calls through the gateway (the OpenAI stand-in)', () => {
  const keys = { broke: createApiKey(), extractive: createApiKey(), metered: createApiKey() };
  const standin = useOpenAIStandin();
  const as = (key: { key: string }) => graphqlClient(ragql.server.graphqlUrl, key.key);
  const chatCalls = () => standin.chatStreams.length;

  const tier = { requestsPerMinute: 1000, concurrentStreams: 5 };
  const ragql = useRagql((dataDir) => ({
    ...withAuthentication(dataDir, {
      tiers: {
        broke: { ...tier, tokensPerDay: 50 },
        extractiveOnly: { ...tier, tokensPerDay: 1_000_000, models: ['extractive'] },
        metered: { ...tier, tokensPerDay: 1_000_000 },
      },
      apiKeys: [
        { tenant: 'broke', tier: 'broke', hash: keys.broke.hash },
        { tenant: 'frugal', tier: 'extractiveOnly', hash: keys.extractive.hash },
        { tenant: 'metered', tier: 'metered', hash: keys.metered.hash },
      ],
    }),
    RAGQL_ANSWER_CACHE: 'off',
    ...withStandinChat(standin),
  }));
  beforeAll(async () => {
    for (const key of Object.values(keys)) dataOf(await as(key)(IngestDocumentsDocument, { documents }));
  });

  it('refuses a multi-query search once the budget is spent, before asking the model', async () => {
    // One answer (about 80 tokens) spends the 50 of the day.
    expect(
      (await as(keys.broke)(AnswerDocument, { question: 'What pulls the tides?' })).errors,
    ).toBeUndefined();
    const before = chatCalls();
    const refused = await as(keys.broke)(PluginSearchDocument, {
      query: 'tides',
      retriever: { name: 'multi-query' },
    });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', limit: 'tokens' });
    expect(refused.status).toBe(429);
    expect(chatCalls()).toBe(before);
  });

  it('gives plugins no LLM when the tier allows only the extractive model', async () => {
    const before = chatCalls();
    const { search } = dataOf(
      await as(keys.extractive)(PluginSearchDocument, { query: 'tides', retriever: { name: 'multi-query' } }),
    );
    expect(chatCalls()).toBe(before);
    expect(search.trace[0]?.details).toMatchObject({ fallback: expect.stringContaining('no LLM') });
  });

  it("counts a plugin's tokens in the tenant's usage and in ragql_llm_tokens_total", async () => {
    standin.scriptNextChat({ reply: 'moon tides\nharbour winter\nsea level' });
    const { search } = dataOf(
      await as(keys.metered)(PluginSearchDocument, { query: 'tides', retriever: { name: 'multi-query' } }),
    );
    expect(search.trace[0]?.details).toMatchObject({
      queries: ['tides', 'moon tides', 'harbour winter', 'sea level'],
    });
    const { usage } = dataOf(await as(keys.metered)(UsageDocument, {}));
    const model = usage.at(-1)?.models.find((entry) => entry.model === 'standin-chat');
    expect(model?.totalTokens).toBeGreaterThan(0);
    const metrics = await (await fetch(new URL('/metrics', ragql.server.graphqlUrl))).text();
    const prompt = metrics.match(
      /ragql_llm_tokens_total\{model="standin-chat",tier="metered",kind="prompt"\} (\d+)/,
    );
    expect(Number(prompt?.[1])).toBe(model?.promptTokens);
  });

  it(`refuses retrievers nested deeper than ${maxPluginDepth}, before any model call`, async () => {
    const allowed = dataOf(
      await as(keys.metered)(PluginSearchDocument, {
        query: 'tides',
        limit: 1,
        retriever: nestedCompression(maxPluginDepth),
      }),
    );
    expect(allowed.search.trace.map((step) => step.plugin)).toEqual([
      'hybrid',
      'contextual-compression',
      'contextual-compression',
    ]);
    const before = chatCalls();
    const refused = await as(keys.metered)(PluginSearchDocument, {
      query: 'tides',
      limit: 1,
      retriever: nestedCompression(maxPluginDepth + 1),
    });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', maxPluginDepth });
    expect(chatCalls()).toBe(before);
  });

  it(`refuses a request whose plugins would ask the model more than ${maxPluginModelCalls} times`, async () => {
    const before = chatCalls();
    const refused = await as(keys.metered)(PluginSearchDocument, {
      query: 'tides',
      limit: 10,
      alpha: 0,
      retriever: { name: 'contextual-compression', options: { method: 'llm' } },
    });
    expect(refused.errors?.[0]?.extensions).toMatchObject({
      code: 'RATE_LIMITED',
      limit: 'pluginModelCalls',
      maxPluginModelCalls,
    });
    // The refusal ends the request while the calls it let through may still be starting.
    expect(chatCalls() - before).toBeLessThanOrEqual(maxPluginModelCalls);
  });
});

describe('contextual compression on the zero-setup default (no LLM, no embedder)', () => {
  const ragql = useRagql();
  beforeAll(async () => {
    dataOf(await ragql.execute(IngestDocumentsDocument, { documents }));
  });

  it('returns the base hits uncompressed with its default options, and says why', async () => {
    const { search } = dataOf(
      await ragql.execute(PluginSearchDocument, {
        query: 'tides',
        limit: 2,
        retriever: { name: 'contextual-compression' },
      }),
    );
    expect(search.hits.map((hit) => hit.chunk.content)).toEqual(
      search.hits.map((hit) => documents.find((document) => document.id === hit.chunk.document.id)?.content),
    );
    expect(search.hits).toHaveLength(2);
    expect(search.trace.at(-1)?.details).toMatchObject({ method: 'none', fallback: expect.any(String) });
  });

  it('refuses a method the server cannot run with BAD_USER_INPUT naming the option', async () => {
    for (const method of ['llm', 'embeddings']) {
      const refused = await ragql.execute(PluginSearchDocument, {
        query: 'tides',
        retriever: { name: 'contextual-compression', options: { method } },
      });
      expect(refused.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        plugin: 'contextual-compression',
        option: 'method',
      });
    }
  });
});
